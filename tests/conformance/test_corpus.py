"""Run every corpus layout under dvc and llmpipe and compare what must agree.

For each case, one starting state is made with dvc (init, files, setup commands),
copied twice, and each tool then runs `dag --dot` (compared as edge sets),
`status --json` (the set of stages reported changed), `repro` (same success or
failure; then every dvc.lock byte for byte) and `status` again. A bounded set
runs on every test run (CI); `LLMPIPE_CONFORMANCE=full python -m pytest
tests/conformance` runs the whole corpus.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conformance.corpus import CASES, Case
from tests.conftest import GIT_ENV, llmpipe_env, needs_dvc
from tests.http_server import serving

FULL = os.environ.get("LLMPIPE_CONFORMANCE") == "full"
TOOLS = {"dvc": ["dvc"], "llmpipe": [sys.executable, "-m", "llmpipe"]}

pytestmark = [needs_dvc, pytest.mark.dvc]


def _params() -> list:
    marks = lambda case: [] if case.ci else [pytest.mark.slow]  # noqa: E731
    chosen = [c for c in CASES if FULL or c.ci]
    return [pytest.param(c, id=c.name, marks=marks(c)) for c in chosen]


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    www = tmp_path_factory.mktemp("www")
    (www / "data.csv").write_text("a,b\n1,2\n")
    with serving(www, etag=True) as base:
        yield base


def _run(cwd: Path, *command: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**llmpipe_env(), **GIT_ENV}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=check)


def starting_state(case: Case, base: Path, url: str) -> Path:
    """The case's repository as dvc leaves it after the setup; returns the project root."""
    base.mkdir()
    _run(base, "git", "init", "-q", "-b", "main")
    root = base / case.root
    root.mkdir(exist_ok=True)
    _run(root, "dvc", "init", "-q", *(["--subdir"] if case.root != "." else []))
    _write(base, case.files, url)
    for command in case.setup:
        _run(root, *command)
    _write(base, case.edits, url)
    if case.dvc2:
        from tests.functional.test_dvc2_locks import to_dvc2

        to_dvc2(root)
    return root


def _write(base: Path, files: dict[str, str], url: str) -> None:
    for relpath, text in files.items():
        path = base / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            path.chmod(0o644)  # a cached output is read-only; the edit replaces it
        path.write_text(text.replace("{url}", url))


def edges(root: Path, tool: str) -> set[tuple[str, str]]:
    dot = _run(root, *TOOLS[tool], "dag", "--dot").stdout
    pairs = (line.strip().rstrip(";").split(" -> ") for line in dot.splitlines() if "->" in line)
    return {(a.strip('"'), b.strip('"')) for a, b in pairs}


def changed(root: Path, tool: str) -> set[str]:
    result = _run(root, *TOOLS[tool], "status", "--json")
    return set(json.loads(result.stdout or "{}"))


def locks(base: Path) -> dict[str, str]:
    return {str(p.relative_to(base)): p.read_text() for p in sorted(base.rglob("dvc.lock"))}


@pytest.mark.parametrize("case", _params())
def test_llmpipe_agrees_with_dvc(case: Case, tmp_path: Path, url: str) -> None:
    start = starting_state(case, tmp_path / "start", url)
    roots = {}
    for tool in TOOLS:
        shutil.copytree(tmp_path / "start", tmp_path / tool, symlinks=True)
        roots[tool] = tmp_path / tool / start.relative_to(tmp_path / "start")
    assert edges(roots["llmpipe"], "llmpipe") == edges(roots["dvc"], "dvc")
    assert changed(roots["llmpipe"], "llmpipe") == changed(roots["dvc"], "dvc")
    results = {tool: _run(root, *TOOLS[tool], "repro", *case.repro, check=False)
               for tool, root in roots.items()}  # fmt: skip
    codes = {tool: result.returncode == 0 for tool, result in results.items()}
    assert codes["llmpipe"] == codes["dvc"], results
    assert locks(tmp_path / "llmpipe") == locks(tmp_path / "dvc")
    assert changed(roots["llmpipe"], "llmpipe") == changed(roots["dvc"], "dvc")
    if codes["dvc"]:  # dvc finds llmpipe's result as it finds its own
        assert changed(roots["llmpipe"], "dvc") == changed(roots["dvc"], "dvc")


def test_the_corpus_is_broad() -> None:
    assert len(CASES) >= 20 and len({c.name for c in CASES}) == len(CASES)
    assert 5 <= sum(c.ci for c in CASES) <= 10  # the bounded set CI runs
