"""llmpipe.revfs: files of a commit read through `git cat-file --batch`, and `TreeMemo`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from llmpipe.errors import LlmpipeError, RevisionError
from llmpipe.revfs import GitObjects, RevTree, TreeMemo, WorkTree, git_location, read_text


def git(root: Path, *args: str) -> str:
    command = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args]
    return subprocess.run(command, cwd=root, check=True, capture_output=True, text=True).stdout


def commit(root: Path, files: dict[str, str], message: str = "c") -> str:
    for relpath, text in files.items():
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(text)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD").strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    return root


def test_files_at_revisions_with_and_without_prefix(repo):
    first = commit(repo, {"sub/a.txt": "one\n", "sub/deep/b.txt": "b\n", "top.txt": "t\n"})
    (repo / "link").symlink_to("top.txt")
    second = commit(repo, {"sub/a.txt": "two\n"})
    with GitObjects(str(repo)) as objects:
        assert objects.commit_of("HEAD~1") == first and objects.commit_of("nope") is None
        old = RevTree(objects, first)
        assert old.read_bytes("sub/a.txt") == b"one\n" and old.exists("sub/deep/b.txt")
        assert sorted(old.paths()) == ["sub/a.txt", "sub/deep/b.txt", "top.txt"]
        head = RevTree(objects, second, prefix="sub")
        assert head.read_bytes("a.txt") == b"two\n" and head.read_bytes("missing") is None
        assert sorted(head.paths()) == ["a.txt", "deep/b.txt"]
        assert not head.exists("deep") and not RevTree(objects, second).exists("link")
        assert RevTree(objects, second, prefix="absent").read_bytes("a.txt") is None
        assert objects.read("HEAD:sub\nx") is None


def test_read_many_answers_in_order_in_batches(repo):
    commit(repo, {f"f{i}.txt": f"{i}\n" for i in range(300)})
    with GitObjects(str(repo)) as objects:
        names = [f"HEAD:f{i}.txt" for i in range(300)] + ["HEAD:missing", "bad\nname"]
        found = objects.read_many(names)
    assert [f[2] for f in found[:300] if f] == [f"{i}\n".encode() for i in range(300)]
    assert found[300:] == [None, None]


def test_find_skips_folders_and_keeps_answers_per_subtree(repo):
    first = commit(repo, {"a/x.dvc": "1", "a/y.txt": "", "skip/z.dvc": "", "b/c/w.dvc": ""})
    second = commit(repo, {"a/x.dvc": "2"})

    def wanted(name: str) -> bool:
        return name.endswith(".dvc")

    def enter(name: str, inside) -> bool:  # noqa: ANN001
        return name != "skip"

    with GitObjects(str(repo)) as objects:
        assert sorted(RevTree(objects, first).find(wanted, enter)) == ["a/x.dvc", "b/c/w.dvc"]
        tree = RevTree(objects, second)
        assert sorted(tree.find(wanted, enter)) == ["a/x.dvc", "b/c/w.dvc"]
        assert tree.read_bytes("a/x.dvc") == b"2"


def test_a_missing_blob_is_an_error_not_an_absent_file(repo):
    sha = commit(repo, {"dvc.lock": "schema: '2.0'\n"})
    blob = git(repo, "rev-parse", "HEAD:dvc.lock").strip()
    os.remove(repo / ".git" / "objects" / blob[:2] / blob[2:])
    with GitObjects(str(repo)) as objects:
        tree = RevTree(objects, sha)
        assert tree.exists("dvc.lock")
        with pytest.raises(LlmpipeError, match=r"dvc.lock' at commit .* is missing"):
            tree.read_bytes("dvc.lock")


def test_read_text_names_a_file_that_is_not_utf8(repo, tmp_path):
    sha = commit(repo, {"x": "ok"})
    (repo / "bad").write_bytes(b"\xff\xfe")
    with GitObjects(str(repo)) as objects:
        assert read_text(RevTree(objects, sha), "x") == "ok"
    with pytest.raises(LlmpipeError, match="'bad' is not UTF-8 text"):
        read_text(WorkTree(str(repo)), "bad")


def test_git_location_of_a_project_in_a_subfolder(repo, tmp_path):
    (repo / ".proj" / "inner").mkdir(parents=True)
    assert git_location(str(repo)) == (str(repo), "")
    assert git_location(str(repo / ".proj" / "inner")) == (str(repo), ".proj/inner")
    outside = tmp_path / "outside"
    outside.mkdir()
    with pytest.raises(RevisionError, match="not inside a git repository"):
        git_location(str(outside))


def test_tree_memo_reads_once_per_distinct_content(repo):
    first = commit(repo, {"dvc.yaml": "stages: {}\n", "params.yaml": "a: 1\n"})
    second = commit(repo, {"other.txt": "unrelated change\n"})
    third = commit(repo, {"params.yaml": "a: 2\n"})
    calls: list[str | None] = []

    def both(tree, relpath: str) -> tuple[str | None, str | None]:  # noqa: ANN001
        calls.append(tree.commit)
        return read_text(tree, relpath), read_text(tree, "params.yaml")

    memo = TreeMemo()
    with GitObjects(str(repo)) as objects:
        results = [memo.get(both, "dvc.yaml", RevTree(objects, c)) for c in (first, second, third)]
    assert calls == [first, third]  # the second commit has the same blobs at both paths
    assert results[1] is results[0] and results[2][1] == "a: 2\n"
    assert memo.get(both, "dvc.yaml", str(repo)) == ("stages: {}\n", "a: 2\n")  # never kept
    assert calls[-1] is None
