"""Folder remotes' fast paths: objects shared by hard link, verified in place, reported once."""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path

import pytest

from llmpipe.remote.transfer import _IN_MEMORY
from llmpipe.repo import Repo


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def object_path(root, data: bytes):  # noqa: ANN001, ANN201
    value = md5(data)
    return root / "files" / "md5" / value[:2] / value[2:]


def pushed(project, tmp_path, files: dict[str, bytes]):  # noqa: ANN001, ANN201
    """Track `files` under data/, push them to a folder remote, forget them locally."""
    for name, data in files.items():
        path = project.path / "data" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    project.ok("add", "data")
    remote = tmp_path / "remote"
    project.ok("remote", "add", "-d", "store", str(remote))
    project.ok("push")
    shutil.rmtree(project.path / ".dvc" / "cache")
    shutil.rmtree(project.path / "data")
    return remote


def cache_path(project, data: bytes):  # noqa: ANN001, ANN201
    return object_path(project.path / ".dvc" / "cache", data)


def test_push_and_fetch_share_inodes_with_a_folder_on_the_same_filesystem(
    project, tmp_path
) -> None:
    remote = pushed(project, tmp_path, {"a.txt": b"alpha\n"})
    on_remote = object_path(remote, b"alpha\n")
    assert not on_remote.stat().st_mode & 0o222
    project.ok("fetch")
    assert cache_path(project, b"alpha\n").stat().st_ino == on_remote.stat().st_ino


def test_writable_objects_are_copied_not_shared(project, tmp_path) -> None:
    # dvc leaves the objects it pushes writable: sharing them would let a write
    # to the remote change the cache.
    big = os.urandom(_IN_MEMORY + 1)
    remote = pushed(project, tmp_path, {"small.txt": b"small\n", "big.bin": big})
    for data in (b"small\n", big):
        object_path(remote, data).chmod(0o644)
    project.ok("pull")
    for data in (b"small\n", big):
        cached = cache_path(project, data)
        assert cached.stat().st_ino != object_path(remote, data).stat().st_ino
        assert stat.S_IMODE(cached.stat().st_mode) == 0o444
        assert cached.read_bytes() == data
    assert (project.path / "data" / "big.bin").read_bytes() == big


def test_corrupt_large_objects_are_refused_whether_shared_or_copied(project, tmp_path) -> None:
    good, also_good = os.urandom(_IN_MEMORY + 5), os.urandom(_IN_MEMORY + 7)
    remote = pushed(project, tmp_path, {"x.bin": good, "y.bin": also_good})
    for data, mode in ((good, 0o444), (also_good, 0o644)):
        path = object_path(remote, data)
        path.chmod(0o644)
        path.write_bytes(b"rot" + data[3:])
        path.chmod(mode)
    result = project.cli("fetch")
    assert result.code == 1
    assert result.err.count("corrupt") == 2
    repo = Repo(str(project.path))
    assert not repo.odb.exists(md5(good)) and not repo.odb.exists(md5(also_good))


def test_each_missing_object_is_reported_once(project, tmp_path) -> None:
    remote = pushed(project, tmp_path, {"a.txt": b"alpha\n"})
    shutil.rmtree(remote / "files")
    result = project.cli("pull")
    assert result.code == 1
    missing = [line for line in result.err.splitlines() if "not on the remote" in line]
    assert len(missing) == 1 and ".dir" in missing[0]
    assert "up to date" not in result.out.lower()


def test_pull_into_a_fresh_workspace_gives_plain_files(project, tmp_path) -> None:
    files = {f"sub{i % 3}/f{i}.txt": f"file {i}\n".encode() for i in range(40)}
    pushed(project, tmp_path, files)
    project.ok("pull")
    for name, data in files.items():
        path = project.path / "data" / name
        assert path.read_bytes() == data
        assert stat.S_IMODE(path.stat().st_mode) == 0o644
        assert path.stat().st_ino != cache_path(project, data).stat().st_ino
    assert "up to date" in project.ok("status").out.lower()


def test_verify_false_trusts_the_remote_as_dvc_does_by_default(project, tmp_path) -> None:
    remote = pushed(project, tmp_path, {"a.txt": b"alpha\n"})
    project.ok("remote", "modify", "store", "verify", "false")
    assert "verify = false" in project.read(".dvc/config")  # DVC's own key
    rotten = object_path(remote, b"alpha\n")
    rotten.chmod(0o644)
    rotten.write_bytes(b"rotten\n")
    rotten.chmod(0o444)
    project.ok("pull")  # unchecked: the rot comes through, which is what the option trades
    assert (project.path / "data" / "a.txt").read_bytes() == b"rotten\n"
    project.ok("remote", "modify", "store", "verify", "true")
    shutil.rmtree(project.path / ".dvc" / "cache")
    assert "corrupt" in project.cli("fetch").err


def test_large_objects_are_verified_on_every_core_small_ones_on_one_thread(
    project, tmp_path
) -> None:
    from llmpipe.config import RemoteConfig
    from llmpipe.remote.ops import TransferRequest, _fetch_jobs, open_layout

    big = [os.urandom(_IN_MEMORY + i) for i in range(3)]
    small = [f"s{i}\n".encode() for i in range(3)]
    remote = pushed(project, tmp_path, {f"b{i}": d for i, d in enumerate(big + small)})
    repo = Repo(str(project.path))
    config = RemoteConfig("store", str(remote))
    layout = open_layout(repo, config, create=False)
    large_ids, small_ids = [md5(d) for d in big], [md5(d) for d in small]
    cores = os.cpu_count() or 1
    assert _fetch_jobs(TransferRequest(), config, layout, large_ids) == cores
    assert _fetch_jobs(TransferRequest(), config, layout, small_ids) == 1
    assert _fetch_jobs(TransferRequest(jobs=3), config, layout, large_ids) == 3
    pinned = RemoteConfig("store", str(remote), {"jobs": "1"})
    assert _fetch_jobs(TransferRequest(), pinned, layout, large_ids) == 1
    project.ok("pull")
    assert (project.path / "data" / "b0").read_bytes() == big[0]


@pytest.fixture
def other_filesystem(tmp_path):  # noqa: ANN001, ANN201
    """A folder on another filesystem than the project's (tmpfs), or skip."""
    if not os.path.isdir("/dev/shm") or os.stat("/dev/shm").st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another filesystem than the temporary folder")
    folder = tempfile.mkdtemp(prefix="llmpipe-test-", dir="/dev/shm")
    yield Path(folder)
    shutil.rmtree(folder, ignore_errors=True)


def test_across_filesystems_objects_are_copied_and_checked_once(project, other_filesystem) -> None:
    # No hard link is possible: push copies read-only objects, and fetch hashes each
    # one while copying it (large) or in memory (small), refusing corrupt ones.
    big, small = os.urandom(_IN_MEMORY + 3), b"small\n"
    remote = pushed(project, other_filesystem, {"big.bin": big, "small.txt": small, "ok": b"ok"})
    for data in (big, small):
        path = object_path(remote, data)
        assert stat.S_IMODE(path.stat().st_mode) == 0o444
        path.chmod(0o644)
        path.write_bytes(b"rot" + data[3:])
        path.chmod(0o444)
    result = project.cli("pull")
    assert result.code == 1 and result.err.count("corrupt") == 2
    repo = Repo(str(project.path))
    assert not repo.odb.exists(md5(big)) and not repo.odb.exists(md5(small))
    assert cache_path(project, b"ok").read_bytes() == b"ok"
    leftovers = [p for p in (project.path / ".dvc" / "cache").rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []


def test_a_missing_shard_folder_answers_for_its_objects(project, tmp_path) -> None:
    files = {f"f{i}.txt": f"file {i}\n".encode() for i in range(60)}
    remote = pushed(project, tmp_path, files)
    project.ok("fetch")
    gone = object_path(remote, files["f0.txt"]).parent
    lost = [data for data in files.values() if object_path(remote, data).parent == gone]
    kept = {data: object_path(remote, data).stat().st_ino for data in files.values()}
    shutil.rmtree(gone)
    project.ok("push")
    for data in files.values():
        assert object_path(remote, data).read_bytes() == data
        if data not in lost:
            assert object_path(remote, data).stat().st_ino == kept[data]  # not sent again
