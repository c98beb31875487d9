"""`ls`, `get`, `import` and `update` write and print what dvc does on the same registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Project, llmpipe_env, needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


@pytest.fixture
def twin_consumers(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """Two empty projects side by side: one for llmpipe, one for dvc."""
    made = []
    for name in ("ours", "theirs"):
        path = tmp_path / name
        path.mkdir()
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
        proj = Project(path, capsys)
        proj.run("dvc", "init", "-q")
        proj.commit("init")
        made.append(proj)
    return made


def both(ours: Project, theirs: Project, *args: str) -> tuple[int, int]:
    """Run `llmpipe ARGS` in ours and `dvc ARGS` in theirs; their exit codes."""
    mine = ours.llmpipe(*args).returncode
    dvc = subprocess.run(["dvc", *args], cwd=theirs.path, capture_output=True, env=llmpipe_env())
    return mine, dvc.returncode


def test_import_and_update_write_dvcs_files(registry: Project, twin_consumers) -> None:
    ours, theirs = twin_consumers
    url = str(registry.path)
    steps = [
        ("import", url, "data/a.txt"),
        ("import", url, "data/dir", "-o", "d", "--rev", "v1", "-j", "2"),
        ("import", url, "data/dir/sub", "-o", "s", "--rev", "v1"),
        ("update", "a.txt.dvc", "--rev", "v1"),
        ("update", "d.dvc", "--rev", "v2", "-j", "2"),
    ]
    for step in steps:
        assert both(ours, theirs, *step) == (0, 0), step
        for name in ("a.txt.dvc", "d.dvc", "s.dvc", ".gitignore"):
            mine, dvc = ours.path / name, theirs.path / name
            assert mine.exists() == dvc.exists(), (step, name)
            if mine.exists():
                assert mine.read_text() == dvc.read_text(), (step, name)
    assert (ours.path / "a.txt").read_text() == "hello\n"
    assert (ours.path / "s" / "y").read_text() == "y\n"
    for proj in (ours, theirs):  # each tool is happy with the other's files
        assert proj.run("dvc", "status").stdout.strip() == "Data and pipelines are up to date."
        assert proj.ok("status").out.strip() == "Data and pipelines are up to date."


def test_update_keeps_comments_as_dvc_does(registry: Project, twin_consumers) -> None:
    # dvc edits the `.dvc` file of an import in place: comments and layout stay.
    ours, theirs = twin_consumers
    assert both(ours, theirs, "import", str(registry.path), "data/a.txt", "--rev", "v1") == (0, 0)
    for proj in (ours, theirs):
        text = proj.read("a.txt.dvc").replace("frozen: true", "frozen: true  # by hand")
        proj.write("a.txt.dvc", "# our data\n" + text.replace("outs:", "# what we get\nouts:"))
    for step in (("update", "a.txt.dvc"), ("update", "a.txt.dvc", "--rev", "v2")):
        assert both(ours, theirs, *step) == (0, 0), step
        assert ours.read("a.txt.dvc") == theirs.read("a.txt.dvc"), step
    assert "# what we get" in ours.read("a.txt.dvc") and "rev: v2" in ours.read("a.txt.dvc")
    assert ours.read("a.txt") == "hello again\n"


def test_import_no_exec_no_download_force_as_dvc(registry: Project, twin_consumers) -> None:
    ours, theirs = twin_consumers
    url, names = str(registry.path), ("ne.txt.dvc", "nd.txt.dvc", "f.txt.dvc", "f.txt", "nd.txt")
    for step in [
        ("import", url, "data/a.txt", "-o", "ne.txt", "--no-exec"),  # the source only
        ("import", url, "data/a.txt", "-o", "nd.txt", "--no-download", "--rev", "v1"),
    ]:
        assert both(ours, theirs, *step) == (0, 0), step
    for proj in (ours, theirs):
        proj.write("f.txt", "mine\n")
    # An output in the way is refused, as in dvc, and replaced with --force.
    assert both(ours, theirs, "import", url, "data/a.txt", "-o", "f.txt") == (1, 1)
    assert ours.read("f.txt") == "mine\n" and not (ours.path / "f.txt.dvc").exists()
    assert both(ours, theirs, "import", url, "data/a.txt", "-o", "f.txt", "-f") == (0, 0)
    for name in names:
        mine, dvc = ours.path / name, theirs.path / name
        assert mine.exists() == dvc.exists(), name
        assert not mine.exists() or mine.read_text() == dvc.read_text(), name
    shown = [json.loads(p.run(*tool, "status", "--json").stdout) for p, tool in
             ((ours, (sys.executable, "-m", "llmpipe")), (theirs, ("dvc",)))]  # fmt: skip
    assert shown[0] == shown[1] and shown[0]["ne.txt.dvc"][-1] == "changed checksum"
    ours.ok("pull", "nd.txt.dvc")  # as dvc's pull: fetched from the commit recorded
    assert ours.read("nd.txt") == "hello\n"
    assert both(ours, theirs, "update", "nd.txt.dvc", "ne.txt.dvc") == (0, 0)
    for name in names:
        assert ours.read(name) == theirs.read(name), name


def test_imports_are_frozen_until_update(registry: Project, project: Project) -> None:
    project.ok("import", str(registry.path), "data/a.txt")
    project.write("dvc.yaml", "stages:\n  copy:\n    cmd: cat a.txt > b.txt\n    deps: [a.txt]\n"
                  "    outs: [b.txt]\n")  # fmt: skip
    project.ok("repro")
    registry.write("data/a.txt", "moved on\n")
    registry.ok("add", "data/a.txt")
    registry.commit("v3")
    ours = json.loads(project.ok("status", "--json").out)
    assert ours == json.loads(project.run("dvc", "status", "--json").stdout)
    assert ours == {
        "a.txt.dvc": [{"changed deps": {f"data/a.txt ({registry.path})": "update available"}}]
    }
    assert "up to date" in project.ok("repro").out  # frozen: only `update` moves it
    assert project.read("a.txt") == "hello again\n"
    project.ok("update", "a.txt.dvc")
    assert project.read("a.txt") == "moved on\n"
    project.ok("repro")
    assert project.read("b.txt") == "moved on\n"
    assert "rev_lock: " + registry.git("rev-parse", "HEAD").strip() in project.read("a.txt.dvc")


def test_dvc_updates_what_llmpipe_imported(registry: Project, project: Project) -> None:
    project.ok("import", str(registry.path), "data/dir", "--rev", "v1")
    project.run("dvc", "update", "dir.dvc", "--rev", "v2")
    project.ok("update", "dir.dvc")
    assert project.ok("status").out.strip() == "Data and pipelines are up to date."


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("data",),
        ("--rev", "v1"),
        ("--rev", "v1", "-R", "--dvc-only"),
        ("data/dir", "--rev", "v1", "-R"),
        ("data", "--rev", "v2"),
        ("data/dir/sub", "--rev", "v2"),
        ("data/a.txt",),
    ],
)
def test_ls_json_is_dvcs(registry: Project, tmp_path: Path, args: tuple[str, ...]) -> None:
    url = str(registry.path)
    mine = subprocess.run(
        ["python", "-m", "llmpipe", "ls", url, *args, "--json"],
        capture_output=True, text=True, env=llmpipe_env(), cwd=tmp_path, check=True,
    )  # fmt: skip
    dvc = subprocess.run(
        ["dvc", "ls", url, *args, "--json"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=True,
    )
    assert json.loads(mine.stdout) == json.loads(dvc.stdout)


def test_get_copies_what_dvc_copies(registry: Project, twin_consumers) -> None:
    ours, theirs = twin_consumers
    url = f"file://{registry.path}"  # a clone: the data comes from the remote
    for step in [("get", url, "data/dir", "-o", "gd", "-j", "2"),
                 ("get", url, "README.md", "--rev", "v1"),
                 ("get", str(registry.path), "data/a.txt", "--rev", "v1")]:  # fmt: skip
        assert both(ours, theirs, *step) == (0, 0), step
    for name in ("gd/x", "gd/sub/y", "README.md", "a.txt"):
        assert (ours.path / name).read_bytes() == (theirs.path / name).read_bytes(), name
    assert both(ours, theirs, "get", url, "README.md") == (1, 1)  # exists already


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("data/a.txt", "--rev", "v9"), "unknown revision 'v9'"),
        (("data/zzz",), "neither tracked"),
        (("data/a.txt", "--remote", "nope"), None),
    ],
)
def test_get_errors_are_one_line(registry: Project, tmp_path: Path, args, message) -> None:
    if message is None:  # a remote that does not exist, asked of a clone (no cache)
        args, message = ("data/a.txt", "--remote", "nope"), "remote 'nope' is not configured"
        url = f"file://{registry.path}"
    else:
        url = str(registry.path)
    result = subprocess.run(
        ["python", "-m", "llmpipe", "get", url, *args],
        capture_output=True, text=True, env=llmpipe_env(), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("ERROR: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_not_a_project_and_missing_remote(registry: Project, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    subprocess.run(["git", "init", "-q"], cwd=plain, check=True)
    result = subprocess.run(
        ["python", "-m", "llmpipe", "ls", str(plain)],
        capture_output=True, text=True, env=llmpipe_env(), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1 and "is not an llmpipe or DVC project" in result.stderr
    registry.ok("remote", "remove", "store")
    registry.commit("no remote")
    result = subprocess.run(
        ["python", "-m", "llmpipe", "get", f"file://{registry.path}", "data/a.txt"],
        capture_output=True, text=True, env=llmpipe_env(), cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 1 and "has no remote" in result.stderr, result.stderr
    assert not os.path.exists(tmp_path / "a.txt")
