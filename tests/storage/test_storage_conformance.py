"""One suite, every storage backend: what remotes, the registry and deploy rely on."""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor

import pytest

from llmpipe.errors import (
    BackendMissingError,
    ConfigError,
    StorageAuthError,
    StorageConnectionError,
    StorageNotFoundError,
)
from llmpipe.storage import Location, open_backend, translate


@pytest.fixture
def backend(place):  # noqa: ANN001, ANN201
    opened = open_backend(place.location)
    yield opened
    opened.close()


def test_bytes_round_trip_and_listing(place, backend) -> None:  # noqa: ANN001
    backend.put_bytes("a/one", b"1")
    backend.put_bytes("a/b/two", b"22")
    backend.put_bytes("top", b"3")
    assert backend.get_bytes("a/b/two") == b"22"
    assert backend.exists("a/one") and not backend.exists("a/none")
    assert sorted(backend.list_files("")) == ["a/b/two", "a/one", "top"]
    assert sorted(backend.list_files("a")) == ["a/b/two", "a/one"]
    assert list(backend.list_files("nothing")) == []
    assert place.site.read("a/one") == b"1"


def test_put_bytes_replaces_an_object(place, backend) -> None:  # noqa: ANN001
    backend.put_bytes("CURRENT", b"release-1\n")
    backend.put_bytes("CURRENT", b"release-2\n")
    assert backend.get_bytes("CURRENT") == b"release-2\n"
    assert place.site.objects() == ["CURRENT"]  # no temporary left beside it


def test_files_round_trip(place, backend, tmp_path) -> None:  # noqa: ANN001
    data = bytes(range(256)) * 5000  # over a megabyte: the streamed path on S3
    source = tmp_path / "source.bin"
    source.write_bytes(data)
    backend.put_file(str(source), "files/big.bin")
    target = tmp_path / "copy.bin"
    hasher = hashlib.md5()
    if backend.get_file("files/big.bin", str(target), hasher):
        assert hasher.hexdigest() == hashlib.md5(data).hexdigest()
    assert target.read_bytes() == data
    assert place.site.objects() == ["files/big.bin"]


def test_missing_objects_are_file_not_found(backend, tmp_path) -> None:  # noqa: ANN001
    with pytest.raises(FileNotFoundError):
        backend.get_bytes("nope")
    with pytest.raises(FileNotFoundError):
        backend.get_file("nope", str(tmp_path / "x"))
    backend.remove("nope")  # removing what is gone is not an error


def test_remove(place, backend) -> None:  # noqa: ANN001
    backend.put_bytes("gone", b"x")
    backend.remove("gone")
    assert not backend.exists("gone") and place.site.objects() == []


def test_create_bytes_is_exclusive(place, backend) -> None:  # noqa: ANN001
    assert backend.create_bytes("events/0000000000.json", b"first\n")
    assert not backend.create_bytes("events/0000000000.json", b"second\n")
    assert backend.get_bytes("events/0000000000.json") == b"first\n"
    assert place.site.objects() == ["events/0000000000.json"]


def test_concurrent_creates_have_one_winner(place) -> None:  # noqa: ANN001
    if place.site.kind == "memory":
        pytest.skip("the memory filesystem's create is best effort (check, then write)")
    backends = [open_backend(place.location) for _ in range(6)]

    def create(index: int) -> bool:
        return backends[index].create_bytes("race", f"writer {index}\n".encode())

    with ThreadPoolExecutor(len(backends)) as pool:
        won = list(pool.map(create, range(len(backends))))
    assert won.count(True) == 1
    winner = won.index(True)
    assert place.site.read("race") == f"writer {winner}\n".encode()
    assert place.site.objects() == ["race"]
    for opened in backends:
        opened.close()


def test_objects_written_outside_are_read(place, backend) -> None:  # noqa: ANN001
    place.site.write("outside.json", b"{}\n")
    assert backend.get_bytes("outside.json") == b"{}\n"
    assert list(backend.list_files("")) == ["outside.json"]


def test_wrong_credentials_are_an_auth_error(place) -> None:  # noqa: ANN001
    if place.site.bad_credentials is None:
        pytest.skip(f"{place.site.kind} storage has no credentials")
    with pytest.raises(StorageAuthError, match="test store .* refused access"):
        backend = open_backend(place.with_options(**place.site.bad_credentials))
        backend.put_bytes("x", b"x")
    assert place.site.objects() == []


def test_a_stopped_server_is_a_transient_connection_error(place, backend) -> None:  # noqa: ANN001
    if place.site.stop is None:
        pytest.skip(f"{place.site.kind} storage has no server to stop")
    backend.put_bytes("before", b"x")
    place.site.stop()
    try:
        with pytest.raises(StorageConnectionError, match="cannot reach test store") as caught:
            backend.get_bytes("before")
        assert caught.value.transient
    finally:
        place.site.start()


def test_a_missing_bucket_is_named(moto_s3) -> None:  # noqa: ANN001
    site = moto_s3.site("anything")
    location = Location(
        "s3://no-such-bucket-here/x", {**site.options, **site.secret_options}, label="store"
    )
    backend = open_backend(location)
    with pytest.raises(StorageNotFoundError, match="bucket 'no-such-bucket-here' does not exist"):
        backend.put_bytes("a", b"x")


def test_an_unsupported_scheme_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unsupported URL scheme 'ftp://'"):
        open_backend(Location("ftp://host/x"))


def test_a_missing_driver_names_the_extra(monkeypatch) -> None:  # noqa: ANN001
    from llmpipe import storage

    monkeypatch.setitem(storage.PROTOCOLS, "gs", ("llmpipe_no_such_module", "X", "gs"))
    with pytest.raises(BackendMissingError, match=r"pip install 'llmpipe\[gs\]'"):
        open_backend(Location("gs://bucket/x"))


def test_untranslated_failures_are_not_retried() -> None:
    error = translate(ValueError("odd"), Location("s3://b/x"))
    assert isinstance(error, StorageConnectionError) and not error.transient
    assert "s3://b/x failed: ValueError: odd" in str(error)


def test_a_folder_hashes_what_it_copies(tmp_path) -> None:  # noqa: ANN001
    # A download's check then costs no second read of the file (llmpipe.remote.transfer).
    from llmpipe.storage import LocalBackend

    data = os.urandom(3 << 20)  # several copy chunks
    (tmp_path / "store" / "files").mkdir(parents=True)
    (tmp_path / "store" / "files" / "big.bin").write_bytes(data)
    hasher = hashlib.md5()
    target = tmp_path / "copy.bin"
    assert LocalBackend(str(tmp_path / "store")).get_file("files/big.bin", str(target), hasher)
    assert hasher.hexdigest() == hashlib.md5(data).hexdigest()
    assert target.read_bytes() == data


def test_a_folder_put_keeps_the_source_mode_and_leaves_no_temporary(tmp_path) -> None:  # noqa: ANN001
    from llmpipe.storage import LocalBackend

    source = tmp_path / "object"
    source.write_bytes(b"content\n")
    source.chmod(0o444)
    backend = LocalBackend(str(tmp_path / "store"))
    backend.put_file(str(source), "files/ab/cdef")
    backend.put_file(str(source), "files/ab/cdef")  # again, over the existing object
    stored = tmp_path / "store" / "files" / "ab" / "cdef"
    assert stored.read_bytes() == b"content\n"
    assert stat.S_IMODE(stored.stat().st_mode) == 0o444
    assert os.listdir(stored.parent) == ["cdef"]


def test_a_folder_put_never_writes_through_another_writers_temporary(tmp_path) -> None:  # noqa: ANN001
    # A forked copy of a backend draws the same temporary names: the put that finds
    # its name taken draws another, and the other writer's file is left alone.
    import copy

    from llmpipe.storage import LocalBackend

    source = tmp_path / "object"
    source.write_bytes(b"content\n")
    backend = LocalBackend(str(tmp_path / "store"))
    assert backend.put_file(str(source), "files/ab/cdef") == len(b"content\n")
    forked = copy.deepcopy(backend)
    taken = tmp_path / "store" / "files" / "ab" / f".{forked._temp_name()}.tmp"
    taken.write_bytes(b"the other writer's\n")
    assert backend.put_file(str(source), "files/ab/cd01") == len(b"content\n")
    assert (tmp_path / "store" / "files" / "ab" / "cd01").read_bytes() == b"content\n"
    assert taken.read_bytes() == b"the other writer's\n"
