"""Fault injection: SIGKILL llmpipe at random moments, then check nothing was damaged.

Each scenario is a project prepared once (a template) and copied for every trial.
A trial starts the scenario's command, kills its whole process group with SIGKILL
after a random delay (within the command's measured duration), then checks:

- every object in the cache (and in the folder remote) hashes to its name;
- `dvc.lock` and the `.dvc` files parse, and every output they record is in the
  cache or the remote (nothing recorded is lost);
- `registry verify` and `audit verify` pass;
- the same command, run again, completes (a lock left held is a "stuck lock"),
  and afterwards the workspace matches what is recorded.

The full run (1,000 trials; a few minutes per hundred on 2 cores):

    python -m tests.resilience.faults --trials 1000 --json benchmarks/faults.json

The test suite runs a bounded number (tests/resilience/test_faults.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.conftest import llmpipe_env  # noqa: E402

MB = 1024 * 1024

MAKE_FILE = """\
import os, sys
path, size, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
block = (seed * 4096).encode()[:4096]
with open(path, "wb") as f:
    for i in range(size // 4096):
        f.write(block[i % 7 :] + block[: i % 7])
"""

MAKE_DIR = """\
import os, sys
path, count, seed = sys.argv[1], int(sys.argv[2]), sys.argv[3]
os.makedirs(path, exist_ok=True)
for i in range(count):
    with open(os.path.join(path, f"f{i:04d}.txt"), "w") as f:
        f.write(f"{seed} {i}\\n" * 50)
"""

PIPELINE = """\
stages:
  left:
    cmd: python make_file.py out/left.bin 2097152 ${seed}
    params: [seed]
    outs: [out/left.bin]
  right:
    cmd: python make_file.py out/right.bin 2097152 r${seed}
    params: [seed]
    outs: [out/right.bin]
  shards:
    cmd: python make_dir.py out/shards 200 ${seed}
    params: [seed]
    outs: [out/shards]
  both:
    cmd: cat out/left.bin out/right.bin > out/both.bin
    deps: [out/left.bin, out/right.bin]
    outs: [out/both.bin]
  model:
    cmd: mkdir -p model && cp out/left.bin model/weights.bin && echo seed ${seed} > model/config.txt
    deps: [out/left.bin, out/shards]
    outs: [model]
"""


@dataclass
class Env:
    """Where a run keeps things outside the projects: keys, remote, deploy target."""

    base: Path
    env: dict[str, str] = field(default_factory=dict)

    def run(self, cwd: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "llmpipe", *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def ok(self, cwd: Path, *args: str) -> str:
        result = self.run(cwd, *args)
        if result.returncode != 0:
            raise RuntimeError(f"llmpipe {' '.join(args)}: {result.stdout}{result.stderr}")
        return result.stdout

    def git(self, cwd: Path, *args: str) -> None:
        subprocess.run(["git", *args], cwd=cwd, env=self.env, check=True, capture_output=True)


@dataclass(frozen=True)
class Scenario:
    name: str
    command: tuple[str, ...]
    prepare: Callable[[Env, Path], None]
    remote: bool = False  # outputs may live in the remote instead of the cache
    # Afterwards this command must print `clean` (the workspace is what is recorded).
    after: tuple[str, ...] = ("status",)
    clean: str = "Data and pipelines are up to date."
    registry: bool = False  # `registry verify` applies
    # What the command says when run again after a first run that completed.
    already: str = "\0"


def _new_project(env: Env, path: Path) -> None:
    path.mkdir(parents=True)
    env.git(path, "init", "-q", "-b", "main")
    env.ok(path, "init")


def prepare_base(env: Env, path: Path) -> None:
    """The pipeline, run once: what most scenarios start from."""
    _new_project(env, path)
    (path / "make_file.py").write_text(MAKE_FILE)
    (path / "make_dir.py").write_text(MAKE_DIR)
    (path / "dvc.yaml").write_text(PIPELINE)
    (path / "params.yaml").write_text("seed: 1\n")
    # A folder remote inside the project, so that each trial's copy has its own.
    env.ok(path, "remote", "add", "-d", "store", ".remote")
    env.ok(path, "repro", "-j", "2")


def prepare_repro(env: Env, path: Path) -> None:
    (path / "params.yaml").write_text("seed: 2\n")  # every stage must run again


def prepare_add(env: Env, path: Path) -> None:
    shutil.rmtree(path)
    _new_project(env, path)
    big = path / "data" / "big"
    big.mkdir(parents=True)
    for i in range(800):
        (big / f"part{i:05d}.txt").write_text(f"record {i}\n" * 100)
    for i in range(3):
        (big / f"blob{i}.bin").write_bytes(os.urandom(2 * MB))


def prepare_push(env: Env, path: Path) -> None:
    pass  # the base, with an empty remote


def prepare_pull(env: Env, path: Path) -> None:
    env.ok(path, "push")
    for folder in (".dvc/cache", "out", "model"):
        shutil.rmtree(path / folder)


def prepare_checkout(env: Env, path: Path) -> None:
    for folder in ("out", "model"):
        shutil.rmtree(path / folder)


def prepare_registry(env: Env, path: Path) -> None:
    env.ok(path, "policy", "init", "--name", "alice")
    env.git(path, "add", "-A")
    env.git(path, "commit", "-q", "-m", "model")
    env.ok(path, "registry", "register", "llm", "model", "-m", "first")


def prepare_deploy(env: Env, path: Path) -> None:
    prepare_registry(env, path)
    env.ok(path, "registry", "promote", "llm", "0.1.0", "--to", "production")


SCENARIOS = (
    Scenario("repro -j 2", ("repro", "-j", "2"), prepare_repro),
    Scenario("add", ("add", "data/big"), prepare_add),
    Scenario(
        "push",
        ("push",),
        prepare_push,
        remote=True,
        after=("status", "-c"),
        clean="are in sync.",
    ),
    Scenario("pull", ("pull",), prepare_pull, remote=True),
    Scenario("checkout", ("checkout",), prepare_checkout),
    Scenario(
        "registry promote",
        ("registry", "promote", "llm", "0.1.0", "--to", "production"),
        prepare_registry,
        registry=True,
        already="'production' of 'llm' already points at 0.1.0",
    ),
    Scenario(
        "deploy",
        ("deploy", "llm@production", "--to", ".serving"),
        prepare_deploy,
        registry=True,
    ),
)


# -- the checks ---------------------------------------------------------------------


def corrupt_objects(path: Path) -> list[str]:
    """Objects (local cache and folder remote) whose content does not match their name."""
    from llmpipe.cache.odb import ObjectDB

    bad = []
    for files in (path / ".dvc" / "cache" / "files", path / ".remote" / "files"):
        odb = ObjectDB(str(files / "md5"))
        bad += [f"{files.parent.name}:{oid}" for oid in odb.all_oids() if not odb.verify(oid)]
    return bad


def recorded_outputs(path: Path) -> list[tuple[str, object]]:
    """(path, HashInfo) of every cached output dvc.lock and the .dvc files record.

    Raises when one of those files does not parse.
    """
    from llmpipe.lockfile import hashes_in, read_lock
    from llmpipe.spec.dvcfile import read_dvcfile_hashes

    found = []
    for entry in read_lock(str(path), "dvc.lock").values():
        found += list(hashes_in(entry, "outs").items())
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in files:
            if name.endswith(".dvc"):
                relpath = os.path.relpath(os.path.join(folder, name), path)
                found += list(read_dvcfile_hashes(str(path), relpath).items())
    return found


def lost_outputs(path: Path, remote: bool) -> list[str]:
    """Recorded outputs whose objects are in neither the cache nor the remote."""
    from llmpipe.cache.checkout import in_cache
    from llmpipe.cache.odb import ObjectDB

    stores = [ObjectDB(str(path / ".dvc" / "cache" / "files" / "md5"))]
    if remote:
        stores.append(ObjectDB(str(path / ".remote" / "files" / "md5")))
    return [
        out
        for out, info in recorded_outputs(path)
        if not any(_complete(odb, info, in_cache) for odb in stores)
    ]


def _complete(odb, info, in_cache) -> bool:  # noqa: ANN001
    if not info.isdir or not odb.exists(info.value):
        return in_cache(odb, info)
    # A folder remote has no completeness markers of its own: check each entry.
    return all(odb.exists(value) for _, value in odb.read_manifest(info.value))


@dataclass
class Trial:
    scenario: str
    delay: float
    killed: bool
    problems: list[str]

    @property
    def outcome(self) -> str:
        return self.problems[0].split(":")[0] if self.problems else "ok"


def run_trial(env: Env, scenario: Scenario, template: Path, delay: float) -> Trial:
    work = Path(tempfile.mkdtemp(dir=env.base, prefix="trial-"))
    path = work / "proj"
    try:
        shutil.copytree(template, path, symlinks=True)
        killed = _run_and_kill(env, path, scenario.command, delay)
        problems = check_after_kill(env, path, scenario)
        return Trial(scenario.name, round(delay, 3), killed, problems)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _run_and_kill(env: Env, path: Path, command: tuple[str, ...], delay: float) -> bool:
    process = subprocess.Popen(
        [sys.executable, "-m", "llmpipe", *command],
        cwd=path,
        env=env.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        process.wait(timeout=delay)
        return False
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        return True
    finally:
        _reap_group(process.pid)


def _reap_group(pgid: int) -> None:
    """SIGKILL whatever of the group is left (stage commands whose parent died)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def check_after_kill(env: Env, path: Path, scenario: Scenario) -> list[str]:
    problems = [f"corrupt object: {oid}" for oid in corrupt_objects(path)]
    try:
        problems += [f"lost output: {out}" for out in lost_outputs(path, scenario.remote)]
    except Exception as exc:  # noqa: BLE001 - any failure to read is the finding
        problems.append(f"unreadable lock or .dvc file: {exc}")
    verifies = [("audit", "verify")] + [("registry", "verify")] * scenario.registry
    for verify in verifies:
        result = env.run(path, *verify)
        if result.returncode != 0:
            problems.append(f"chain broken: {' '.join(verify)}: {result.stdout}{result.stderr}")
    again = env.run(path, *scenario.command)
    if again.returncode != 0 and scenario.already not in again.stderr:
        kind = "stuck lock" if "locked" in again.stderr else "next command failed"
        problems.append(f"{kind}: {again.stdout}{again.stderr}")
        return problems
    after = env.run(path, *scenario.after)
    if after.returncode != 0 or scenario.clean not in after.stdout:
        problems.append(f"workspace wrong afterwards: {after.stdout}{after.stderr}")
    problems += [f"corrupt object: {oid}" for oid in corrupt_objects(path)]
    return problems


# -- running ------------------------------------------------------------------------


def make_env(base: Path) -> Env:
    env = Env(base)
    home = base / "config"
    env.env = {**llmpipe_env(), "XDG_CONFIG_HOME": str(home), "PYTHONDONTWRITEBYTECODE": "1"}
    env.env.pop("LLMPIPE_KEY_FILE", None)
    env.env.pop("LLMPIPE_KEY_PASSPHRASE", None)
    env.ok(base, "keys", "generate", "--name", "alice", "--no-passphrase")
    return env


def startup_seconds(env: Env) -> float:
    """How long `llmpipe` takes to start doing anything (a kill before that tests nothing)."""
    times = []
    for _ in range(3):
        started = time.monotonic()
        env.ok(env.base, "--version")
        times.append(time.monotonic() - started)
    return min(times)


def prepare(env: Env, scenarios: tuple[Scenario, ...]) -> dict[str, tuple[Path, float]]:
    """Each scenario's template and the duration of its command when not killed."""
    prepared = {}
    base = env.base / "templates" / "base"
    prepare_base(env, base)
    for scenario in scenarios:
        template = env.base / "templates" / scenario.name.replace(" ", "_")
        shutil.copytree(base, template, symlinks=True)
        scenario.prepare(env, template)
        probe = env.base / "probe"
        shutil.copytree(template, probe, symlinks=True)
        started = time.monotonic()
        env.ok(probe, *scenario.command)
        prepared[scenario.name] = (template, time.monotonic() - started)
        shutil.rmtree(probe)
    return prepared


def run_trials(
    trials: int, seed: int, base: Path, report: Callable[[Trial], None] | None = None
) -> list[Trial]:
    """`trials` trials spread evenly over the scenarios, kill moments drawn from `seed`."""
    env = make_env(base)
    prepared = prepare(env, SCENARIOS)
    startup = startup_seconds(env)
    rng = random.Random(seed)
    results = []
    for index in range(trials):
        scenario = SCENARIOS[index % len(SCENARIOS)]
        template, duration = prepared[scenario.name]
        # Mostly after start-up, a few before it, a few after the end.
        delay = rng.uniform(startup * 0.8, max(duration, startup) * 1.1)
        trial = run_trial(env, scenario, template, delay)
        results.append(trial)
        if report is not None:
            report(trial)
    return results


def summary(results: list[Trial]) -> dict[str, object]:
    by_scenario: dict[str, Counter[str]] = {}
    for trial in results:
        by_scenario.setdefault(trial.scenario, Counter())[trial.outcome] += 1
    outcomes = Counter(trial.outcome for trial in results)
    return {
        "trials": len(results),
        "killed_mid_command": sum(t.killed for t in results),
        "outcomes": dict(outcomes),
        "by_scenario": {name: dict(counts) for name, counts in by_scenario.items()},
        "problems": [
            {"scenario": t.scenario, "delay": t.delay, "problems": t.problems}
            for t in results
            if t.problems
        ],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--json", help="write the summary here")
    args = parser.parse_args(argv)
    base = Path(tempfile.mkdtemp(prefix="llmpipe-faults-"))
    started = time.monotonic()

    def report(trial: Trial) -> None:
        print(  # noqa: T201
            f"{trial.scenario:<17} delay {trial.delay:6.3f}s killed={trial.killed!s:<5} "
            f"{trial.outcome}",
            flush=True,
        )  # noqa: T201
        for problem in trial.problems:
            print(f"    {problem.strip()[:400]}", flush=True)  # noqa: T201

    try:
        results = run_trials(args.trials, args.seed, base, report)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    result = summary(results)
    result["seconds"] = round(time.monotonic() - started)
    text = json.dumps(result, indent=2)
    if args.json:
        Path(args.json).write_text(text + "\n")
    print(text)  # noqa: T201
    return 0 if not result["problems"] else 1


if __name__ == "__main__":
    sys.exit(main())
