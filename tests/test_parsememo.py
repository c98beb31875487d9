"""The parse memo: parsed YAML kept by content, never a stale or damaged answer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmpipe import parsememo
from llmpipe.errors import SpecError
from llmpipe.yamlio import load_with_lines
from tests.conftest import Project
from tests.test_startup import pipeline

TEXT = """\
stages:
  train:
    cmd: python train.py
    deps: [data.csv, {path: x}]
    params:
      - lr
    outs:
      - model.bin:
          cache: false
vars: &v {a: 1, b: [1.5, null, true, 0x10, on]}
again: *v
"""


@pytest.fixture
def memo_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "parsed"
    parsememo.use(str(directory))
    yield directory
    parsememo.use(None)


def lines_by_key(data: object, lines: dict[int, dict]) -> dict[str, dict]:
    """Key lines by the mapping's path, comparable between two parses."""
    found: dict[str, dict] = {}

    def walk(node: object, where: str) -> None:
        if isinstance(node, dict):
            found[where] = lines.get(id(node), {})
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{where}/{index}")

    walk(data, "")
    return found


def test_a_remembered_text_gives_the_same_data_and_lines(memo_dir: Path) -> None:
    fresh = load_with_lines(TEXT, "dvc.yaml", memo=True)
    assert len(os.listdir(memo_dir)) == 1
    again = load_with_lines(TEXT, "dvc.yaml", memo=True)
    assert again[0] == fresh[0]
    assert again[0] is not fresh[0]  # a copy each time: callers may change it
    assert lines_by_key(*again) == lines_by_key(*fresh)
    assert lines_by_key(*again)["/stages/train"] == {"cmd": 3, "deps": 4, "params": 5, "outs": 7}
    assert again[0]["vars"]["b"] == [1.5, None, True, 16, "on"]  # YAML 1.2, as before


def test_without_memo_nothing_is_kept(memo_dir: Path) -> None:
    load_with_lines(TEXT, "dvc.yaml")
    assert not memo_dir.exists()


def test_a_damaged_entry_is_parsed_again(memo_dir: Path) -> None:
    expected = load_with_lines(TEXT, "dvc.yaml", memo=True)[0]
    (entry,) = memo_dir.iterdir()
    raw = bytearray(entry.read_bytes())
    raw[-3] ^= 0xFF
    entry.write_bytes(bytes(raw))
    assert parsememo.recall(TEXT) is None
    assert load_with_lines(TEXT, "dvc.yaml", memo=True)[0] == expected


def test_invalid_yaml_is_reported_every_time(memo_dir: Path) -> None:
    for _ in range(2):
        with pytest.raises(SpecError, match="dvc.yaml:2:1: duplicate key 'a'"):
            load_with_lines("a: 1\na: 2\n", "dvc.yaml", memo=True)
    assert not memo_dir.exists()


# 9**12 paths through shared nodes: fine as data, a hang if walked path by path.
BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{n}: &{n} [{', '.join([f'*{p}'] * 9)}]\n"
    for p, n in zip("abcdefghijk", "bcdefghijkl", strict=True)
)


@pytest.mark.parametrize(
    "text",
    ["when: !!timestamp 2024-01-02\n", "loop: &a [1, *a]\n"],
    ids=["a type marshal lacks", "a recursive alias"],
)
def test_what_cannot_be_kept_is_parsed_each_time(memo_dir: Path, text: str) -> None:
    first = load_with_lines(text, "params.yaml", memo=True)[0]
    assert not memo_dir.exists() or not os.listdir(memo_dir)
    assert repr(load_with_lines(text, "params.yaml", memo=True)[0]) == repr(first)


def test_an_alias_bomb_is_not_walked_path_by_path(memo_dir: Path) -> None:
    """9**12 paths through shared nodes: the key-line walk gives up instead of hanging
    (the fuzz suite's alias bomb hung `status` here)."""
    for _ in range(2):
        data = load_with_lines(BOMB, "params.yaml", memo=True)[0]
        assert data["l"][0] is data["l"][1]  # shared, as parsed: never expanded
    assert not memo_dir.exists() or not os.listdir(memo_dir)


def test_old_entries_are_dropped(memo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parsememo, "MAX_ENTRIES", 4)
    for n in range(6):
        load_with_lines(f"n: {n}\n", "params.yaml", memo=True)
    assert len(os.listdir(memo_dir)) <= 4
    assert load_with_lines("n: 5\n", "params.yaml", memo=True)[0] == {"n": 5}


def test_an_edited_pipeline_is_read_anew(project: Project) -> None:
    """A project remembers its parsed files; an edit is another text, never a stale one."""
    pipeline(project)
    assert any((project.path / ".llmpipe" / "tmp" / "parsed").iterdir())
    assert "is up to date" in project.ok("repro").out
    project.write(
        "dvc.yaml",
        """\
        stages:
          copy:
            cmd: cp data.txt copy.txt && echo more >> copy.txt
            deps: [data.txt]
            outs: [copy.txt]
        """,
    )
    result = project.ok("repro")
    assert "Running stage 'copy'" in result.out
    assert project.read("copy.txt") == "hello\nmore\n"
    project.write("dvc.yaml", "stages:\n  copy:\n    cmd: a\n    cmd: b\n")
    failed = project.cli("repro")
    assert failed.code == 1 and "dvc.yaml:4:5: duplicate key 'cmd'" in failed.err
