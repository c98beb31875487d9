"""`llmpipe status --json` prints what `dvc status --json` prints, on the same repository."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import llmpipe_env, needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]

ROOT_PIPELINE = """\
stages:
  join:
    cmd: cat sub/out.txt in.txt > joined.txt
    deps: [sub/out.txt, ./sub//out.txt, in.txt]
    params: [x, y]
    outs: [joined.txt]
  gone:
    cmd: cp missing.txt gone.txt
    deps: [missing.txt]
    outs: [gone.txt]
"""

SUB_PIPELINE = """\
stages:
  make:
    cmd: cp ../in.txt out.txt
    deps: [../in.txt]
    params: [lr]
    outs: [out.txt]
"""


@pytest.fixture
def layout(project):
    project.write("dvc.yaml", ROOT_PIPELINE)
    project.write("sub/dvc.yaml", SUB_PIPELINE)
    project.write("params.yaml", "x: 1\ny: 2\n")
    project.write("sub/params.yaml", "lr: 1\n")
    project.write("in.txt", "in\n")
    project.write("data.txt", "data\n")
    return project


def _run(project, command: list[str], cwd: str) -> str:
    result = subprocess.run(
        command,
        cwd=os.path.join(project.path, cwd),
        capture_output=True,
        text=True,
        env=llmpipe_env(),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def _dvc(project, *args: str, cwd: str = ".") -> dict:
    return json.loads(_run(project, ["dvc", *args], cwd))


def _ours(project, *args: str, cwd: str = ".") -> dict:
    out = _run(project, [sys.executable, "-m", "llmpipe", *args], cwd)
    assert "\n" not in out.strip(), "dvc prints JSON on one line off a terminal"
    return json.loads(out)


def _same(project, cwd: str = ".") -> dict:
    theirs = _dvc(project, "status", "--json", cwd=cwd)
    assert _ours(project, "status", "--json", cwd=cwd) == theirs
    return theirs


def test_never_run_stages_match_dvc(layout):
    shown = _same(layout)
    # Paths normalised (`./sub//out.txt` is `sub/out.txt`), never-run deps "modified".
    assert shown["join"][0] == {
        "changed deps": {"sub/out.txt": "deleted", "in.txt": "modified", "params.yaml": "new"}
    }
    assert shown["gone"][0] == {"changed deps": {"missing.txt": "deleted"}}
    assert "sub/dvc.yaml:make" in shown
    _same(layout, cwd="sub")  # relative to the current folder, as dvc prints them


def test_changes_after_a_run_match_dvc(layout):
    layout.run("dvc", "add", "data.txt")
    layout.write("missing.txt", "now here\n")
    layout.ok("repro")
    assert _same(layout) == {}
    layout.write("in.txt", "changed\n")
    layout.write("params.yaml", "x: 1\ny: 3\nz: 0\n")
    layout.write("sub/params.yaml", "lr: 2\n")
    layout.write("data.txt", "more data\n")
    (layout.path / "joined.txt").unlink()
    layout.write("dvc.yaml", ROOT_PIPELINE.replace("cp missing.txt", "cp -f missing.txt"))
    shown = _same(layout)
    assert shown["sub/dvc.yaml:make"] == [
        {"changed deps": {"in.txt": "modified", "sub/params.yaml": {"lr": "modified"}}}
    ]
    assert shown["gone"] == ["changed command"]
    assert shown["data.txt.dvc"] == [{"changed outs": {"data.txt": "modified"}}]
    _same(layout, cwd="sub")


def test_output_missing_from_cache_matches_dvc(layout):
    layout.write("missing.txt", "here\n")
    layout.ok("repro")
    lock = layout.read("dvc.lock")
    digest = lock.split("path: gone.txt")[1].split("md5: ")[1].split()[0]
    cached = layout.path / ".dvc/cache/files/md5" / digest[:2] / digest[2:]
    os.chmod(cached, 0o644)
    cached.unlink()
    assert _same(layout) == {"gone": [{"changed outs": {"gone.txt": "not in cache"}}]}


def test_new_tracked_param_key_matches_dvc(layout):
    layout.ok("repro", "sub/dvc.yaml:make")
    layout.write("sub/params.yaml", "lr: 1\nwd: 2\n")
    layout.write("sub/dvc.yaml", SUB_PIPELINE.replace("params: [lr]", "params: [lr, wd]"))
    assert _same(layout)["sub/dvc.yaml:make"] == [
        {"changed deps": {"sub/params.yaml": {"wd": "new"}}}
    ]


def test_outputs_gone_from_workspace_and_cache_are_not_in_cache_as_in_dvc(layout):
    # dvc asks the cache before the workspace: an output it cannot restore is "not in
    # cache" whether its workspace copy is there, edited or deleted.
    layout.write("missing.txt", "here\n")
    layout.ok("add", "data.txt")
    layout.ok("repro")
    cache = layout.path / ".dvc" / "cache"
    for path in cache.rglob("*"):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
    subprocess.run(["rm", "-rf", str(cache)], check=True)
    (layout.path / "gone.txt").unlink()
    layout.write("joined.txt", "edited\n")
    (layout.path / "data.txt").unlink()
    assert _same(layout) == {
        "join": [{"changed outs": {"joined.txt": "not in cache"}}],
        "gone": [{"changed outs": {"gone.txt": "not in cache"}}],
        "sub/dvc.yaml:make": [{"changed outs": {"sub/out.txt": "not in cache"}}],
        "data.txt.dvc": [{"changed outs": {"data.txt": "not in cache"}}],
    }
    text = layout.ok("status").out
    assert "out 'gone.txt' is not in the cache" in text and "is missing" not in text
