"""Hashing workspace files and directories through the state DB."""

from __future__ import annotations

import hashlib
import importlib
import os

import pytest
from cache_trees import TREE, CountingProgress, write_tree

from llmpipe.cache import listing
from llmpipe.cache.build import build
from llmpipe.cache.state import NoState
from llmpipe.fsutil import walk_files
from llmpipe.hashing import dir_hash, dir_manifest_bytes

cache_build = importlib.import_module("llmpipe.cache.build")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def test_a_file_gets_its_md5_size_and_exec_bit(tmp_path):
    path = tmp_path / "tool.sh"
    path.write_bytes(b"#!/bin/sh\n")
    os.chmod(path, 0o744)
    info, manifest = build(str(path), "md5", NoState())
    assert manifest is None
    assert (info.value, info.size, info.isexec, info.nfiles) == (
        md5(b"#!/bin/sh\n"),
        10,
        True,
        None,
    )
    os.chmod(path, 0o644)
    assert not build(str(path), "md5", NoState())[0].isexec


def test_a_directory_gets_dvc_manifest_hash_size_and_nfiles(tmp_path):
    root = write_tree(tmp_path / "data")
    os.chmod(os.path.join(root, "sub/deep/run.sh"), 0o755)
    info, manifest = build(root, "md5", NoState())
    expected = dir_manifest_bytes((rel, md5(data)) for rel, data in TREE.items())
    assert info.value == dir_hash(expected)
    assert info.size == sum(len(data) for data in TREE.values())
    assert info.nfiles == len(TREE)
    assert [entry[0] for entry in manifest.entries] == [
        "a-b",
        "a.txt",
        "a/b",
        "empty",
        "sub/deep/run.sh",
    ]
    assert manifest.entries[-1][3] is True
    assert manifest.dir_bytes() == expected


def test_an_empty_directory_hashes_the_empty_list(tmp_path):
    (tmp_path / "d").mkdir()
    info, manifest = build(str(tmp_path / "d"), "md5", NoState())
    assert info.value == md5(b"[]") + ".dir"
    assert (info.size, info.nfiles, manifest.entries) == (0, 0, ())


def test_the_state_is_asked_first_and_filled_with_new_hashes(tmp_path, state):
    root = write_tree(tmp_path / "data")
    build(root, "md5", state)
    path = os.path.join(root, "a.txt")
    assert state.get(path, os.stat(path)) == md5(b"hello")
    # A value the state holds wins over the file's bytes: proof that nothing was read
    # (with the directory's listing dropped, which would answer first).
    state.set(path, os.stat(path), "0" * 32)
    state.set_listing(os.path.abspath(root), b"")
    info, manifest = build(root, "md5", state)
    assert ("a.txt", "0" * 32, 5, False) in manifest.entries


def test_a_modified_file_is_rehashed(tmp_path, state):
    root = write_tree(tmp_path / "data")
    first, _ = build(root, "md5", state)
    path = os.path.join(root, "a.txt")
    with open(path, "wb") as handle:
        handle.write(b"HELLO")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    second, manifest = build(root, "md5", state)
    assert second.value != first.value
    assert ("a.txt", md5(b"HELLO"), 5, False) in manifest.entries


@pytest.mark.parametrize("jobs", [1, 4])
def test_many_files_hash_the_same_in_threads_or_not(tmp_path, jobs):
    files = {f"d{i % 7}/f{i}": str(i).encode() * i for i in range(60)}
    root = write_tree(tmp_path / "data", files)
    info, manifest = build(root, "md5", NoState(), jobs=jobs)
    assert manifest.entries == tuple(
        sorted((rel, md5(data), len(data), False) for rel, data in files.items())
    )


def test_progress_sees_every_byte_hashed(tmp_path):
    root = write_tree(tmp_path / "data", {f"f{i}": b"x" * i for i in range(20)})
    progress = CountingProgress()
    build(root, "md5", NoState(), progress=progress)
    assert progress.total == sum(range(20))


def test_blake3_directories_use_blake3_everywhere(tmp_path):
    blake3 = pytest.importorskip("blake3")
    root = write_tree(tmp_path / "data", {"f": b"abc"})
    info, manifest = build(root, "blake3", NoState())
    assert manifest.entries == (("f", blake3.blake3(b"abc").hexdigest(), 3, False),)
    assert info.name == "blake3"
    assert info.value == blake3.blake3(manifest.dir_bytes("blake3")).hexdigest() + ".dir"


def test_a_missing_path_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        build(str(tmp_path / "nope"), "md5", NoState())


def _poison_state(root: str, state) -> None:
    """Every file's state row says "0"*32: a hash that comes out right came from the
    listing; a file the listing refused shows the state's "0"*32."""
    for top, _, names in os.walk(root):
        for name in names:
            path = os.path.join(top, name)
            state.set(path, os.stat(path), "0" * 32)


def _as_if_new(root: str):
    return build(root, "md5", NoState())


def test_the_listing_answers_for_unchanged_files_without_the_state(tmp_path, state):
    root = write_tree(tmp_path / "data")
    first = build(root, "md5", state)
    _poison_state(root, state)
    assert build(root, "md5", state) == first


def test_a_directory_above_the_listing_limit_keeps_no_listing(tmp_path, state, monkeypatch):
    root = write_tree(tmp_path / "data")
    monkeypatch.setattr(cache_build, "LISTING_MAX_FILES", len(TREE) - 1)
    first = build(root, "md5", state)
    assert state.get_listing(os.path.abspath(root)) is None
    assert build(root, "md5", state) == first
    monkeypatch.setattr(cache_build, "LISTING_MAX_FILES", len(TREE))
    assert build(root, "md5", state) == first
    assert state.get_listing(os.path.abspath(root)) is not None


def test_the_listing_refuses_a_file_whose_mtime_size_or_inode_changed(tmp_path, state):
    root = write_tree(tmp_path / "data")
    build(root, "md5", state)
    path = os.path.join(root, "a.txt")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    _poison_state(root, state)
    _, manifest = build(root, "md5", state)
    assert ("a.txt", "0" * 32, 5, False) in manifest.entries
    assert ("a-b", md5(TREE["a-b"]), len(TREE["a-b"]), False) in manifest.entries

    # Same size and mtime, new bytes in a new inode (a rename over the file).
    build(root, "md5", NoState())
    state.set_listing(os.path.abspath(root), b"")
    build(root, "md5", state)
    st = os.stat(path)
    spare = os.path.join(str(tmp_path), "spare")
    with open(spare, "wb") as handle:
        handle.write(b"HELLO")
    os.utime(spare, ns=(st.st_atime_ns, st.st_mtime_ns))
    os.replace(spare, path)
    assert os.stat(path).st_ino != st.st_ino
    _, manifest = build(root, "md5", state)
    assert ("a.txt", md5(b"HELLO"), 5, False) in manifest.entries


def test_added_removed_and_renamed_files_hash_as_in_a_fresh_build(tmp_path, state):
    root = write_tree(tmp_path / "data")
    build(root, "md5", state)
    os.rename(os.path.join(root, "a.txt"), os.path.join(root, "z.txt"))
    os.unlink(os.path.join(root, "empty"))
    with open(os.path.join(root, "new"), "wb") as handle:
        handle.write(b"new")
    assert build(root, "md5", state) == _as_if_new(root)
    assert build(root, "md5", state) == _as_if_new(root)


@pytest.mark.parametrize(
    "blob",
    [
        b"",
        b"LPL2",
        b"LPL2" + (5).to_bytes(8, "little") + b"x" * 130,
        b"junk" * 40,
        # The format before the directory's hash was kept: the same columns and
        # strings, without the last one.
        b"LPL1" + (1).to_bytes(8, "little") + bytes(24) + b"a\0" + b"0" * 32,
        b"LPL2" + (1).to_bytes(8, "little") + bytes(24) + b"a\0" + b"0" * 32,
    ],
)
def test_a_listing_not_in_the_format_is_ignored(tmp_path, state, blob):
    root = write_tree(tmp_path / "data")
    build(root, "md5", state)
    state.set_listing(os.path.abspath(root), blob)
    assert build(root, "md5", state) == _as_if_new(root)
    state.set_listing(os.path.abspath(root), blob)
    assert build(root, "md5", state, manifest=False)[0] == _as_if_new(root)[0]


def _relist(root: str, state, dir_value: str) -> None:
    """Keep the directory's true listing, but with `dir_value` as its hash: a hash that
    comes out as `dir_value` was taken from the listing."""
    files = sorted(walk_files(root))
    values = [value for _, value, _, _ in build(root, "md5", NoState())[1].entries]
    state.set_listing(os.path.abspath(root), listing.encode(files, values, dir_value))


def test_an_unchanged_directory_takes_its_hash_from_the_listing(tmp_path, state):
    root = write_tree(tmp_path / "data")
    first, _ = build(root, "md5", state)
    assert build(root, "md5", state, manifest=False)[0] == first
    _relist(root, state, "f" * 32 + ".dir")
    assert build(root, "md5", state, manifest=False)[0].value == "f" * 32 + ".dir"
    # A touched file that hashes the same leaves the directory's hash as listed.
    path = os.path.join(root, "a.txt")
    st = os.stat(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1))
    assert build(root, "md5", state, manifest=False)[0].value == "f" * 32 + ".dir"
    # `build`, which returns the manifest, serialises and hashes it.
    assert build(root, "md5", state)[0] == first


def test_a_changed_file_set_or_hash_gets_the_directory_a_new_hash(tmp_path, state):
    root = write_tree(tmp_path / "data")
    build(root, "md5", state)
    _relist(root, state, "f" * 32 + ".dir")
    path = os.path.join(root, "a.txt")
    with open(path, "wb") as handle:
        handle.write(b"HELLO")
    assert build(root, "md5", state, manifest=False)[0] == _as_if_new(root)[0]
    _relist(root, state, "f" * 32 + ".dir")
    os.unlink(os.path.join(root, "empty"))
    assert build(root, "md5", state, manifest=False)[0] == _as_if_new(root)[0]
    _relist(root, state, "f" * 32 + ".dir")
    os.rename(os.path.join(root, "a-b"), os.path.join(root, "a-c"))
    assert build(root, "md5", state, manifest=False)[0] == _as_if_new(root)[0]
