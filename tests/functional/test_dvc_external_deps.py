"""Dependencies outside the repository and URL dependencies, as dvc takes them."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, llmpipe_env, needs_dvc
from tests.http_server import serving

pytestmark = [needs_dvc, pytest.mark.dvc]

SUBDIR_PIPELINE = """\
stages:
  build:
    cmd: cat ../src/pkg/m.py ../pyproject.toml > out.txt
    deps: [../src/pkg/, ../pyproject.toml]
    outs: [out.txt]
  report:
    cmd: wc -c out.txt > ../report.txt
    deps: [out.txt]
    outs:
      - ../report.txt:
          cache: false
"""


def _tool(name: str) -> list[str]:
    return [sys.executable, "-m", "llmpipe"] if name == "llmpipe" else ["dvc"]


def run(cwd: Path, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**llmpipe_env(), **GIT_ENV}
    return subprocess.run(
        [*_tool(tool), *args], cwd=cwd, env=env, capture_output=True, text=True, check=check
    )


def subdir_project(base: Path, tool: str) -> Path:
    """A git repository whose DVC project is its `proj/` folder, with code beside it."""
    base.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=base, check=True)
    (base / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    (base / "src" / "pkg").mkdir(parents=True)
    (base / "src" / "pkg" / "m.py").write_text("x = 1\n")
    proj = base / "proj"
    proj.mkdir()
    run(proj, tool, "init", "--subdir", *(["-q"] if tool == "dvc" else []))
    (proj / "dvc.yaml").write_text(SUBDIR_PIPELINE)
    return proj


def changed(proj: Path, tool: str) -> set[str]:
    return set(json.loads(run(proj, tool, "status", "--json").stdout or "{}"))


def edges(proj: Path, tool: str) -> set[tuple[str, str]]:
    dot = run(proj, tool, "dag", "--dot").stdout
    pairs = (line.strip().rstrip(";").split(" -> ") for line in dot.splitlines() if "->" in line)
    return {(a.strip('"'), b.strip('"')) for a, b in pairs}


def test_deps_above_the_repository_are_hashed_uncached_as_in_dvc(tmp_path):
    ours = subdir_project(tmp_path / "ours", "llmpipe")
    theirs = subdir_project(tmp_path / "theirs", "dvc")
    assert edges(ours, "llmpipe") == edges(theirs, "dvc") == {("build", "report")}
    assert changed(ours, "llmpipe") == changed(theirs, "dvc") == {"build", "report"}
    run(ours, "llmpipe", "repro")
    run(theirs, "dvc", "repro")
    assert (ours / "dvc.lock").read_text() == (theirs / "dvc.lock").read_text()
    assert "path: ../src/pkg/" in (ours / "dvc.lock").read_text()
    assert changed(ours, "llmpipe") == changed(theirs, "dvc") == set()
    assert run(ours, "dvc", "status", "--json").stdout.strip() == "{}"  # dvc agrees with us
    (tmp_path / "ours" / "src" / "pkg" / "m.py").write_text("x = 2\n")
    (tmp_path / "theirs" / "src" / "pkg" / "m.py").write_text("x = 2\n")
    assert changed(ours, "llmpipe") == changed(theirs, "dvc") == {"build"}
    cached = [p for p in (ours / ".dvc" / "cache" / "files").rglob("*") if p.is_file()]
    assert len(cached) == 1  # out.txt only: external deps are never cached


def test_a_cached_output_outside_the_repository_is_refused_when_saved(tmp_path):
    dvc_yaml = "stages:\n  s:\n    cmd: echo x > ../out.txt\n    outs: [../out.txt]\n"
    results = {}
    for tool in ("llmpipe", "dvc"):
        proj = subdir_project(tmp_path / tool, tool)
        (proj / "dvc.yaml").write_text(dvc_yaml)
        assert run(proj, tool, "dag", "--dot").returncode == 0
        assert changed(proj, tool) == {"s"}
        results[tool] = run(proj, tool, "repro", check=False)
    for tool, result in results.items():
        assert result.returncode != 0, tool
        assert "Saving cached external output" in result.stderr, (tool, result.stderr)
        assert "is not supported since DVC 3.0" in result.stderr
    assert not (tmp_path / "llmpipe" / "out.txt").exists()  # refused before the command ran
    shutil.rmtree(tmp_path / "dvc")


URL_PIPELINE = """\
stages:
  get:
    cmd: python3 -c "import shutil, urllib.request as u; shutil.copyfileobj(u.urlopen('{a}'), open('a.csv', 'wb'))"
    deps: ['{a}', '{b}']
    outs: [a.csv]
"""


def url_project(base: Path, tool: str, a: str, b: str) -> Path:
    base.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=base, check=True)
    run(base, tool, "init", *(["-q"] if tool == "dvc" else []))
    (base / "dvc.yaml").write_text(URL_PIPELINE.format(a=a, b=b))
    return base


def test_url_deps_are_tracked_by_the_server_s_checksum_as_in_dvc(tmp_path):
    www = tmp_path / "www"
    www.mkdir()
    (www / "data.csv").write_text("a,b\n1,2\n")
    with serving(www, etag=True) as tagged, serving(www, etag=False) as plain:
        a, b = f"{tagged}/data.csv", f"{plain}/data.csv"
        ours = url_project(tmp_path / "ours", "llmpipe", a, b)
        theirs = url_project(tmp_path / "theirs", "dvc", a, b)
        assert changed(ours, "llmpipe") == changed(theirs, "dvc") == {"get"}
        run(ours, "llmpipe", "repro")
        run(theirs, "dvc", "repro")
        lock = (ours / "dvc.lock").read_text()
        assert lock == (theirs / "dvc.lock").read_text()
        assert "checksum: '\"" in lock  # the ETag, quotes kept
        assert changed(ours, "llmpipe") == changed(theirs, "dvc") == set()
        (www / "data.csv").write_text("a,b\n1,3\n")
        assert changed(ours, "llmpipe") == changed(theirs, "dvc") == {"get"}
        run(ours, "llmpipe", "repro")
        assert (ours / "a.csv").read_text() == "a,b\n1,3\n"
        assert not [
            p for p in (ours / ".dvc" / "cache" / "files").rglob("*") if p.name == "data.csv"
        ]
    # The server is gone: say so, never "up to date".
    result = run(ours, "llmpipe", "status", check=False)
    assert result.returncode == 1 and "external dependency" in result.stderr, result.stderr
