"""push, fetch, pull and `status -c` as the real dvc does them, on a folder remote."""

from __future__ import annotations

import shutil

import pytest

from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


def lines(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def tracked_data(proj, remote) -> None:  # noqa: ANN001
    proj.write("data/f1", "1\n")
    proj.write("data/f2", "2\n")
    proj.write("data/sub/f3", "3\n")
    proj.write("one", "one\n")
    proj.run("dvc", "add", "-q", "data", "one")
    proj.run("dvc", "remote", "add", "-d", "store", str(remote))
    proj.run("dvc", "push", "-q")
    proj.commit("data")


def pull_story(proj, tool: str) -> list[list[str]]:  # noqa: ANN001
    def pull() -> list[str]:
        if tool == "dvc":
            return lines(proj.run("dvc", "pull").stdout)
        return lines(proj.ok("pull").out)

    seen = []
    shutil.rmtree(proj.path / ".dvc/cache")
    shutil.rmtree(proj.path / "data")
    (proj.path / "one").unlink()
    seen.append(pull())  # everything fetched and added
    seen.append(pull())  # nothing to do
    (proj.path / "data/f1").unlink()
    seen.append(pull())  # one file of a folder restored from the cache
    return seen


def test_pull_prints_dvcs_lines_and_summary(project, dvc_project, tmp_path) -> None:  # noqa: ANN001
    tracked_data(project, tmp_path / "remote-llmpipe")
    tracked_data(dvc_project, tmp_path / "remote-dvc")
    ours, theirs = pull_story(project, "llmpipe"), pull_story(dvc_project, "dvc")
    assert ours == theirs
    assert theirs[0] == ["A       data/", "A       one", "5 files fetched and 4 files added"]
    assert theirs[1] == ["Everything is up to date."]
    assert theirs[2] == ["M       data/", "1 file added"]


def remote_objects(remote) -> set[str]:  # noqa: ANN001
    folder = remote / "files"
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def cache_objects(proj) -> set[str]:  # noqa: ANN001
    folder = proj.path / ".dvc/cache/files"
    return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}


def missing_story(proj, tool: str, remote) -> tuple[int, str]:  # noqa: ANN001
    proj.write("data/f1", "1\n")
    proj.write("data/f2", "2\n")
    proj.write("one", "one\n")
    proj.run("dvc", "add", "-q", "data", "one")
    proj.run("dvc", "remote", "add", "-d", "store", str(remote))
    (proj.path / ".dvc/cache/files/md5/b0/26324c6904b2a9cb4b88d6d61c81d1").unlink()  # f1
    if tool == "dvc":
        result = proj.run("dvc", "push", check=False)
        return result.returncode, result.stderr
    result = proj.cli("push")
    return result.code, result.err


def test_push_with_an_object_missing_everywhere_warns_and_pushes_the_rest(
    project, dvc_project, tmp_path
) -> None:  # noqa: ANN001
    ours = missing_story(project, "llmpipe", tmp_path / "r-llmpipe")
    theirs = missing_story(dvc_project, "dvc", tmp_path / "r-dvc")
    warning = "Some of the cache files do not exist neither locally nor on remote"
    assert theirs[0] == ours[0] == 0
    assert warning in theirs[1] and warning in ours[1]
    assert "md5: b026324c6904b2a9cb4b88d6d61c81d1 (data/f1)" in ours[1]
    # Both send the rest and keep back the .dir whose entry is missing.
    assert remote_objects(tmp_path / "r-llmpipe") == remote_objects(tmp_path / "r-dvc")
    assert len(remote_objects(tmp_path / "r-dvc")) == 2


def cloud_status(proj, tool: str, *args: str) -> str:  # noqa: ANN001
    if tool == "dvc":
        return proj.run("dvc", "status", "-c", *args).stdout
    return proj.ok("status", "-c", *args).out


def test_status_cloud_names_every_file_as_dvc_does(project, dvc_project, tmp_path) -> None:  # noqa: ANN001
    import json

    results = {}
    for proj, tool in ((project, "llmpipe"), (dvc_project, "dvc")):
        proj.write("data/f1", "1\n")
        proj.write("data/sub/f2", "2\n")
        proj.write("one", "one\n")
        proj.write("two", "two\n")
        proj.run("dvc", "add", "-q", "data", "one", "two")
        proj.run("dvc", "remote", "add", "-d", "store", str(tmp_path / f"r-{tool}"))
        proj.run("dvc", "push", "-q", "two")
        (proj.path / ".dvc/cache/files/md5/b0/26324c6904b2a9cb4b88d6d61c81d1").unlink()  # f1
        (proj.path / ".dvc/cache/files/md5" / "c1/93497a1a06b2c72230e6146ff47080").unlink()  # two
        as_json = json.loads(cloud_status(proj, tool, "--json"))
        text = [line for line in cloud_status(proj, tool).splitlines() if line.strip()]
        results[tool] = (as_json, sorted(text), [line.split(":")[0] for line in text])
    assert results["llmpipe"][0] == results["dvc"][0]
    assert results["dvc"][0] == {
        "two": "deleted",
        "data": "new",
        "data/sub/f2": "new",
        "one": "new",
        "data/f1": "missing",
    }
    assert list(results["llmpipe"][0].values()) == ["deleted", "new", "new", "new", "missing"]
    assert results["llmpipe"][1:] == results["dvc"][1:]  # same lines, states in dvc's order


def history(proj, remote) -> None:  # noqa: ANN001
    """Data at a tagged commit, a commit no ref points at, a branch and main; a metric
    that is not cached. The remote is configured first: dvc reads each revision's own
    config, and leaves out (silently) a revision that names no remote."""
    proj.run("dvc", "remote", "add", "-d", "store", str(remote))
    proj.write(
        "dvc.yaml",
        "stages:\n  m:\n    cmd: cp data.txt copy.txt && echo 1 > m.json\n"
        "    deps: [data.txt]\n    outs: [copy.txt]\n"
        "    metrics:\n    - m.json:\n        cache: false\n",
    )
    for version, ref in (("v0", "tag"), ("v1", None), ("v2", "branch"), ("v3", None)):
        proj.write("data.txt", f"{version}\n")
        proj.run("dvc", "repro", "-q")
        proj.commit(version)
        if ref == "tag":
            proj.git("tag", "t0")
        elif ref == "branch":
            proj.git("branch", "side")


@pytest.mark.parametrize("flag", ["-a", "-T", "-A"])
def test_push_and_fetch_of_revisions_move_what_dvc_moves(
    project, dvc_project, tmp_path, flag
) -> None:  # noqa: ANN001
    moved = {}
    for proj, tool in ((project, "llmpipe"), (dvc_project, "dvc")):
        remote = tmp_path / f"r-{tool}"
        history(proj, remote)
        if tool == "dvc":
            proj.run("dvc", "push", "-q", flag)
        else:
            proj.ok("push", flag)
        pushed = remote_objects(remote)
        shutil.rmtree(proj.path / ".dvc/cache")
        if tool == "dvc":
            proj.run("dvc", "fetch", "-q", flag)
        else:
            proj.ok("fetch", flag)
        moved[tool] = (pushed, cache_objects(proj))
    assert moved["llmpipe"] == moved["dvc"]
    expected = {"-a": 2, "-T": 2, "-A": 4}[flag]  # versions whose copy.txt travels
    assert len(moved["dvc"][0]) == expected


def test_the_audit_trail_goes_up_only_with_a_push_of_everything(project, tmp_path) -> None:  # noqa: ANN001
    project.write("a.txt", "a\n")
    project.write("b.txt", "b\n")
    project.ok("add", "a.txt", "b.txt")  # an audited verb: the project has a trail now
    remote = tmp_path / "remote"
    project.ok("remote", "add", "-d", "store", str(remote))
    project.ok("push", "a.txt.dvc")
    assert not (remote / "llmpipe").exists()
    assert sorted(p.name for p in remote.iterdir()) == ["files"]
    project.ok("push")
    assert sorted(p.name for p in remote.iterdir()) == ["files", "llmpipe"]
    assert {p.parent.name for p in (remote / "llmpipe").rglob("*") if p.is_file()} == {"audit"}


def test_no_trail_no_llmpipe_files(project, tmp_path) -> None:  # noqa: ANN001
    project.write("a.txt", "a\n")
    project.run("dvc", "add", "-q", "a.txt")
    remote = tmp_path / "remote"
    project.ok("remote", "add", "-d", "store", str(remote))
    shutil.rmtree(project.path / ".llmpipe/audit", ignore_errors=True)
    project.ok("push")
    assert sorted(p.name for p in remote.iterdir()) == ["files"]


def test_pull_without_a_remote_as_dvc(project, dvc_project) -> None:  # noqa: ANN001
    codes = {}
    for proj, tool in ((project, "llmpipe"), (dvc_project, "dvc")):
        proj.write("one", "one\n")
        proj.run("dvc", "add", "-q", "one")

        def pull(proj=proj, tool=tool):  # noqa: ANN001, ANN202
            if tool == "dvc":
                result = proj.run("dvc", "pull", check=False)
                return result.returncode, result.stdout + result.stderr
            result = proj.cli("pull")
            return result.code, result.out + result.err

        nothing = pull()
        shutil.rmtree(proj.path / ".dvc/cache")
        (proj.path / "one").unlink()
        something = pull()
        codes[tool] = (nothing[0], something[0])
        if tool == "llmpipe":
            assert "Everything is up to date." in nothing[1]
            assert "remote add -d" in something[1]
    assert codes["llmpipe"] == codes["dvc"] == (0, 1)
