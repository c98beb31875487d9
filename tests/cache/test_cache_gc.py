"""Garbage collection of unused objects and stale temporaries."""

from __future__ import annotations

import os
import time

from cache_trees import write_tree

from llmpipe.cache.gc import TEMP_GRACE_SECONDS, GcResult, gc
from llmpipe.cache.save import save


def test_gc_keeps_used_objects_and_dir_entries(tmp_path, odb, state):
    data = save(write_tree(tmp_path / "data", {"a": b"1", "b": b"22"}), odb, state, ["copy"])
    (tmp_path / "old").write_bytes(b"old bytes")
    old = save(str(tmp_path / "old"), odb, state, ["copy"])
    kept_file = save(str(write_tree(tmp_path / "k", {"f": b"keep"})) + "/f", odb, state, ["copy"])
    result = gc(odb, [data, kept_file])
    assert result == GcResult(removed=1, kept=4, bytes_freed=len(b"old bytes"))
    assert not odb.exists(old.value)
    assert odb.exists(data.value) and odb.exists(kept_file.value)
    assert gc(odb, [data, kept_file]) == GcResult(0, 4, 0)


def test_gc_removes_a_stray_file_that_is_not_a_hash(odb):
    """As dvc's gc: nothing uses it, so it goes (it used to stop gc with an error)."""
    stray = os.path.join(odb.root, "c3", "NOTHEX")
    os.makedirs(os.path.dirname(stray))
    with open(stray, "w") as handle:
        handle.write("x")
    assert gc(odb, []) == GcResult(1, 0, 1)
    assert not os.path.exists(stray)


def test_dry_gc_removes_nothing(tmp_path, odb, state):
    (tmp_path / "f").write_bytes(b"unused")
    info = save(str(tmp_path / "f"), odb, state, ["copy"])
    assert gc(odb, [], dry=True) == GcResult(1, 0, 6)
    assert odb.exists(info.value)


def test_gc_removes_stale_temporaries_but_not_fresh_ones(tmp_path, odb):
    stale = odb.temp_path("ab" * 16)
    fresh = odb.temp_path("cd" * 16)
    for path in (stale, fresh):
        with open(path, "wb") as handle:
            handle.write(b"partial")
    old = time.time() - TEMP_GRACE_SECONDS - 10
    os.utime(stale, (old, old))
    assert gc(odb, []) == GcResult(0, 0, 7)
    assert not os.path.exists(stale) and os.path.exists(fresh)


def test_a_used_dir_whose_manifest_is_gone_keeps_nothing_else(tmp_path, odb, state):
    data = save(write_tree(tmp_path / "data", {"a": b"1"}), odb, state, ["copy"])
    odb.remove(data.value)
    assert gc(odb, [data]).removed == 1
