""".dvcignore rules: llmpipe.dvcignore gives dvc's answer for every path of a tree."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmpipe.dvcignore import DvcIgnore
from llmpipe.fsutil import walk_files

TREE = [
    "keep.txt",
    "x.tmp",
    "scratch/s.txt",
    "data/a.txt",
    "data/b.log",
    "data/keep.log",
    "data/scratch/deep.txt",
    "data/sub/c.log",
    "data/sub/c.txt",
    "data/sub/notes/n.md",
    "data/only/here.bin",
    "logs/l.txt",
    "logs/keep.txt",
    "lib/.git/config",
    "a/b/c/d.txt",
    "a/x/c/d.txt",
    "weird/#hash.txt",
    "weird/!bang.txt",
    "trail/space.txt",
]
RULES = {
    ".dvcignore": "# comment\n*.tmp\nscratch/\nlogs\n!logs/keep.txt\na/**/d.txt\n\\#hash.txt\n",
    "data/.dvcignore": "*.log\n!keep.log\n/only/\nnotes\n",
    "data/sub/.dvcignore": "!c.log\n",
    "weird/.dvcignore": "\\!bang.txt\n",
    "trail/.dvcignore": "space.txt   \n",
}


def make_tree(root: Path) -> None:
    for relpath in TREE:
        (root / relpath).parent.mkdir(parents=True, exist_ok=True)
        (root / relpath).write_text(relpath)
    for relpath, text in RULES.items():
        (root / relpath).write_text(text)


def every_path(root: Path) -> list[tuple[str, bool]]:
    found = []
    for folder, dirs, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        for name in dirs:
            found.append((os.path.normpath(os.path.join(rel, name)), True))
        for name in files:
            found.append((os.path.normpath(os.path.join(rel, name)), False))
    return sorted(found)


def test_every_path_gets_dvcs_answer(tmp_path: Path) -> None:
    ignore_module = pytest.importorskip("dvc.ignore", reason="needs the dvc package")
    from dvc.fs import LocalFileSystem

    make_tree(tmp_path)
    theirs = ignore_module.DvcIgnoreFilter(LocalFileSystem(), str(tmp_path))
    ours = DvcIgnore.at(str(tmp_path))
    for relpath, is_dir in every_path(tmp_path):
        absolute = str(tmp_path / relpath)
        expected = theirs.is_ignored_dir(absolute) if is_dir else theirs.is_ignored_file(absolute)
        assert ours.ignored(relpath, is_dir) == expected, relpath


def test_a_walk_keeps_what_the_rules_keep(tmp_path: Path) -> None:
    make_tree(tmp_path)
    ignore = DvcIgnore.at(str(tmp_path))
    walked = {
        rel for rel, _ in walk_files(str(tmp_path / "data"), ignore.pruner(str(tmp_path / "data")))
    }
    assert walked == {
        ".dvcignore",
        "a.txt",
        "keep.log",
        "sub/.dvcignore",
        "sub/c.log",
        "sub/c.txt",
    }


def test_git_folders_are_always_left_out(tmp_path: Path) -> None:
    (tmp_path / "lib/.git").mkdir(parents=True)
    (tmp_path / "lib/.git/config").write_text("x")
    (tmp_path / "lib/a.txt").write_text("a")
    ignore = DvcIgnore.at(str(tmp_path))
    walked = [
        rel for rel, _ in walk_files(str(tmp_path / "lib"), ignore.pruner(str(tmp_path / "lib")))
    ]
    assert walked == ["a.txt"]


def test_a_walk_outside_the_project_is_not_pruned(tmp_path: Path) -> None:
    (tmp_path / "proj").mkdir()
    (tmp_path / "proj/.dvcignore").write_text("*\n")
    assert DvcIgnore.at(str(tmp_path / "proj")).pruner(str(tmp_path / "elsewhere")) is None
