"""Shared fixtures: real git repositories initialised as llmpipe projects, and the CLI."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The dashboard's fixtures (a real browser, a real `llmpipe ui` server), for any test directory.
pytest_plugins = ["tests.browser"]

# Every `dvc` the tests run would otherwise fork an analytics daemon (about a second of CPU
# each, and a network call): the suite runs dvc hundreds of times.
os.environ.setdefault("DVC_NO_ANALYTICS", "1")

BUG_EXIT_CODE = 70  # llmpipe.errors.BUG_EXIT_CODE

GIT_ENV = {
    "GIT_AUTHOR_NAME": "llmpipe tests",
    "GIT_AUTHOR_EMAIL": "tests@llmpipe.invalid",
    "GIT_COMMITTER_NAME": "llmpipe tests",
    "GIT_COMMITTER_EMAIL": "tests@llmpipe.invalid",
}


def _default_sigint() -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)


def llmpipe_env() -> dict[str, str]:
    """The environment for a subprocess running this checkout's llmpipe in a test repo."""
    return {**os.environ, **GIT_ENV, "PYTHONPATH": str(ROOT)}


needs_dvc = pytest.mark.skipif(shutil.which("dvc") is None, reason="needs the dvc package")


@dataclass
class CliResult:
    code: int
    out: str
    err: str


class Project:
    """A temporary git repository that is an llmpipe project."""

    def __init__(self, path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.path = path
        self._capsys = capsys

    def write(self, relpath: str, text: str) -> Path:
        target = self.path / relpath
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text))
        return target

    def read(self, relpath: str) -> str:
        return (self.path / relpath).read_text()

    def cli(self, *args: str) -> CliResult:
        """Run `llmpipe ARGS` in-process in the project directory."""
        from llmpipe.cli.main import main

        self._capsys.readouterr()
        previous = os.getcwd()
        os.chdir(self.path)
        try:
            code = main(list(args))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            os.chdir(previous)
        captured = self._capsys.readouterr()
        # A bug must fail the test, not pass for the non-zero exit a test expects.
        assert code != BUG_EXIT_CODE, f"llmpipe {' '.join(args)} hit a bug:\n{captured.err}"
        return CliResult(code, captured.out, captured.err)

    def ok(self, *args: str) -> CliResult:
        result = self.cli(*args)
        assert result.code == 0, f"llmpipe {' '.join(args)} failed:\n{result.out}\n{result.err}"
        return result

    def run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        """Run an external command (git, dvc, python -m llmpipe) in the project."""
        return subprocess.run(
            command,
            cwd=self.path,
            capture_output=True,
            text=True,
            check=check,
            env=llmpipe_env(),  # `python -m llmpipe` here is this checkout's
        )

    def llmpipe(self, *args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
        """Run the real CLI in a subprocess (for signals, locks and exit codes)."""
        return subprocess.run(
            [sys.executable, "-m", "llmpipe", *args],
            cwd=self.path,
            capture_output=True,
            text=True,
            check=check,
            env=llmpipe_env(),
        )

    def spawn_llmpipe(self, *args: str) -> subprocess.Popen[bytes]:
        """Start the real CLI in the background, in its own process group (for signals)."""
        return subprocess.Popen(
            [sys.executable, "-m", "llmpipe", *args],
            cwd=self.path,
            env=llmpipe_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            # SIGINT as a terminal gives it: an ignored SIGINT is inherited (something earlier
            # in a long test run can leave the test process ignoring it), and a Python started
            # that way never raises KeyboardInterrupt, so a Ctrl-C test would wait for its stage.
            preexec_fn=_default_sigint,
        )

    def git(self, *args: str) -> str:
        return self.run("git", *args).stdout

    def commit(self, message: str = "commit") -> None:
        self.git("add", "-A")
        self.git("commit", "-q", "-m", message, "--allow-empty")


@pytest.fixture
def key_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Signing keys in a temporary config directory: tests never touch the real home."""
    home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home))
    monkeypatch.delenv("LLMPIPE_KEY_FILE", raising=False)
    monkeypatch.delenv("LLMPIPE_KEY_PASSPHRASE", raising=False)
    return home


def new_project(path: Path, capsys: pytest.CaptureFixture[str]) -> Project:
    """A fresh git repository at `path` (created) initialised as an llmpipe project."""
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    proj = Project(path, capsys)
    proj.ok("init")
    return proj


@pytest.fixture
def project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Project:
    return new_project(tmp_path / "proj", capsys)


# The end of a run names the skipped suites and the command that enables each.
from tests.run_summary import pytest_terminal_summary  # noqa: E402, F401
