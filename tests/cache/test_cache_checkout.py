"""Checking cached data out into the workspace."""

from __future__ import annotations

import os
import shutil
import stat

import pytest
from cache_trees import TREE, read_tree, write_tree

from llmpipe.cache.checkout import CheckoutResult, _jobs_for, checkout, in_cache
from llmpipe.cache.links import Linker
from llmpipe.cache.save import save
from llmpipe.errors import CacheError
from llmpipe.hashing import bytes_hash, dir_hash, dir_manifest_bytes


@pytest.fixture
def saved_dir(tmp_path, odb, state):
    root = write_tree(tmp_path / "data")
    info = save(root, odb, state, ["copy"])
    shutil.rmtree(root)
    return root, info


def test_a_removed_directory_is_restored(saved_dir, odb, state, guard):
    root, info = saved_dir
    result = checkout(odb, info, root, ["copy"], state, guard=guard)
    assert read_tree(root) == TREE
    assert result == CheckoutResult(tuple(sorted(os.path.join(root, r) for r in TREE)), ())
    assert stat.S_IMODE(os.stat(os.path.join(root, "a.txt")).st_mode) & 0o200


def test_a_matching_workspace_is_left_alone(saved_dir, odb, state, guard):
    root, info = saved_dir
    checkout(odb, info, root, ["copy"], state, guard=guard)
    inodes = {rel: os.stat(os.path.join(root, rel)).st_ino for rel in TREE}
    assert checkout(odb, info, root, ["copy"], state, guard=guard) == CheckoutResult((), ())
    assert {rel: os.stat(os.path.join(root, rel)).st_ino for rel in TREE} == inodes


def test_matching_files_unknown_to_the_state_are_hashed_not_rewritten(saved_dir, odb, state, guard):
    root, info = saved_dir
    write_tree(root)  # same bytes, new inodes the state never saw
    assert checkout(odb, info, root, ["copy"], state, guard=guard) == CheckoutResult((), ())


def test_wrong_files_are_replaced_and_extra_files_removed(saved_dir, odb, state, guard):
    root, info = saved_dir
    write_tree(root, {**TREE, "a.txt": b"HELLO", "extra/x": b"x", "a/extra": b"e"})
    result = checkout(odb, info, root, ["copy"], state, guard=guard)
    assert read_tree(root) == TREE
    assert not os.path.exists(os.path.join(root, "extra"))
    assert set(result.changed) == {os.path.join(root, p) for p in ("a.txt", "extra/x", "a/extra")}


def test_a_file_where_a_folder_must_be_is_replaced(saved_dir, odb, state, guard):
    root, info = saved_dir
    write_tree(root, {"sub": b"a file in the way", "a.txt": b"hello"})
    checkout(odb, info, root, ["copy"], state, guard=guard)
    assert read_tree(root) == TREE


def test_missing_objects_are_reported_and_the_rest_restored(saved_dir, odb, state, guard):
    root, info = saved_dir
    entries = dict(odb.read_manifest(info.value))
    odb.remove(entries["a/b"])
    assert not in_cache(odb, info)
    result = checkout(odb, info, root, ["copy"], state, guard=guard)
    assert result.missing == (os.path.join(root, "a/b"),)
    expected = {rel: data for rel, data in TREE.items() if rel != "a/b"}
    assert read_tree(root) == expected


def test_a_missing_dir_object_touches_nothing(tmp_path, odb, state, guard):
    root = write_tree(tmp_path / "data")
    info, *_ = (save(root, odb, state, ["copy"]),)
    odb.remove(info.value)
    (tmp_path / "data" / "a.txt").write_bytes(b"changed")
    assert checkout(odb, info, root, ["copy"], state, guard=guard) == CheckoutResult((), (root,))
    assert (tmp_path / "data" / "a.txt").read_bytes() == b"changed"


def test_a_corrupt_dir_object_is_a_cache_error(tmp_path, odb, state, guard):
    value = dir_hash(dir_manifest_bytes([("a", "0" * 32)]))
    odb.add_bytes(value, b"[]")
    from llmpipe.stage import HashInfo

    with pytest.raises(CacheError, match="corrupt"):
        checkout(odb, HashInfo("md5", value), str(tmp_path / "d"), ["copy"], state, guard=guard)
    assert not os.path.exists(tmp_path / "d")


def test_a_file_is_restored_with_its_exec_bit(tmp_path, odb, state, guard):
    """dvc's mode: the umask's (0o644 under 022) plus the owner's execute bit."""
    previous = os.umask(0o022)
    os.umask(previous)
    assert previous == 0o022, "this test assumes the usual umask"
    path = tmp_path / "tool.sh"
    path.write_bytes(b"#!/bin/sh\n")
    os.chmod(path, 0o755)
    info = save(str(path), odb, state, ["copy"])
    path.unlink()
    result = checkout(odb, info, str(path), ["copy"], state, guard=guard)
    assert result.changed == (str(path),)
    assert path.read_bytes() == b"#!/bin/sh\n"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o744


def test_a_directory_where_the_file_goes_is_replaced(tmp_path, odb, state, guard):
    path = tmp_path / "f"
    path.write_bytes(b"data")
    info = save(str(path), odb, state, ["copy"])
    path.unlink()
    write_tree(path, {"x/y": b"in the way"})
    checkout(odb, info, str(path), ["copy"], state, guard=guard)
    assert path.read_bytes() == b"data"


def test_relink_turns_copies_into_hardlinks(saved_dir, odb, state, guard):
    root, info = saved_dir
    checkout(odb, info, root, ["copy"], state, guard=guard)
    assert checkout(odb, info, root, ["hardlink"], state, guard=guard).changed == ()
    result = checkout(odb, info, root, ["hardlink"], state, guard=guard, relink=True)
    assert result.changed == ()  # re-linked, but no file's content changed (dvc prints none)
    path = os.path.join(root, "a.txt")
    assert (
        os.stat(path).st_ino
        == os.stat(odb.oid_path(dict(odb.read_manifest(info.value))["a.txt"])).st_ino
    )


def test_a_missing_file_object_is_reported(tmp_path, odb, state, guard):
    from llmpipe.stage import HashInfo

    result = checkout(
        odb, HashInfo("md5", "0" * 32), str(tmp_path / "f"), ["copy"], state, guard=guard
    )
    assert result == CheckoutResult((), (str(tmp_path / "f"),))


def test_a_new_path_taken_meanwhile_is_replaced_not_refused(tmp_path, odb):
    odb.add_bytes("5d41402abc4b2a76b9719d911017c592", b"hello")
    target = tmp_path / "ws" / "f.txt"
    target.parent.mkdir()
    target.write_bytes(b"someone was faster")
    obj = odb.oid_path("5d41402abc4b2a76b9719d911017c592")
    assert Linker(["copy"]).link_new(obj, str(target)) == "copy"
    assert target.read_bytes() == b"hello"
    assert [p.name for p in target.parent.iterdir()] == ["f.txt"]  # no temporary left


def test_large_objects_check_out_on_threads_small_ones_inline(tmp_path, odb):
    odb.add_bytes("5d41402abc4b2a76b9719d911017c592", b"hello")
    big = os.urandom((1 << 20) + 1)
    odb.add_bytes(bytes_hash(big), big)
    assert _jobs_for(odb, [("a", "5d41402abc4b2a76b9719d911017c592")] * 20) == 1
    assert _jobs_for(odb, [("b", bytes_hash(big))] * 20) is None


@pytest.mark.parametrize("size", [10, (1 << 20) + 3])  # small and large copy paths
def test_a_symlink_that_appeared_meanwhile_is_replaced_not_written_through(tmp_path, odb, size):
    data = os.urandom(size)
    odb.add_bytes(bytes_hash(data), data)
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not yours")
    target = tmp_path / "ws" / "f.bin"
    target.parent.mkdir()
    target.symlink_to(outside)
    Linker(["copy"]).link_new(odb.oid_path(bytes_hash(data)), str(target))
    assert not target.is_symlink() and target.read_bytes() == data
    assert outside.read_bytes() == b"not yours"
