from __future__ import annotations

import subprocess

import pytest

from llmpipe import scm


def _git(cwd, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    result = subprocess.run(command, cwd=cwd, check=True, capture_output=True, text=True)
    return result.stdout.strip()


@pytest.fixture(autouse=True)
def _fresh_cache():
    scm.clear_cache()
    yield
    scm.clear_cache()


@pytest.fixture
def repo(tmp_path):
    """A git repository with one commit of one tracked file."""
    root = tmp_path / "repo"
    root.mkdir()
    _git(root, "init", "-q", "-b", "main")
    (root / "tracked.txt").write_text("one\n")
    _git(root, "add", "tracked.txt")
    _git(root, "commit", "-q", "-m", "first")
    return root


def test_outside_git_everything_is_none(tmp_path):
    assert scm.git_root(str(tmp_path)) is None
    assert scm.head_commit(str(tmp_path)) is None
    assert scm.is_dirty(str(tmp_path)) is None


def test_git_root_is_found_from_a_subdirectory(repo):
    (repo / "a" / "b").mkdir(parents=True)
    assert scm.git_root(str(repo / "a" / "b")) == str(repo)


def _hide_git(monkeypatch) -> None:
    """No git executable from here on: answers must come from reading `.git` itself."""
    monkeypatch.setenv("PATH", "")


def test_head_commit_matches_git_without_running_git(repo, monkeypatch):
    expected = _git(repo, "rev-parse", "HEAD")
    _hide_git(monkeypatch)
    assert scm.head_commit(str(repo)) == expected
    assert scm.is_dirty(str(repo)) is None  # needs git: unknown rather than wrong


def test_head_commit_through_packed_refs(repo, monkeypatch):
    _git(repo, "pack-refs", "--all")
    assert not (repo / ".git" / "refs" / "heads" / "main").exists()
    expected = _git(repo, "rev-parse", "HEAD")
    _hide_git(monkeypatch)
    assert scm.head_commit(str(repo)) == expected


def test_head_commit_of_a_detached_head(repo, monkeypatch):
    (repo / "tracked.txt").write_text("two\n")
    _git(repo, "commit", "-q", "-am", "second")
    _git(repo, "checkout", "-q", "--detach", "HEAD~1")
    expected = _git(repo, "rev-parse", "HEAD")
    assert expected != _git(repo, "rev-parse", "main")
    _hide_git(monkeypatch)
    assert scm.head_commit(str(repo)) == expected


def test_head_commit_in_a_linked_worktree(repo, tmp_path, monkeypatch):
    (repo / "tracked.txt").write_text("two\n")
    _git(repo, "commit", "-q", "-am", "second")
    worktree = tmp_path / "wt"
    _git(repo, "worktree", "add", "-q", "-b", "side", str(worktree), "HEAD~1")
    assert (worktree / ".git").is_file()
    expected = _git(worktree, "rev-parse", "HEAD")
    _hide_git(monkeypatch)
    assert scm.git_root(str(worktree)) == str(worktree)
    assert scm.head_commit(str(worktree)) == expected
    assert scm.head_commit(str(worktree)) != scm.head_commit(str(repo))


def test_unborn_branch_has_no_commit(tmp_path):
    _git(tmp_path, "init", "-q")
    assert scm.git_root(str(tmp_path)) == str(tmp_path)
    assert scm.head_commit(str(tmp_path)) is None


def test_dirty_counts_tracked_changes_only(repo):
    assert scm.is_dirty(str(repo)) is False
    (repo / "untracked.txt").write_text("new\n")
    scm.clear_cache()
    assert scm.is_dirty(str(repo)) is False
    (repo / "tracked.txt").write_text("changed\n")
    scm.clear_cache()
    assert scm.is_dirty(str(repo)) is True


def test_answers_are_cached_until_cleared(repo):
    first = scm.head_commit(str(repo))
    (repo / "tracked.txt").write_text("two\n")
    _git(repo, "commit", "-q", "-am", "second")
    assert scm.head_commit(str(repo)) == first
    scm.clear_cache()
    assert scm.head_commit(str(repo)) == _git(repo, "rev-parse", "HEAD") != first


def test_a_sub_directory_project_sees_the_enclosing_work_tree(repo):
    project = repo / ".hidden-proj"
    project.mkdir()
    head = _git(repo, "rev-parse", "HEAD")
    assert scm.prefix_in_work_tree(str(project)) == ".hidden-proj"
    assert scm.prefix_in_work_tree(str(repo)) == ""
    assert scm.head_commit(str(project)) == head
    assert scm.current_branch(str(project)) == "main"
    assert scm.is_dirty(str(project)) is False
    # A copy of the project can borrow the git directory of a work tree's top only.
    copy = repo.parent / "copy"
    copy.mkdir()
    assert not scm.link_git_dir(str(project), str(copy))
    assert scm.link_git_dir(str(repo), str(copy))
    assert _git(copy, "rev-parse", "HEAD") == head


def test_list_files_follows_gitignore_below_the_given_folder(repo, tmp_path):
    sub = repo / "sub"
    sub.mkdir()
    (sub / "kept.txt").write_text("k\n")
    (sub / "ignored.bin").write_text("i\n")
    (repo / ".gitignore").write_text("*.bin\n")
    assert scm.list_files(str(sub)) == ["kept.txt"]
    assert scm.list_files(str(repo)) == [".gitignore", "sub/kept.txt", "tracked.txt"]
    assert scm.list_files(str(tmp_path / "elsewhere")) is None


def test_user_identity_reads_git_config(repo):
    _git(repo, "config", "user.name", "Ada")
    assert scm.user_identity(str(repo)).startswith("Ada")
    _git(repo, "config", "user.email", "ada@example.com")
    assert scm.user_identity(str(repo)) == "Ada <ada@example.com>"
