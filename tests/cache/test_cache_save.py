"""Saving workspace data into the cache with each link type."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest
from cache_trees import TREE, CountingProgress, read_tree, write_tree

from llmpipe.cache.checkout import in_cache
from llmpipe.cache.save import save
from llmpipe.errors import CacheError


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_copy_stores_a_read_only_object_and_leaves_the_file_alone(tmp_path, odb, state):
    path = tmp_path / "f.bin"
    path.write_bytes(b"payload")
    os.chmod(path, 0o754)
    inode = os.stat(path).st_ino
    info = save(str(path), odb, state, ["reflink", "copy"])
    assert (info.value, info.size, info.isexec) == (md5(b"payload"), 7, True)
    obj = odb.oid_path(info.value)
    assert _mode(obj) == 0o444
    assert os.stat(path).st_ino == inode != os.stat(obj).st_ino
    assert _mode(path) == 0o754
    assert state.get(str(path), os.stat(path)) == info.value


def test_hardlink_shares_the_inode_and_stays_known_to_the_state(tmp_path, odb, state):
    path = tmp_path / "f.bin"
    path.write_bytes(b"payload")
    info = save(str(path), odb, state, ["hardlink", "copy"])
    assert os.stat(path).st_ino == os.stat(odb.oid_path(info.value)).st_ino
    assert state.get(str(path), os.stat(path)) == info.value


def test_symlink_points_the_workspace_at_the_object(tmp_path, odb, state):
    path = tmp_path / "f.bin"
    path.write_bytes(b"payload")
    info = save(str(path), odb, state, ["symlink"])
    assert os.path.islink(path)
    assert os.path.realpath(path) == os.path.realpath(odb.oid_path(info.value))
    assert path.read_bytes() == b"payload"
    assert state.get(str(path), os.stat(path)) == info.value


def test_a_directory_is_stored_entry_by_entry_then_its_manifest(tmp_path, odb, state):
    root = write_tree(tmp_path / "data")
    progress = CountingProgress()
    info = save(root, odb, state, ["copy"], progress)
    assert in_cache(odb, info)
    assert odb.read_manifest(info.value) == sorted((rel, md5(d)) for rel, d in TREE.items())
    assert read_tree(root) == TREE
    assert progress.total >= len(TREE)


def test_many_files_are_saved_in_parallel_with_hardlinks(tmp_path, odb, state):
    files = {f"d{i % 5}/f{i}": str(i).encode() * 3 for i in range(100)}
    root = write_tree(tmp_path / "data", files)
    info = save(root, odb, state, ["hardlink"])
    assert info.nfiles == 100 and in_cache(odb, info)
    for rel, data in files.items():
        path = os.path.join(root, rel)
        assert os.stat(path).st_ino == os.stat(odb.oid_path(md5(data))).st_ino


def test_saving_again_reads_nothing_and_keeps_the_workspace(tmp_path, odb, state):
    root = write_tree(tmp_path / "data")
    first = save(root, odb, state, ["copy"])
    stats = {rel: os.stat(os.path.join(root, rel)).st_ino for rel in TREE}
    progress = CountingProgress()
    assert save(root, odb, state, ["copy"], progress) == first
    assert progress.total == len(TREE)  # files linked, zero bytes hashed
    assert {rel: os.stat(os.path.join(root, rel)).st_ino for rel in TREE} == stats


def test_an_existing_object_becomes_a_hardlink_when_asked(tmp_path, odb, state):
    (tmp_path / "a").write_bytes(b"same")
    (tmp_path / "b").write_bytes(b"same")
    save(str(tmp_path / "a"), odb, state, ["copy"])
    info = save(str(tmp_path / "b"), odb, state, ["hardlink"])
    assert os.stat(tmp_path / "b").st_ino == os.stat(odb.oid_path(info.value)).st_ino


def test_a_hardlinked_file_gets_a_writable_copy_when_switching_to_copy(tmp_path, odb, state):
    path = tmp_path / "f"
    path.write_bytes(b"data")
    info = save(str(path), odb, state, ["hardlink"])
    save(str(path), odb, state, ["copy"])
    assert os.stat(path).st_ino != os.stat(odb.oid_path(info.value)).st_ino
    assert _mode(path) == 0o644
    assert state.get(str(path), os.stat(path)) == info.value


def test_unknown_link_types_are_a_cache_error(tmp_path, odb, state):
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(CacheError, match="unknown cache link type"):
        save(str(tmp_path / "f"), odb, state, ["teleport"])


def test_a_missing_path_raises_file_not_found(tmp_path, odb, state):
    with pytest.raises(FileNotFoundError):
        save(str(tmp_path / "nope"), odb, state, ["copy"])
