"""`gc` as dvc's: the same flags keep the same objects, in the cache and (`-c`) on the
remote; stray files in the object folders go; the same lines are printed."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


def history(proj, remote) -> None:  # noqa: ANN001
    """The transfer tests' history (copy.txt at a tag, an unnamed commit, a branch and
    main), everything pushed, and a stray file that is not a hash in an object folder."""
    from tests.functional.test_transfer_interop import history as transfer_history

    transfer_history(proj, remote)
    proj.run("dvc", "push", "-q", "-A")
    stray = proj.path / ".dvc/cache/files/md5/c3/NOTHEX"
    stray.parent.mkdir(exist_ok=True)
    stray.write_text("not an object\n")


def objects(folder) -> set[str]:  # noqa: ANN001
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def gc(proj, tool: str, *flags: str) -> tuple[str, str]:  # noqa: ANN001
    """The command's output lines (stdout) and its warning line (stderr)."""
    if tool == "dvc":
        result = proj.run("dvc", "gc", "-f", *flags)
        out, err = result.stdout, result.stderr
    else:
        ran = proj.ok("gc", "-f", *flags)
        out, err = ran.out, ran.err
    warning = next(line for line in err.splitlines() if line.startswith("WARNING"))
    return out, warning


def built(project, dvc_project, tmp_path) -> dict:  # noqa: ANN001
    """The same history under each tool (built once: each gc runs on a copy)."""
    for proj, tool in ((project, "llmpipe"), (dvc_project, "dvc")):
        history(proj, tmp_path / f"r-{tool}")
    return {"llmpipe": project, "dvc": dvc_project}


def gc_copy(original, tool: str, where, capsys, *flags: str):  # noqa: ANN001, ANN201
    """gc FLAGS on a copy of `original` (and of its remote, which -c changes)."""
    from tests.conftest import Project

    remote = where / "remote"
    shutil.copytree(original.path, where / "proj", symlinks=True)
    shutil.copytree(original.path.parent / f"r-{tool}", remote)
    proj = Project(where / "proj", capsys)
    proj.run("dvc", "remote", "modify", "store", "url", str(remote))
    lines = gc(proj, tool, *flags)
    return lines, objects(proj.path / ".dvc/cache/files"), objects(remote / "files")


KEPT = {("-w",): 1, ("-a",): 2, ("-T",): 2, ("-A",): 4, ("--all-commits",): 4}
KEPT |= {("-a", "-T"): 3, ("--rev", "side"): 2}


def test_gc_keeps_what_dvc_keeps(project, dvc_project, tmp_path, capsys) -> None:  # noqa: ANN001
    projects = built(project, dvc_project, tmp_path)
    for number, (flags, kept) in enumerate(KEPT.items()):
        found = {
            tool: gc_copy(proj, tool, tmp_path / f"{number}-{tool}", capsys, *flags)
            for tool, proj in projects.items()
        }
        assert found["llmpipe"] == found["dvc"], flags
        assert len(found["dvc"][1]) == kept, flags  # copy.txt of each kept version
        assert not any("NOTHEX" in path for path in found["dvc"][1])
    found = {
        tool: gc_copy(proj, tool, tmp_path / f"c-{tool}", capsys, "-T", "-c")
        for tool, proj in projects.items()
    }
    assert found["llmpipe"][1:] == found["dvc"][1:]
    assert len(found["dvc"][2]) == 2  # main's and the tag's copy.txt stay on the remote
    ours, theirs = found["llmpipe"][0], found["dvc"][0]
    assert ours[1] == theirs[1]
    # dvc also sweeps DVC 2's layout on the remote and says so in a fourth line.
    assert theirs[0].splitlines()[:3] == ours[0].splitlines()


def test_gc_cloud_leaves_llmpipes_own_files(project, tmp_path) -> None:  # noqa: ANN001
    remote = tmp_path / "remote"
    project.ok("remote", "add", "-d", "store", str(remote))
    for name in ("a", "b"):
        project.write(f"{name}.txt", f"{name}\n")
        project.ok("add", f"{name}.txt")  # audited: the trail goes up with the push
    project.ok("push")
    (project.path / "b.txt.dvc").unlink()
    result = json.loads(project.ok("gc", "-w", "-c", "-f", "--json").out)
    assert result["remote"] == {"name": "store", "removed": 1, "kept": 1}
    assert {p.split("/")[0] for p in objects(remote)} == {"files", "llmpipe"}
    assert (remote / "llmpipe" / "audit").is_dir()


def test_status_does_not_count_cache_temporaries(project, tmp_path) -> None:  # noqa: ANN001
    """Interrupted writes leave `.…tmp` files in the object folders until gc's grace
    has passed: they are nobody's objects, so no status, nor gc's count, shows them."""
    project.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    project.write("data/f1", "1\n")
    project.ok("add", "data")
    project.ok("push")
    before = (project.ok("status").out, project.ok("status", "-c", "--json").out)
    folder = project.path / ".dvc/cache/files/md5/b0"
    (folder / ".26324c6904b2a9cb4b88d6d61c81d1.1a2b.tmp").write_text("half")
    (project.path / ".dvc/cache/files/md5/.stray.tmp").write_text("half")
    assert (project.ok("status").out, project.ok("status", "-c", "--json").out) == before
    assert '"removed": 0' in project.ok("gc", "-w", "--dry", "--json").out
