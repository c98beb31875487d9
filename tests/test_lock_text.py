"""Lock-file text: verbatim reuse of unchanged entries, fallback on odd files."""

from __future__ import annotations

from llmpipe.yamlio import load_yaml, render_lock, split_stage_blocks

LOCK = """schema: '2.0'
stages:
  a:
    cmd: echo a > a.txt
    outs:
    - path: a.txt
      hash: md5
      md5: 60b725f10c9c85c70d97880dfe8191b3
      size: 2
  'b: odd':
    cmd: cat a.txt
"""


def test_blocks_round_trip_byte_for_byte():
    blocks = split_stage_blocks(LOCK)
    assert set(blocks) == {"a", "b: odd"}
    stages = load_yaml(LOCK, "dvc.lock")["stages"]
    assert render_lock(stages, blocks) == LOCK
    assert render_lock(stages) == LOCK


def test_unexpected_layout_gives_no_blocks():
    assert split_stage_blocks("# comment\n" + LOCK) == {}
    assert split_stage_blocks(LOCK + "other: 1\n") == {}


def test_changed_entry_is_rendered_afresh():
    blocks = split_stage_blocks(LOCK)
    stages = load_yaml(LOCK, "dvc.lock")["stages"]
    stages["a"]["cmd"] = "echo b > a.txt"
    blocks.pop("a")
    assert "cmd: echo b > a.txt" in render_lock(stages, blocks)
