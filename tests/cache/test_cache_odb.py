"""The object store: DVC 3 layout, atomic read-only objects, verified manifests."""

from __future__ import annotations

import hashlib
import os
import re
import stat
from pathlib import Path

import pytest

from llmpipe.cache.odb import ObjectDB
from llmpipe.errors import CacheError
from llmpipe.hashing import dir_hash, dir_manifest_bytes

HELLO = hashlib.md5(b"hello").hexdigest()


@pytest.fixture
def odb(tmp_path):
    return ObjectDB(str(tmp_path / "cache" / "files" / "md5"))


def _src(tmp_path, data=b"hello"):
    path = tmp_path / "src"
    path.write_bytes(data)
    return str(path)


def test_object_path_is_two_hex_then_the_rest(odb):
    assert odb.oid_path(HELLO) == os.path.join(odb.root, HELLO[:2], HELLO[2:])
    assert odb.oid_path("ab12.dir").endswith(os.path.join("ab", "12.dir"))


@pytest.mark.parametrize("value", ["", "ab", "../etc/passwd", "ABCDEF", "ab/cd", "abc.txt"])
def test_values_that_are_not_hashes_are_refused(odb, value):
    with pytest.raises(CacheError, match="not a valid md5 hash"):
        odb.oid_path(value)


@pytest.mark.parametrize("value", ["ab/cd", "../etc/passwd"])
def test_existing_refuses_values_that_are_not_hashes(odb, value):
    with pytest.raises(CacheError, match="not a valid md5 hash"):
        odb.existing([HELLO, value])


def test_existing_is_exists_for_many(odb, tmp_path):
    odb.add_file(_src(tmp_path), HELLO, move=False)
    absent = hashlib.md5(b"absent").hexdigest()
    beside = HELLO[:2] + "0" * 30  # same shard folder, no such object
    assert odb.existing([HELLO, absent, beside, HELLO]) == {HELLO}
    assert {v for v in (HELLO, absent, beside) if odb.exists(v)} == {HELLO}


def test_add_file_by_copy_leaves_the_source_alone(odb, tmp_path):
    src = _src(tmp_path)
    odb.add_file(src, HELLO, move=False)
    obj = odb.oid_path(HELLO)
    assert Path(obj).read_bytes() == b"hello"
    assert stat.S_IMODE(os.stat(obj).st_mode) == 0o444
    assert os.stat(src).st_ino != os.stat(obj).st_ino
    assert stat.S_IMODE(os.stat(src).st_mode) & 0o200


def test_add_file_with_move_takes_the_inode_without_copying(odb, tmp_path):
    src = _src(tmp_path)
    inode = os.stat(src).st_ino
    odb.add_file(src, HELLO, move=True)
    assert os.stat(odb.oid_path(HELLO)).st_ino == inode


def test_adding_an_existing_object_changes_nothing(odb, tmp_path):
    odb.add_bytes(HELLO, b"hello")
    before = os.stat(odb.oid_path(HELLO))
    odb.add_file(_src(tmp_path, b"other"), HELLO, move=False)
    odb.add_bytes(HELLO, b"other")
    assert Path(odb.oid_path(HELLO)).read_bytes() == b"hello"
    assert os.stat(odb.oid_path(HELLO)).st_ino == before.st_ino


def test_a_failed_add_leaves_no_object_and_no_temp(odb, tmp_path):
    with pytest.raises(FileNotFoundError):
        odb.add_file(str(tmp_path / "missing"), HELLO, move=False)
    assert not odb.exists(HELLO)
    assert list(odb.temp_files()) == []


def test_verify_detects_corruption(odb):
    odb.add_bytes(HELLO, b"hello")
    assert odb.verify(HELLO)
    odb.add_bytes("0" * 32, b"not zero")
    assert not odb.verify("0" * 32)
    assert not odb.verify("1" * 32)


def _manifest(odb, entries):
    data = dir_manifest_bytes(entries)
    value = dir_hash(data)
    odb.add_bytes(value, data)
    return value


def test_read_manifest_returns_sorted_entries(odb):
    value = _manifest(odb, [("b", HELLO), ("a/x", HELLO)])
    assert odb.read_manifest(value) == [("a/x", HELLO), ("b", HELLO)]
    assert odb.verify(value)


def test_a_corrupt_manifest_is_a_cache_error(odb):
    value = dir_hash(b"[]")
    odb.add_bytes(value, b'[{"md5": "x", "relpath": "a"}]')
    with pytest.raises(CacheError, match="corrupt"):
        odb.read_manifest(value)
    assert not odb.verify(value)


def test_a_missing_manifest_is_a_cache_error(odb):
    with pytest.raises(CacheError, match="not in the cache"):
        odb.read_manifest(dir_hash(b"[]"))


@pytest.mark.parametrize(
    "relpath", ["../escape", "/abs", "a//b", "a/./b", "", "a/..", "a/", ".", "x\n/../y"]
)
def test_a_manifest_naming_unsafe_paths_is_refused(odb, relpath):
    safe = [(f"ok/{i}", HELLO) for i in range(3)]
    value = _manifest(odb, [*safe, (relpath, HELLO), ("z.", HELLO)])
    with pytest.raises(CacheError, match="unsafe path '" + re.escape(relpath) + "'"):
        odb.read_manifest(value)


def test_a_manifest_with_dots_inside_names_is_read(odb):
    names = ["..x", "x..", ".hidden/a", "a/.b", "a.b/c..d", "x\n/y", "..."]
    value = _manifest(odb, [(name, HELLO) for name in names])
    assert sorted(rel for rel, _ in odb.read_manifest(value)) == sorted(names)


def test_all_oids_lists_objects_but_not_temporaries(odb):
    odb.add_bytes(HELLO, b"hello")
    dir_value = _manifest(odb, [("a", HELLO)])
    tmp = odb.temp_path(HELLO)
    Path(tmp).write_bytes(b"hel")  # an interrupted write
    assert sorted(odb.all_oids()) == sorted([HELLO, dir_value])
    assert [entry.path for entry in odb.temp_files()] == [tmp]
    assert odb.exists(HELLO)


def test_remove_deletes_read_only_objects_and_ignores_missing_ones(odb):
    odb.add_bytes(HELLO, b"hello")
    odb.remove(HELLO)
    odb.remove(HELLO)
    assert not odb.exists(HELLO)
    assert list(ObjectDB(str(odb.root) + "-none").all_oids()) == []
