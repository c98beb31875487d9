"""A real single-node Slurm cluster for the tests (Debian's slurm-wlm and munge).

munged (with a key and socket of its own), slurmctld and slurmd run in the
foreground, each in a process group of its own, from a slurm.conf written into a
temporary folder; ports are free ones on loopback. Clients find it through
SLURM_CONF. The teardown ends exactly these processes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.cluster.ray_cluster import free_port, stop_node

SLURM = all(shutil.which(tool) for tool in ("slurmctld", "slurmd", "munged", "sbatch"))

CONF = """\
ClusterName=llmpipetest
SlurmctldHost={host}(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
AuthType=auth/munge
AuthInfo=socket={base}/munge/sock
CredType=cred/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation={base}/state
SlurmdSpoolDir={base}/spool
SlurmctldPidFile={base}/slurmctld.pid
SlurmdPidFile={base}/slurmd.pid
SlurmctldLogFile={base}/slurmctld.log
SlurmdLogFile={base}/slurmd.log
ProctrackType=proctrack/pgid
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
SchedulerType=sched/builtin
JobCompType=jobcomp/none
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
MpiDefault=none
ReturnToService=2
MinJobAge=600
NodeName={host} NodeAddr=127.0.0.1 CPUs=2 RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
"""


@dataclass
class SlurmCluster:
    conf: Path
    processes: list[subprocess.Popen] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        return {"SLURM_CONF": str(self.conf)}


@contextlib.contextmanager
def slurm_cluster(base: Path) -> Iterator[SlurmCluster]:
    for sub in ("munge", "state", "spool"):
        (base / sub).mkdir(parents=True)
    (base / "munge").chmod(0o700)
    key = base / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    key.chmod(0o600)
    host = socket.gethostname().split(".")[0]
    conf = base / "slurm.conf"
    conf.write_text(CONF.format(host=host, base=base, ctld_port=free_port(), d_port=free_port()))
    cluster = SlurmCluster(conf)
    munge = base / "munge"
    commands = [
        ["munged", "-F", "--force", f"--socket={munge / 'sock'}", f"--key-file={key}",
         f"--pid-file={munge / 'pid'}", f"--log-file={munge / 'log'}",
         f"--seed-file={munge / 'seed'}"],
        ["slurmctld", "-D", "-f", str(conf)],
        ["slurmd", "-D", "-f", str(conf)],
    ]  # fmt: skip
    try:
        for command in commands:
            with (base / f"{command[0]}.out").open("wb") as log:
                cluster.processes.append(
                    subprocess.Popen(
                        command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
                    )
                )
            if command[0] == "munged":
                _wait_for(lambda: (munge / "sock").exists(), "munged")
        _wait_for(lambda: _node_idle(cluster), "the Slurm node to be idle")
        yield cluster
    finally:
        for process in reversed(cluster.processes):
            stop_node(process)


def _node_idle(cluster: SlurmCluster) -> bool:
    done = subprocess.run(
        ["sinfo", "-h", "-o", "%t"],
        capture_output=True,
        text=True,
        env={**os.environ, **cluster.env()},
        check=False,
    )
    return done.returncode == 0 and done.stdout.strip() in ("idle", "mix")


def _wait_for(ready, what: str, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        time.sleep(0.3)
    raise RuntimeError(f"timed out waiting for {what}")
