"""Attacks through the workspace: a malicious commit aims checkout and pull at `.git/`,
at symlinks leading out of the project, or at the user's unsaved work (issue #12, items
1, 2 and 12). Each test runs the attack through the CLI on real git clones."""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import GIT_ENV, Project

HOOK = "#!/bin/sh\ntouch PWNED\n"


@pytest.fixture
def attacker(project: Project, tmp_path: Path) -> Project:
    """The attacker's project, with a folder remote that victims' clones share."""
    project.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    project.commit("init")
    return project


def _payload_dvcfile(project: Project, content: str, target: str, *, isexec: bool) -> None:
    """Cache and push `content`, then commit `evil.dvc` naming `target` as its path."""
    project.write("payload", content)
    project.ok("add", "payload")
    project.ok("push")
    entry = yaml.safe_load(project.read("payload.dvc"))["outs"][0]
    entry["path"] = target
    if isexec:
        entry["isexec"] = True
    (project.path / "payload.dvc").unlink()
    project.write("evil.dvc", yaml.safe_dump({"outs": [entry]}, sort_keys=False))
    project.commit("innocent-looking change")


def _victim(attacker: Project, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Project:
    """A fresh clone of the attacker's repository, as a colleague would make it."""
    path = tmp_path / "victim"
    subprocess.run(
        ["git", "clone", "-q", str(attacker.path), str(path)],
        check=True,
        env={**os.environ, **GIT_ENV},
    )
    return Project(path, capsys)


# ---------------------------------------------------------------- item 1: .git/


@pytest.mark.parametrize("command", ["pull", "checkout"])
def test_a_committed_dvc_file_cannot_write_a_git_hook(attacker, tmp_path, capsys, command):
    _payload_dvcfile(attacker, HOOK, ".git/hooks/post-commit", isexec=True)
    victim = _victim(attacker, tmp_path, capsys)
    if command == "checkout":
        victim.cli("fetch")  # brings the object (or refuses to, like pull)
    result = victim.cli(command)
    assert result.code != 0
    assert "'.git' folder" in result.err and "evil.dvc" in result.err
    assert not (victim.path / ".git/hooks/post-commit").exists()


def test_a_committed_dvc_file_cannot_rewrite_git_config(attacker, tmp_path, capsys):
    _payload_dvcfile(attacker, '[core]\n\tfsmonitor = "touch PWNED"\n', ".git/config", isexec=False)
    victim = _victim(attacker, tmp_path, capsys)
    before = (victim.path / ".git/config").read_bytes()
    assert victim.cli("pull").code != 0
    assert (victim.path / ".git/config").read_bytes() == before
    victim.git("status")  # would run the fsmonitor command had the config been written
    assert not (victim.path / "PWNED").exists()


@pytest.mark.parametrize(
    "out",
    [
        ".git/hooks/pre-commit",
        "sub/.git/hooks/pre-commit",  # a nested repository's hooks
        ".GIT/hooks/pre-commit",  # the same folder on case-insensitive filesystems
        ".dvc/config.local",
        ".llmpipe/policy.yaml",
    ],
)
def test_stage_outputs_inside_protected_folders_are_refused_at_load(project, out):
    project.write("dvc.yaml", f"stages:\n  a:\n    cmd: echo hi\n    outs: ['{out}']\n")
    for command in ("status", "checkout", "repro"):
        result = project.cli(command)
        assert result.code != 0, command
        assert "dvc.yaml" in result.err and "folder, which belongs to git or llmpipe" in result.err


def test_a_stage_dependency_inside_git_is_refused(project):
    project.write("dvc.yaml", "stages:\n  a:\n    cmd: echo hi > o\n    deps: [.git/config]\n")
    result = project.cli("status")
    assert result.code != 0 and "'.git' folder" in result.err


def test_a_symlink_into_git_is_not_written_through(attacker, tmp_path, capsys):
    # The name passes the load-time check; only resolving the symlink reveals .git/hooks.
    os.symlink(".git/hooks", attacker.path / "hooks")
    _payload_dvcfile(attacker, HOOK, "hooks/post-commit", isexec=True)
    victim = _victim(attacker, tmp_path, capsys)
    assert (victim.path / "hooks").is_symlink()
    result = victim.cli("pull")
    assert result.code != 0 and "inside the '.git' folder" in result.err
    assert not (victim.path / ".git/hooks/post-commit").exists()


# ---------------------------------------------------------------- item 2: symlinks out


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "precious.txt").write_text("not llmpipe's to delete\n")
    return folder


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_pull_does_not_empty_a_folder_a_committed_symlink_points_at(
    attacker, tmp_path, capsys, outside
):
    attacker.write("data/a.txt", "a\n")
    attacker.ok("add", "data")
    attacker.ok("push")
    attacker.commit("data")
    # Replace the tracked directory by a committed symlink to the victim's folder.
    attacker.run("rm", "-rf", "data")
    os.symlink(outside, attacker.path / "data")
    attacker.git("add", "-f", "data")
    attacker.commit("link")
    victim = _victim(attacker, tmp_path, capsys)
    before = _snapshot(outside)
    for command in ("pull", "checkout"):
        for force in ((), ("--force",)):
            result = victim.cli(command, *force)
            assert result.code != 0 and "leads outside the project" in result.err
            assert _snapshot(outside) == before


def test_a_symlinked_folder_inside_a_tracked_directory_is_not_written_through(project, outside):
    project.write("data/sub/x.txt", "x\n")
    project.ok("add", "data")
    project.run("rm", "-rf", "data/sub")
    os.symlink(outside, project.path / "data/sub")
    before = _snapshot(outside)
    result = project.cli("checkout", "--force")
    assert result.code != 0 and "data/sub" in result.err
    assert _snapshot(outside) == before


def test_add_does_not_replace_files_through_a_symlinked_folder(project, outside):
    os.symlink(outside, project.path / "ext")
    result = project.cli("add", "ext/precious.txt")
    assert result.code != 0 and "leads outside the project" in result.err
    assert not (project.path / "ext/precious.txt.dvc").exists()
    assert os.stat(outside / "precious.txt").st_nlink == 1


# ---------------------------------------------------------------- item 2: unsaved work


@pytest.fixture
def tracked(project: Project) -> Project:
    project.write("data/a.txt", "a\n")
    project.write("data/b.txt", "b\n")
    project.write("f.txt", "f\n")
    project.ok("add", "data", "f.txt")
    project.commit("data")
    return project


def _edit(path: Path, text: str) -> None:
    os.chmod(path, 0o644)  # outputs are read-only links to the cache
    path.unlink()
    path.write_text(text)


def _make_unsaved_changes(project: Project) -> None:
    _edit(project.path / "data/a.txt", "edited\n")
    _edit(project.path / "f.txt", "edited\n")
    (project.path / "data/new.txt").write_text("new work\n")


def test_checkout_keeps_unsaved_work_and_names_it(tracked):
    _make_unsaved_changes(tracked)
    result = tracked.cli("checkout")
    assert result.code != 0
    for path in ("data/a.txt", "data/new.txt", "f.txt"):
        assert path in result.err
    assert "nothing was changed" in result.err and "--force" in result.err
    assert tracked.read("data/a.txt") == "edited\n"
    assert tracked.read("data/new.txt") == "new work\n"
    assert tracked.read("f.txt") == "edited\n"
    assert tracked.read("data/b.txt") == "b\n"


def test_checkout_force_discards_unsaved_work(tracked):
    _make_unsaved_changes(tracked)
    tracked.ok("checkout", "--force")
    assert tracked.read("data/a.txt") == "a\n" and tracked.read("f.txt") == "f\n"
    assert not (tracked.path / "data/new.txt").exists()


def test_checkout_replaces_files_whose_content_is_cached(tracked):
    # Content that is in the cache can always be brought back: no refusal.
    _edit(tracked.path / "f.txt", "a\n")  # the content of data/a.txt, which is cached
    result = tracked.ok("checkout")
    assert "f.txt" in result.out and tracked.read("f.txt") == "f\n"


def test_pull_keeps_unsaved_work(tracked, tmp_path):
    tracked.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    tracked.ok("push")
    _edit(tracked.path / "f.txt", "edited\n")
    result = tracked.cli("pull")
    assert result.code != 0 and "f.txt" in result.err
    assert tracked.read("f.txt") == "edited\n"
    tracked.ok("pull", "--force")
    assert tracked.read("f.txt") == "f\n"


def test_unsaved_refusal_is_all_or_nothing(tracked):
    """A refusal for one output leaves every other output as it was too."""
    (tracked.path / "data/b.txt").chmod(0o644)
    (tracked.path / "data/b.txt").unlink()  # deleted: checkout would restore it...
    _edit(tracked.path / "f.txt", "edited\n")  # ...but this one is unsaved
    assert tracked.cli("checkout").code != 0
    assert not (tracked.path / "data/b.txt").exists()


# ---------------------------------------------------------------- item 12: symlinks in add


def test_add_of_a_symlink_stores_content_not_the_link(project, outside):
    with open(project.path / ".dvc/config", "a") as handle:
        handle.write("[cache]\n    type = hardlink\n")
    target = outside / "precious.txt"
    os.symlink(target, project.path / "link.txt")
    project.ok("add", "link.txt")
    entry = yaml.safe_load(project.read("link.txt.dvc"))["outs"][0]
    value = entry["md5"]
    obj = project.path / ".dvc/cache/files/md5" / value[:2] / value[2:]
    assert not os.path.samestat(os.stat(obj), os.stat(target))
    assert stat.S_IMODE(os.stat(target).st_mode) & stat.S_IWUSR  # left writable, untouched
    target.write_text("changed outside\n")
    assert obj.read_text() == "not llmpipe's to delete\n"
    # The workspace holds the cached content in place of the link, as dvc leaves it.
    assert not (project.path / "link.txt").is_symlink()
    assert project.read("link.txt") == "not llmpipe's to delete\n"
    assert project.ok("status").out.strip().endswith("up to date.")


def test_add_of_a_folder_with_a_symlink_stores_content(project, outside):
    with open(project.path / ".dvc/config", "a") as handle:
        handle.write("[cache]\n    type = hardlink\n")
    project.write("d/x.txt", "x\n")
    os.symlink(outside / "precious.txt", project.path / "d/l.txt")
    project.ok("add", "d")
    (outside / "precious.txt").write_text("changed outside\n")
    assert not (project.path / "d/l.txt").is_symlink()
    assert project.read("d/l.txt") == "not llmpipe's to delete\n"
    (project.path / "d/l.txt").chmod(0o644)
    (project.path / "d/l.txt").unlink()
    project.ok("checkout")
    assert project.read("d/l.txt") == "not llmpipe's to delete\n"
