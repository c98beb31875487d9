"""`add` as the real dvc does it: refusals, re-adding, adding inside a tracked directory,
symlinks inside an added directory. Each story runs under both tools and is compared."""

from __future__ import annotations

import os
import shutil

import pytest

from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


def add(proj, tool: str, *paths: str):  # noqa: ANN001, ANN201
    """`add` under `tool`; (exit code, stderr)."""
    if tool == "dvc":
        result = proj.run("dvc", "add", *paths, check=False)
        return result.returncode, result.stderr
    result = proj.cli("add", *paths)
    return result.code, result.err


def snapshot(proj) -> dict[str, str]:  # noqa: ANN001
    """Every file git would see (dvc files, .gitignore) and the cache's object names."""
    found = {}
    for folder, dirs, files in os.walk(proj.path):
        dirs[:] = [d for d in dirs if d not in (".git", ".llmpipe", "tmp")]
        for name in files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, proj.path)
            if rel.endswith((".dvc", ".gitignore")) or rel.startswith(".dvc/cache"):
                found[rel] = "" if rel.startswith(".dvc/cache") else proj.read(rel)
    return found


REFUSALS = {
    "tracked.txt": "output 'tracked.txt' is already tracked by SCM (e.g. Git).",
    "d": "Cannot add 'd', because it is overlapping with other DVC tracked output: 'd/sub'.",
    "link/f": "Cannot add files inside symlinked directories to DVC.",
    "link": "Cannot add files inside symlinked directories to DVC.",
    "dvc.yaml": "DVC file 'dvc.yaml' cannot be an output.",
    "d/sub.dvc": "DVC file 'sub.dvc' cannot be an output.",
    "made.txt": "cannot update 'made.txt': overlaps with an output of stage: 'make' in 'dvc.yaml'.",
}


def refusal_setup(proj) -> None:  # noqa: ANN001
    proj.write("tracked.txt", "in git\n")
    proj.git("add", "tracked.txt")
    proj.write("d/sub/a", "a\n")
    proj.run("dvc", "add", "-q", "d/sub")
    proj.write("real/f", "r\n")
    os.symlink("real", proj.path / "link")
    proj.write("dvc.yaml", "stages:\n  make:\n    cmd: echo m > made.txt\n    outs: [made.txt]\n")
    proj.run("dvc", "repro", "-q")


def test_add_refuses_what_dvc_refuses_and_writes_nothing(project, dvc_project) -> None:  # noqa: ANN001
    for proj, tool in ((dvc_project, "dvc"), (project, "llmpipe")):
        refusal_setup(proj)
        before = snapshot(proj)
        for target, reason in REFUSALS.items():  # a refusal changes nothing: one set-up
            code, err = add(proj, tool, target)
            assert code != 0, (tool, target, err)
            assert reason in err, (tool, target, err)
            assert snapshot(proj) == before, (tool, target)


def readd_story(proj, tool: str) -> list[str]:  # noqa: ANN001
    proj.write("f", "1\n")
    add(proj, tool, "f")
    text = proj.read("f.dvc").replace(
        "outs:\n",
        "# top comment\ndesc: the top-level description\nmeta:\n  owner: me   # inline\nouts:\n",
    )
    text += (
        "  desc: file description   # why\n  type: dataset\n  labels:\n  - a\n  - b\n"
        "  remote: other\n  meta:\n    source: somewhere\n  push: false\n"
    )
    proj.write("f.dvc", text)
    seen = []
    for content, mode in (("22\n", 0o644), ("333\n", 0o755), ("4\n", 0o644)):
        os.chmod(proj.path / "f", 0o644)
        proj.write("f", content)
        os.chmod(proj.path / "f", mode)
        assert add(proj, tool, "f")[0] == 0
        seen.append(proj.read("f.dvc"))
    return seen


def test_readding_keeps_the_rest_of_the_dvc_file_as_dvc_does(project, dvc_project) -> None:  # noqa: ANN001
    ours, theirs = readd_story(project, "llmpipe"), readd_story(dvc_project, "dvc")
    assert ours == theirs
    assert "# top comment" in theirs[0] and "  push: false\n  isexec: true\n" in theirs[1]


HAND_WRITTEN = {
    # no hash yet, a comment and a default option: the facts go last, `cache: true` goes
    "commit": "outs:\n- path: foo\n  desc: my file  # keep\n  cache: true\n",
    # a stale hash among options at their defaults, `size` missing
    "add": "outs:\n- path: foo\n  persist: false\n  push: true\n  remote: r1\n"
    "  md5: abc\n  hash: md5\n  cache: true\n  desc: d\n",
}


def hand_written_story(proj, tool: str) -> list[str]:  # noqa: ANN001
    seen = []
    for verb, text in HAND_WRITTEN.items():
        proj.write("foo", f"content for {verb}\n")
        proj.write("foo.dvc", text)
        args = ("commit", "-f", "foo.dvc") if verb == "commit" else ("add", "foo")
        result = proj.run("dvc", *args, check=False) if tool == "dvc" else proj.cli(*args)
        assert (result.returncode if tool == "dvc" else result.code) == 0, (tool, verb)
        seen.append(proj.read("foo.dvc"))
    return seen


def test_commit_and_add_rewrite_a_hand_written_dvc_file_as_dvc_does(project, dvc_project) -> None:  # noqa: ANN001
    ours, theirs = hand_written_story(project, "llmpipe"), hand_written_story(dvc_project, "dvc")
    assert ours == theirs
    assert theirs[0].index("desc: my file  # keep") < theirs[0].index("md5:")
    assert "cache: true" not in theirs[0] and "persist" not in theirs[1]


def in_directory_story(proj, tool: str) -> list[dict[str, str]]:  # noqa: ANN001
    proj.write("data/f1", "1\n")
    add(proj, tool, "data")
    proj.commit("data")
    seen = []
    steps = [
        lambda: proj.write("data/f2", "2\n"),  # a new file: entries appended
        lambda: proj.write("data/f1", "11\n"),  # a changed file: size left out
        lambda: proj.write("data/sub/f3", "3\n"),  # a new sub-folder
        lambda: (proj.path / "data/f2").unlink(),  # a deleted file: dropped
    ]
    for step, target in zip(steps, ("data/f2", "data/f1", "data/sub", "data/f2"), strict=True):
        os.chmod(proj.path / "data/f1", 0o644)
        step()
        code, err = add(proj, tool, target)
        assert code == 0, (tool, err)
        seen.append(snapshot(proj))
    return seen


def test_adding_inside_a_tracked_directory_updates_it_as_dvc_does(project, dvc_project) -> None:  # noqa: ANN001
    ours, theirs = in_directory_story(project, "llmpipe"), in_directory_story(dvc_project, "dvc")
    assert ours == theirs
    assert "nfiles: 2" in theirs[0]["data.dvc"] and "size: 4" in theirs[0]["data.dvc"]
    assert "size" not in theirs[1]["data.dvc"]
    assert not (project.path / "data/f2.dvc").exists()
    assert "up to date" in project.run("dvc", "status").stdout
    assert project.ok("status").out.strip() == "Data and pipelines are up to date."


def test_llmpipe_status_agrees_after_dvc_adds_inside_a_directory(project) -> None:  # noqa: ANN001
    project.write("data/f1", "1\n")
    project.run("dvc", "add", "-q", "data")
    project.write("data/f2", "2\n")
    project.run("dvc", "add", "-q", "data/f2")
    assert project.ok("status").out.strip() == "Data and pipelines are up to date."


def symlink_story(proj, tool: str) -> tuple[str, bool, str]:  # noqa: ANN001
    proj.write("ext/t.txt", "target\n")
    proj.write("ext/edir/e", "e\n")
    proj.write("d/a", "a\n")
    os.symlink("../ext/t.txt", proj.path / "d/link.txt")
    os.symlink("../ext/edir", proj.path / "d/dlink")
    assert add(proj, tool, "d")[0] == 0
    link = proj.path / "d/link.txt"
    return proj.read("d.dvc"), os.path.islink(link), link.read_text()


def test_a_symlink_inside_an_added_directory_becomes_its_content(project, dvc_project) -> None:  # noqa: ANN001
    ours, theirs = symlink_story(project, "llmpipe"), symlink_story(dvc_project, "dvc")
    assert ours == theirs
    assert theirs[1:] == (False, "target\n")
    assert "up to date" in project.run("dvc", "status").stdout
    shutil.rmtree(project.path / "d")
    project.run("dvc", "checkout", "-q")
    assert project.read("d/link.txt") == "target\n"
