"""A no-op `repro` loads only what checking stages needs (issue 20: start-up is most of it).

These tests hold no timings: they check which modules a no-op `repro` imports, and that
the shortcuts taken for it (a blank config file is not handed to configobj) read the
same settings as before.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import Project, llmpipe_env

# Modules a `repro` needs only when a stage runs, is restored or saved, or git is read.
NOT_ON_NOOP = (
    "subprocess",
    "configobj",
    "llmpipe.scm",
    "llmpipe.run.execute",
    "llmpipe.cache.save",
    "llmpipe.cache.checkout",
    "llmpipe.cache.links",
    "llmpipe.gitignore",
    # One job: up-to-date stages are judged in the main thread, with no pool.
    "concurrent.futures",
    # blake2 comes from _blake2: OpenSSL's hashlib loads where a file is hashed.
    "hashlib",
    "traceback",
    "llmpipe.yamlemit",
    "llmpipe.run.dispatch",
)

PROBE = """
import sys
from llmpipe.cli.main import main
code = main({argv!r})
print("LOADED:", *(name for name in {names!r} if name in sys.modules))
sys.exit(code)
"""
# A `repro` that runs a stage records lineage, with llmpipe's version in it.
NOT_ON_RUN = ("importlib.metadata",)


def pipeline(project: Project) -> None:
    project.write("data.txt", "hello\n")
    project.write(
        "dvc.yaml",
        """\
        stages:
          copy:
            cmd: cp data.txt copy.txt
            deps: [data.txt]
            outs: [copy.txt]
        """,
    )
    project.ok("repro")


def probe_last_line(project: Project, probe: str) -> str:
    """The last line a Python `probe` prints, run in the project like the CLI."""
    proc = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=project.path,
        env=llmpipe_env(),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip().splitlines()[-1]


def loaded_by_repro(
    project: Project, names: tuple[str, ...] = NOT_ON_NOOP, argv: tuple[str, ...] = ("repro",)
) -> list[str]:
    return probe_last_line(project, PROBE.format(names=names, argv=list(argv))).split()[1:]


def test_noop_repro_imports_nothing_for_running_or_saving(project: Project) -> None:
    pipeline(project)
    assert loaded_by_repro(project) == []
    assert "is up to date" in project.ok("repro").out


def test_a_changed_dep_still_runs_the_stage(project: Project) -> None:
    """The lazy imports are taken when a stage does run: it runs and is saved."""
    pipeline(project)
    project.write("data.txt", "changed\n")
    result = project.ok("repro")
    assert "Running stage 'copy'" in result.out
    assert project.read("copy.txt") == "changed\n"
    assert "is up to date" in project.ok("repro").out


def test_blank_config_is_empty_and_a_set_one_is_read(project: Project) -> None:
    """`.dvc/config` holding only whitespace reads as no settings; once set, it is read."""
    (project.path / ".dvc" / "config").write_text("\n   \n")
    assert project.ok("config", "--list").out.strip() == ""
    project.ok("config", "core.autostage", "true")
    assert "core.autostage=true" in project.ok("config", "--list").out


def test_a_run_records_the_version_without_importlib_metadata(project: Project) -> None:
    import importlib.metadata

    import llmpipe

    pipeline(project)
    project.write("data.txt", "changed\n")
    assert loaded_by_repro(project, NOT_ON_RUN) == []
    assert llmpipe.__version__ == importlib.metadata.version("llmpipe")
    lineage = project.ok("log", "--json").out
    assert f'"llmpipe_version": "{llmpipe.__version__}"' in lineage


def test_a_run_writes_the_lock_without_ruamel_and_the_next_reads_it_without_yaml(
    project: Project,
) -> None:
    """The lock entry is written by `yamlemit`, and its data goes to the parse memo with
    the text, so the next command does not parse the lock it finds (issue 20, goal 1)."""
    pipeline(project)
    project.write("data.txt", "changed\n")
    assert loaded_by_repro(project, ("ruamel.yaml",)) == []
    assert loaded_by_repro(project, ("yaml", "ruamel.yaml")) == []
    lock = project.read("dvc.lock")
    assert "md5: " in lock and lock.startswith("schema: '2.0'\nstages:\n  copy:\n")


FREEZE_PROBE = """
import atexit, gc, sys
from llmpipe.cli.main import main
# Registered first, so run last: after what `main` registered.
atexit.register(lambda: print("FROZEN:", gc.get_freeze_count() > 0))
sys.exit(main(["status"]))
"""


def test_the_cli_freezes_the_heap_before_shutdown(project: Project) -> None:
    """The shutdown collections skip what the imports made (start-up, issue 20)."""
    pipeline(project)
    assert probe_last_line(project, FREEZE_PROBE) == "FROZEN: True"


# `status` writes nothing and is not audited: it loads neither the audit trail, nor
# `repro`'s options and scheduler, nor the Hydra settings of a project without Hydra.
NOT_ON_STATUS = (
    "llmpipe.ops.audit",
    "llmpipe.ops.repro",
    "llmpipe.run.scheduler",
    "llmpipe.hydra.settings",
    *NOT_ON_NOOP,
)


def test_status_loads_nothing_for_running_or_auditing(project: Project) -> None:
    pipeline(project)
    assert loaded_by_repro(project, NOT_ON_STATUS, ("status",)) == []
    project.write("data.txt", "changed\n")
    assert "copy:" in project.ok("status").out


# A push to a plain folder copies objects on one thread: pull's checkout (and the
# state DB's sqlite3), a thread pool and the cipher are never used.
NOT_ON_PUSH = (
    "llmpipe.cache.checkout",
    "llmpipe.cache.state",
    "sqlite3",
    "concurrent.futures",
    "llmpipe.remote.crypto",
)


def test_a_push_to_a_folder_loads_no_checkout_pool_or_cipher(project: Project, tmp_path) -> None:  # noqa: ANN001
    project.write("data/a.txt", "a\n")
    project.ok("add", "data")
    project.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    assert loaded_by_repro(project, NOT_ON_PUSH, ("push",)) == []
    assert len(list((tmp_path / "remote" / "files" / "md5").rglob("*"))) == 4  # 2 shards


DATACLASS_PROBE = """
import dataclasses, sys
from llmpipe.cli.main import main
code = main({argv!r})
made = sorted(
    f"{{name}}.{{attr}}"
    for name, module in list(sys.modules.items())
    if name.startswith("llmpipe")
    for attr, value in vars(module).items()
    if isinstance(value, type) and dataclasses.is_dataclass(value) and value.__module__ == name
)
print("DATACLASSES:", *made)
sys.exit(code)
"""
# The API's value types (exported by `llmpipe`, compared by tests and callers) stay
# dataclasses; every internal record on the start-up path is a NamedTuple or a slotted
# class, as each dataclass costs ~0.3 ms of start-up to build (issue 20, goal 1).
PUBLIC_DATACLASSES = {
    *(f"llmpipe.stage.{name}" for name in ("Dep", "HashInfo", "Out", "ParamRef", "Resources")),
    "llmpipe.stage.Stage",
    "llmpipe.graph.Graph",
    "llmpipe.ops.repro.ReproRequest",
    "llmpipe.run.context.RunContext",
    "llmpipe.run.scheduler.ReproResult",
    "llmpipe.run.stage_run.StageOutcome",
    "llmpipe.run.status.Reason",
    "llmpipe.run.status.StatusEntry",
}


def dataclasses_made(project: Project, argv: tuple[str, ...]) -> set[str]:
    line = probe_last_line(project, DATACLASS_PROBE.format(argv=list(argv)))
    return set(line.split()[1:])


def test_noop_repro_and_status_build_only_the_public_dataclasses(project: Project) -> None:
    pipeline(project)
    assert dataclasses_made(project, ("repro",)) - PUBLIC_DATACLASSES == set()
    assert dataclasses_made(project, ("status",)) - PUBLIC_DATACLASSES == set()
