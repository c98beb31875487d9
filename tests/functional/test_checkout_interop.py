"""`checkout` as the real dvc does it: file modes, what it prints, branch switches."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from tests.conftest import llmpipe_env, needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


def mode(project, relpath: str) -> int:  # noqa: ANN001
    return stat.S_IMODE(os.stat(project.path / relpath).st_mode)


def under_umask(project, umask: str, *command: str) -> None:  # noqa: ANN001
    """Run `command` in the project with `umask` set (llmpipe from this checkout)."""
    subprocess.run(
        ["sh", "-c", f'umask {umask} && exec "$@"', "sh", *command],
        cwd=project.path,
        env=llmpipe_env(),
        check=True,
        capture_output=True,
    )


@pytest.mark.parametrize("umask", ["022", "077"])
def test_files_get_dvcs_modes_exec_bit_included(project, umask) -> None:  # noqa: ANN001
    project.write("run.sh", "#!/bin/sh\necho hi\n")
    project.write("plain.txt", "plain\n")
    os.chmod(project.path / "run.sh", 0o755)
    project.run("dvc", "add", "run.sh", "plain.txt")
    modes = {}
    for tool in (("dvc",), ("python", "-m", "llmpipe")):
        for name in ("run.sh", "plain.txt"):
            (project.path / name).unlink()
        under_umask(project, umask, *tool, "checkout")
        modes[tool[0]] = (mode(project, "run.sh"), mode(project, "plain.txt"))
    assert modes["python"] == modes["dvc"]
    assert modes["dvc"] == ((0o744, 0o644) if umask == "022" else (0o700, 0o600))


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def dvc_out(project, *args: str) -> list[str]:  # noqa: ANN001
    return lines(project.run("dvc", *args).stdout)


def test_checkout_prints_what_dvc_prints(project, dvc_project) -> None:  # noqa: ANN001
    outputs = {}
    for proj, tool in ((dvc_project, "dvc"), (project, "llmpipe")):
        proj.write("foo", "foo\n")
        proj.write("dd/x", "x\n")
        proj.write("dd/sub/y", "y\n")
        proj.run("dvc", "add", "-q", "foo", "dd")

        def checkout(*args: str, proj=proj, tool=tool) -> list[str]:  # noqa: ANN001
            if tool == "dvc":
                return dvc_out(proj, "checkout", *args)
            return lines(proj.ok("checkout", *args).out)

        seen = [checkout()]  # nothing to do: nothing printed
        (proj.path / "foo").unlink()
        (proj.path / "dd/sub/y").unlink()
        seen.append(checkout())
        seen.append(checkout("--relink"))
        import shutil

        shutil.rmtree(proj.path / "dd")
        seen.append(checkout("dd.dvc"))
        outputs[tool] = seen
    assert outputs["llmpipe"] == outputs["dvc"]
    assert outputs["dvc"] == [
        [],
        ["M       dd/", "A       foo"],
        ["Relinked successfully"],
        ["A       dd/"],
    ]


def branch_switch(proj, tool: str) -> list[list[str]]:  # noqa: ANN001
    """main tracks foo; `other` changes it and adds a file and a folder only it tracks."""

    def add(*paths: str) -> None:
        if tool == "dvc":
            proj.run("dvc", "add", "-q", *paths)
        else:
            proj.ok("add", *paths)

    def checkout() -> list[str]:
        if tool == "dvc":
            return dvc_out(proj, "checkout")
        return lines(proj.ok("checkout").out)

    proj.write("foo", "foo\n")
    add("foo")
    proj.commit("main")
    proj.git("checkout", "-q", "-b", "other")
    os.chmod(proj.path / "foo", 0o644)
    proj.write("foo", "foo on other\n")
    proj.write("only_in_branch", "bar\n")
    proj.write("dd/x", "x\n")
    add("foo", "only_in_branch", "dd")
    proj.commit("other")
    seen = []
    for branch in ("main", "other", "main"):
        proj.git("checkout", "-q", branch)
        seen.append(checkout())
        seen.append(sorted(p.name for p in proj.path.iterdir() if not p.name.startswith(".")))
    return seen


def test_a_branch_switch_removes_and_restores_outputs_as_dvc_does(project, dvc_project) -> None:  # noqa: ANN001
    ours, theirs = branch_switch(project, "llmpipe"), branch_switch(dvc_project, "dvc")
    assert ours == theirs
    assert theirs[0] == ["M       foo", "D       dd/", "D       only_in_branch"]
    assert theirs[1] == ["foo", "foo.dvc"]
    assert theirs[2] == ["M       foo", "A       dd/", "A       only_in_branch"]


def test_an_edited_output_of_the_branch_left_is_kept(project) -> None:  # noqa: ANN001
    project.write("foo", "foo\n")
    project.ok("add", "foo")
    project.commit("main")
    project.git("checkout", "-q", "-b", "other")
    project.write("only_in_branch", "bar\n")
    project.ok("add", "only_in_branch")
    project.commit("other")
    os.chmod(project.path / "only_in_branch", 0o644)
    project.write("only_in_branch", "edited by hand\n")
    project.git("checkout", "-q", "main")
    assert lines(project.ok("checkout").out) == []
    assert project.read("only_in_branch") == "edited by hand\n"


def test_a_stage_output_of_the_branch_left_is_removed(project) -> None:  # noqa: ANN001
    project.commit("empty")
    project.git("checkout", "-q", "-b", "other")
    project.write(
        "dvc.yaml", "stages:\n  make:\n    cmd: echo made > made.txt\n    outs: [made.txt]\n"
    )
    project.ok("repro")
    project.commit("other")
    project.git("checkout", "-q", "main")
    assert lines(project.ok("checkout").out) == ["D       made.txt"]
    assert not (project.path / "made.txt").exists()
    project.git("checkout", "-q", "other")
    assert lines(project.ok("checkout").out) == ["A       made.txt"]


def test_an_output_path_or_a_path_inside_a_tracked_folder_is_checked_out_as_dvc_does(
    project, tmp_path
) -> None:  # noqa: ANN001
    from tests.functional.twins import Twins

    project.write("data/file.txt", "a\n")
    project.write("data/dir/x", "x\n")
    project.write("data/dir/y", "y\n")
    project.write("dvc.yaml", "stages:\n  s:\n    cmd: echo hi > out.txt\n    outs: [out.txt]\n")
    project.ok("add", "data/file.txt", "data/dir")
    project.ok("repro")
    project.commit("tracked")
    twins = Twins(project, tmp_path)
    twins.shell("rm", "-rf", "data/file.txt", "data/dir", "out.txt")
    files = ("data/file.txt", "data/dir/x", "data/dir/y", "data/dir/sub/e", "out.txt")
    for step in [
        ("checkout", "data/file.txt"),  # the output of a .dvc file
        ("checkout", "out.txt"),  # a stage's output
        ("checkout", "data/dir/x"),  # that file of the folder only: no y
        ("checkout", "data/dir/nope"),  # nothing the folder records: nothing to do
        ("checkout", "data/dir"),  # the whole folder
    ]:
        ours, theirs = twins.both(*step)
        assert lines(ours.stdout) == lines(theirs.stdout), step
        twins.same_files(*files)
    twins.write("data/dir/x", "edited\n")
    twins.write("data/dir/sub/e", "extra\n")
    twins.shell("rm", "data/dir/y")
    # Unsaved work is refused by both (dvc exits 255, llmpipe 1), and nothing changes.
    ours = project.llmpipe("checkout", "data/dir/x")
    theirs = subprocess.run(["dvc", "checkout", "data/dir/x"], cwd=twins.theirs,
                            capture_output=True, text=True, env=llmpipe_env())  # fmt: skip
    assert ours.returncode and theirs.returncode and "data/dir/x" in ours.stderr
    twins.same_files(*files)
    for step in [("checkout", "-f", "data/dir/x"), ("checkout", "-f", "data/dir/sub")]:
        ours, theirs = twins.both(*step)
        assert lines(ours.stdout) == lines(theirs.stdout) == ["M       data/dir/"], step
        twins.same_files(*files)
    assert not (project.path / "data/dir/y").exists()  # only the paths named were restored
    assert not (project.path / "data/dir/sub").exists()  # what the folder lacks is removed


def test_summary_and_allow_missing_as_dvc(project, tmp_path) -> None:  # noqa: ANN001
    from tests.functional.twins import Twins

    project.write("data/file.txt", "a\n")
    project.write("data/dir/x", "x\n")
    project.write("data/dir/y", "y\n")
    project.ok("add", "data/file.txt", "data/dir")
    project.commit("tracked")
    twins = Twins(project, tmp_path)
    twins.shell("rm", "-rf", "data/file.txt", "data/dir")
    for expected in ("3 files added", "No changes."):
        ours, theirs = twins.both("checkout", "--summary")
        assert ours.stdout == theirs.stdout == expected + "\n"
    twins.shell("rm", "-rf", "data/file.txt", "data/dir", ".dvc/cache/files/md5/60")  # a.txt's
    ours, theirs = twins.both("checkout", "--allow-missing")  # exit 0, the rest checked out
    assert lines(ours.stdout) == lines(theirs.stdout) == ["A       data/dir/"]
    assert ours.stderr == ""
    twins.same_files("data/file.txt", "data/dir/x", "data/dir/y")


PIPELINE = """\
stages:
  one:
    cmd: cp data/file.txt one.txt
    deps: [data/file.txt]
    outs: [one.txt]
  two:
    cmd: cp one.txt two.txt
    deps: [one.txt]
    outs: [two.txt]
"""


def test_with_deps_and_recursive_targets_as_dvc(project, tmp_path) -> None:  # noqa: ANN001
    from tests.functional.twins import Twins

    project.write("data/file.txt", "a\n")
    project.write("other.txt", "o\n")
    project.write("dvc.yaml", PIPELINE)
    project.ok("add", "data/file.txt", "other.txt")
    project.ok("repro")
    project.commit("tracked")
    twins = Twins(project, tmp_path)
    files = ("data/file.txt", "other.txt", "one.txt", "two.txt")
    for step in [("checkout", "-R", "data"), ("checkout", "-d", "two"), ("checkout", "-R", ".")]:
        twins.shell("rm", "-f", *files)
        ours, theirs = twins.both(*step)
        assert lines(ours.stdout) == lines(theirs.stdout), step
        twins.same_files(*files)
    twins.write("data/file.txt", "b\n")
    twins.both("commit", "-f", "-R", "data")  # the .dvc files below data/, as dvc
    twins.same_files("data/file.txt.dvc", "dvc.lock")
    assert "md5: 3b5d5c3712955042212316173ccf37be" in project.read("data/file.txt.dvc")
