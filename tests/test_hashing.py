"""Streaming hashes and DVC directory manifests."""

from __future__ import annotations

import hashlib
import json

import pytest

from llmpipe.errors import ConfigError
from llmpipe.hashing import (
    CHUNK_SIZE,
    bytes_hash,
    dir_hash,
    dir_manifest_bytes,
    file_hash,
    parse_dir_manifest,
)


class CountingProgress:
    def __init__(self) -> None:
        self.total = 0

    def start(self, description: str, total: int | None) -> None:
        pass

    def advance(self, n: int) -> None:
        self.total += n

    def finish(self) -> None:
        pass


@pytest.mark.parametrize("size", [0, 1, 4096, CHUNK_SIZE, 2 * CHUNK_SIZE + 7])
def test_file_hash_is_plain_md5_of_the_bytes(tmp_path, size):
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    path = tmp_path / "f"
    path.write_bytes(data)
    progress = CountingProgress()
    assert file_hash(str(path), progress=progress) == hashlib.md5(data).hexdigest()
    assert progress.total == size


def test_blake3_hash_matches_the_blake3_package(tmp_path):
    blake3 = pytest.importorskip("blake3")
    data = b"hello world" * 1000
    (tmp_path / "f").write_bytes(data)
    assert file_hash(str(tmp_path / "f"), "blake3") == blake3.blake3(data).hexdigest()
    assert bytes_hash(data, "blake3") == blake3.blake3(data).hexdigest()


def test_unknown_algorithm_is_a_config_error(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(ConfigError, match="unknown hash algorithm 'sha7'"):
        file_hash(str(tmp_path / "f"), "sha7")


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        file_hash(str(tmp_path / "nope"))


def test_manifest_sorts_by_relpath_string_and_uses_dvc_json():
    entries = [("a/b", "3"), ("a.txt", "2"), ("a-b", "1")]
    data = dir_manifest_bytes(entries)
    assert data == (
        b'[{"md5": "1", "relpath": "a-b"}, {"md5": "2", "relpath": "a.txt"}, '
        b'{"md5": "3", "relpath": "a/b"}]'
    )
    assert parse_dir_manifest(data) == sorted(entries)


def test_dir_hash_matches_the_value_dvc_add_gave():
    # `dvc add data` (dvc 3.67) on this tree gave 91d09f4734682b6b073363294a9781e6.dir.
    entries = [
        ("a.txt", hashlib.md5(b"hello").hexdigest()),
        ("a-b", hashlib.md5(b"x").hexdigest()),
        ("a/b", hashlib.md5(b"y").hexdigest()),
        ("sub/run.sh", hashlib.md5(b"z").hexdigest()),
    ]
    assert dir_hash(dir_manifest_bytes(entries)) == "91d09f4734682b6b073363294a9781e6.dir"


def test_empty_manifest_is_an_empty_json_list():
    assert dir_manifest_bytes([]) == b"[]"
    assert dir_hash(b"[]") == hashlib.md5(b"[]").hexdigest() + ".dir"


@pytest.mark.parametrize(
    "listing",
    [{"md5": "x"}, [{"md5": "x"}], [{"relpath": "a"}], ["a"], [{"md5": 1, "relpath": "a"}]],
)
def test_malformed_manifest_raises_value_error(listing):
    with pytest.raises(ValueError):
        parse_dir_manifest(json.dumps(listing).encode())


@pytest.mark.parametrize("name", ["md5", "blake3", "md5-dos2unix"])
def test_manifest_bytes_are_json_dumps_of_the_listing(name: str) -> None:
    """The manifest is written directly (faster), byte for byte as json.dumps writes it."""
    import random

    from llmpipe.hashing import dir_manifest_bytes, manifest_key

    rng = random.Random(20)
    odd = [
        "a",
        "é/ü",
        'q"uote',
        "back\\slash",
        "tab\there",
        "nl\nx",
        "\x00c",
        "日本/語",
        "\U0001f600",
    ]
    entries = [(f"{rng.choice(odd)}{i}", f"{rng.getrandbits(128):032x}") for i in range(500)]
    key = manifest_key(name)
    listing = [{key: value, "relpath": rel} for rel, value in sorted(entries)]
    assert dir_manifest_bytes(entries, name) == json.dumps(listing, sort_keys=True).encode()
    assert dir_manifest_bytes([], name) == b"[]"


@pytest.mark.parametrize(
    "entries",
    [
        [("a\\u0000b", "ab"), ("c", "cd")],  # a path whose escape holds the NUL's escape
        [("a\x00b", "ab"), ("c", "cd")],  # a NUL in a path
        [("a", "not hex!"), ("b", "\u00e9")],  # values that json escapes
        [("a", ""), ("b", "00")],
        [("z", "1"), ("a", "2"), ("a", "0")],  # unsorted, a path twice
    ],
)
def test_manifest_bytes_are_json_dumps_for_awkward_paths_and_values(entries) -> None:
    """The joined-in-C manifest gives way to the per-entry one whenever it cannot be exact."""
    from llmpipe.hashing import dir_manifest_bytes

    listing = [{"md5": value, "relpath": rel} for rel, value in sorted(entries)]
    assert dir_manifest_bytes(entries) == json.dumps(listing, sort_keys=True).encode()


@pytest.mark.parametrize("limit", [0, 10_000])
def test_manifest_bytes_are_the_same_past_the_join_in_c_limit(monkeypatch, limit: int) -> None:
    """A directory too big for the joined-in-C manifest gets the same bytes per entry."""
    import llmpipe.hashing as hashing

    entries = [(f"d{i % 7}/f{i:05}.txt", f"{i * 7919:032x}") for i in range(2_000)]
    listing = [{"md5": value, "relpath": rel} for rel, value in sorted(entries)]
    monkeypatch.setattr(hashing, "_JOIN_IN_C_MAX", limit)
    assert hashing.dir_manifest_bytes(entries) == json.dumps(listing, sort_keys=True).encode()
