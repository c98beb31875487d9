"""Exit codes: a user's mistake exits 1, a bug in llmpipe 70 with one line saying so, ^C 130.

The bug here is a real one: a corrupt `.llmpipe/state.db` makes sqlite3 raise
an exception that nothing translates into an LlmpipeError. (When the state DB
learns to rebuild itself, this needs another untranslated fault.)
"""

from __future__ import annotations

import json
import os

import pytest

from llmpipe.cli.main import REPORT_TO, main
from llmpipe.errors import BUG_EXIT_CODE

STAGE = "stages:\n  a:\n    cmd: echo a > a.txt\n    outs: [a.txt]\n"


def corrupt_state_db(project) -> None:  # noqa: ANN001
    project.write("dvc.yaml", STAGE)
    (project.path / ".llmpipe" / "state.db").write_bytes(b"not a database, " * 256)


def test_a_bug_exits_70_with_one_line_naming_it(project) -> None:  # noqa: ANN001
    corrupt_state_db(project)
    result = project.llmpipe("status")
    assert result.returncode == BUG_EXIT_CODE == 70
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "this is a bug in llmpipe" in lines[0]
    assert "sqlite3.DatabaseError: file is not a database" in lines[0]
    assert "--verbose" in lines[0] and REPORT_TO in lines[0]
    assert "Traceback" not in result.stderr


def test_a_bug_with_verbose_shows_the_traceback_and_keeps_its_code(project) -> None:  # noqa: ANN001
    corrupt_state_db(project)
    result = project.llmpipe("status", "--verbose")
    assert result.returncode == BUG_EXIT_CODE
    assert "Traceback" in result.stderr
    assert result.stderr.splitlines()[-1].startswith("ERROR: this is a bug in llmpipe")


def test_a_bug_in_an_audited_command_is_recorded_with_its_code(project, capsys) -> None:  # noqa: ANN001
    corrupt_state_db(project)
    (project.path / "data.txt").write_text("data\n")
    previous = os.getcwd()
    os.chdir(project.path)
    try:
        assert main(["add", "data.txt"]) == BUG_EXIT_CODE
    finally:
        os.chdir(previous)
    assert "this is a bug in llmpipe" in capsys.readouterr().err
    record = json.loads(project.ok("audit", "log", "--json").out)[-1]
    assert (record["command"], record["result"], record["exit"]) == ("add", "failed", 70)
    assert record["error"] == "DatabaseError: file is not a database"


def run_in(project, *args: str) -> int:  # noqa: ANN001
    previous = os.getcwd()
    os.chdir(project.path)
    try:
        return main(list(args))
    finally:
        os.chdir(previous)


@pytest.mark.parametrize(
    ("raised", "code", "said"),
    [
        (
            RuntimeError("boom"),
            BUG_EXIT_CODE,
            "bug in llmpipe, not a mistake of yours (RuntimeError: boom)",
        ),
        (KeyboardInterrupt(), 130, "Aborted."),  # click turns ^C into Abort
    ],
)
def test_exit_code_of_an_exception_raised_inside_a_command(
    project, capsys, monkeypatch: pytest.MonkeyPatch, raised: BaseException, code: int, said: str
) -> None:  # noqa: ANN001
    import llmpipe.ops.status

    def fail(*_args: object, **_kwargs: object) -> None:
        raise raised

    project.write("dvc.yaml", STAGE)
    monkeypatch.setattr(llmpipe.ops.status, "status", fail)
    assert run_in(project, "status") == code
    assert said in capsys.readouterr().err


def test_a_user_mistake_still_exits_1(project, capsys) -> None:  # noqa: ANN001
    project.write("dvc.yaml", STAGE)
    assert run_in(project, "status", "nosuchstage") == 1
    err = capsys.readouterr().err
    assert err.startswith("ERROR: ") and "bug" not in err


def test_a_reader_closing_the_pipe_ends_the_command_quietly(project) -> None:  # noqa: ANN001
    """`llmpipe audit log | head`: the write fails with EPIPE; that is not a bug."""
    import subprocess
    import sys

    from tests.conftest import llmpipe_env

    project.write("data.txt", "abc\n")
    project.ok("add", "data.txt")  # one audit record to print
    proc = subprocess.Popen(
        [sys.executable, "-m", "llmpipe", "audit", "log", "--json"],
        cwd=project.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=llmpipe_env(),
    )
    proc.stdout.close()  # the reader is gone before the first write
    _, err = proc.communicate(timeout=60)
    assert b"bug" not in err and b"Traceback" not in err, err.decode()
    assert proc.returncode == 1  # click's answer to EPIPE: quiet, and not 70
