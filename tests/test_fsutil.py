"""The copy under every transfer, and the compact stats a walk keeps."""

from __future__ import annotations

import os
import stat
import tracemalloc

import pytest

from llmpipe.fsutil import (
    FileStat,
    copy_new,
    new_file_mode,
    present_in_folders,
    process_umask,
    walk_files,
)


def test_copy_new_copies_small_and_large_files(tmp_path) -> None:  # noqa: ANN001
    for name, data in (("small", b"x" * 10), ("large", os.urandom((1 << 20) + 17))):
        source = tmp_path / name
        source.write_bytes(data)
        assert copy_new(str(source), str(tmp_path / f"{name}.copy")) == len(data)
        copied = tmp_path / f"{name}.copy"
        assert copied.read_bytes() == data
        assert stat.S_IMODE(copied.stat().st_mode) == new_file_mode()


def test_copy_new_keeps_the_mode_when_asked_and_never_writes_through(tmp_path) -> None:  # noqa: ANN001
    source = tmp_path / "object"
    source.write_bytes(b"content")
    source.chmod(0o444)
    copy_new(str(source), str(tmp_path / "kept"), keep_mode=True)
    assert stat.S_IMODE((tmp_path / "kept").stat().st_mode) == 0o444
    victim = tmp_path / "victim"
    victim.write_bytes(b"mine")
    os.symlink(victim, tmp_path / "link")
    with pytest.raises(FileExistsError):
        copy_new(str(source), str(tmp_path / "link"))
    assert victim.read_bytes() == b"mine"


def test_walked_stats_are_compact_and_agree_with_os_stat(tmp_path) -> None:  # noqa: ANN001
    # A million-file directory is walked into memory whole: an os.stat_result per
    # file (~600 bytes with its numbers) was most of a GB.
    for i in range(2000):
        (tmp_path / f"file{i:05}.txt").write_bytes(b"%d" % i)
    tracemalloc.start()
    try:
        files = list(walk_files(str(tmp_path)))
        held = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert held / len(files) < 400
    rel, st = files[0]
    real = os.stat(tmp_path / rel)
    assert isinstance(st, FileStat)
    assert (st.st_mode, st.st_ino, st.st_size, st.st_mtime_ns) == (
        real.st_mode,
        real.st_ino,
        real.st_size,
        real.st_mtime_ns,
    )


def _shard(tmp_path, files: int) -> str:  # noqa: ANN001
    """A shard folder of `files` objects, a sub-folder and symlinks named like objects."""
    shard = tmp_path / "ab"
    shard.mkdir()
    for i in range(files):
        (shard / f"f{i}").write_bytes(b"x")
    (shard / "folder").mkdir()
    (shard / "to-file").symlink_to(shard / "f0")
    (shard / "dangling").symlink_to(shard / "gone")
    return str(shard)


@pytest.mark.parametrize("asked", [4, 3000])  # a stat each, or one listing of the folder
def test_present_in_folders_answers_as_isfile_would(tmp_path, asked: int) -> None:  # noqa: ANN001
    shard = _shard(tmp_path, 3000)
    names = [f"f{i}" for i in range(asked - 4)] + ["folder", "to-file", "dangling", "absent"]
    folders = {
        shard: {name: name for name in names},
        os.path.join(str(tmp_path), "cd"): {"f0": "no-shard"},
        os.path.join(shard, "f1"): {"x": "file-as-shard"},
    }
    expected = {
        key
        for folder, wanted in folders.items()
        for name, key in wanted.items()
        if os.path.isfile(os.path.join(folder, name))
    }
    assert present_in_folders(folders) == expected
    assert "to-file" in expected and "folder" not in expected and "dangling" not in expected


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o277])
def test_copy_new_keeps_the_mode_whatever_the_umask(tmp_path, umask: int) -> None:  # noqa: ANN001
    # The mode is given at creation; a chmod follows only where the umask strips bits.
    source = tmp_path / "object"
    source.write_bytes(b"content")
    source.chmod(0o444)
    before = os.umask(umask)
    try:
        assert process_umask() == umask
        copy_new(str(source), str(tmp_path / "kept"), keep_mode=True, umask=umask)
    finally:
        os.umask(before)
    assert stat.S_IMODE((tmp_path / "kept").stat().st_mode) == 0o444
