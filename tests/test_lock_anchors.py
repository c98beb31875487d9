"""A dvc.lock with a YAML anchor in one stage and its alias in another (#15 item 14)."""

from __future__ import annotations

from llmpipe.lockfile import LockWriter, read_lock
from llmpipe.yamlio import split_stage_blocks

ANCHORED = """schema: '2.0'
stages:
  a:
    cmd: echo a > a.txt && echo done
    params:
      params.yaml: &shared
        lr: 0.1
        seed: 7
    outs:
    - path: a.txt
      hash: md5
      md5: 60b725f10c9c85c70d97880dfe8191b3
      size: 2
  b:
    cmd: cat a.txt *.txt
    params:
      params.yaml: *shared
"""


def test_rewriting_the_anchored_stage_keeps_the_alias_readable(tmp_path):
    (tmp_path / "dvc.lock").write_text(ANCHORED)
    before = read_lock(str(tmp_path), "dvc.lock")
    writer = LockWriter(str(tmp_path))
    changed = {**before["a"], "cmd": "echo A > a.txt"}
    writer.update("dvc.lock", "a", changed)
    after = read_lock(str(tmp_path), "dvc.lock")
    assert after["a"] == changed
    assert (
        after["b"]
        == before["b"]
        == {
            "cmd": "cat a.txt *.txt",
            "params": {"params.yaml": {"lr": 0.1, "seed": 7}},
        }
    )


def test_rewriting_the_aliasing_stage_keeps_the_anchor_readable(tmp_path):
    (tmp_path / "dvc.lock").write_text(ANCHORED)
    before = read_lock(str(tmp_path), "dvc.lock")
    writer = LockWriter(str(tmp_path))
    writer.update("dvc.lock", "b", {**before["b"], "cmd": "cat a.txt"})
    after = read_lock(str(tmp_path), "dvc.lock")
    assert after["a"] == before["a"]


def test_blocks_with_anchors_or_aliases_are_not_reused():
    assert split_stage_blocks(ANCHORED) == {}


def test_shell_operators_are_not_mistaken_for_aliases():
    text = ANCHORED.replace(": &shared", ":").replace(": *shared", ":\n        lr: 1")
    assert set(split_stage_blocks(text)) == {"a", "b"}
