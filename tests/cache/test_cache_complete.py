"""The "directory complete" marker never outlives the objects it vouches for (#15 item 12)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from cache_trees import write_tree

from llmpipe.cache.checkout import in_cache
from llmpipe.cache.complete import complete_marker
from llmpipe.cache.save import save
from llmpipe.fsutil import remove
from tests.conftest import needs_dvc

PAST_NS = 1_600_000_000 * 10**9


def _age_shard_folders(odb) -> None:
    """Make the cache look untouched for years, so the marker records real folder times."""
    for entry in os.scandir(odb.root):
        if entry.is_dir():
            os.utime(entry.path, ns=(PAST_NS, PAST_NS))


@pytest.fixture
def saved(tmp_path, odb, state):
    root = write_tree(tmp_path / "data")
    info = save(root, odb, state, ["copy"])
    shutil.rmtree(root)
    _age_shard_folders(odb)
    return info


def test_a_directory_found_complete_is_remembered(saved, odb):
    assert in_cache(odb, saved)
    assert os.path.exists(complete_marker(odb, saved.value))
    assert in_cache(odb, saved)


@pytest.mark.parametrize("remove", ["by_hand", "llmpipe_remove"])
def test_a_marker_does_not_vouch_for_a_removed_object(saved, odb, remove):
    assert in_cache(odb, saved)  # writes the marker
    victim = odb.read_manifest(saved.value)[0][1]
    if remove == "by_hand":
        os.chmod(odb.oid_path(victim), 0o644)
        os.unlink(odb.oid_path(victim))
    else:
        odb.remove(victim)
    assert not in_cache(odb, saved)


def test_objects_added_beside_only_recheck_that_folder(saved, odb, tmp_path, state):
    assert in_cache(odb, saved)
    entries = odb.read_manifest(saved.value)
    touched = entries[0][1][:2]
    odb.add_bytes(touched + "0" * 30, b"unrelated")  # moves that folder's time
    assert in_cache(odb, saved)
    text = Path(complete_marker(odb, saved.value)).read_text()
    recorded = dict(line.split() for line in text.splitlines())
    assert set(recorded) == {oid[:2] for _, oid in entries}
    assert recorded[touched] == "0"  # changed just now: checked again next time


def test_a_removed_shard_folder_is_noticed(saved, odb):
    assert in_cache(odb, saved)
    victim = odb.read_manifest(saved.value)[0][1]
    remove(os.path.join(odb.root, victim[:2]))
    assert not in_cache(odb, saved)


def test_an_unreadable_marker_means_check_again(saved, odb):
    marker = complete_marker(odb, saved.value)
    os.makedirs(os.path.dirname(marker))
    with open(marker, "wb"):
        pass  # the empty marker older llmpipe versions wrote
    victim = odb.read_manifest(saved.value)[0][1]
    odb.remove(victim)
    assert not in_cache(odb, saved)


@pytest.mark.dvc
@needs_dvc
def test_status_after_an_object_is_deleted_agrees_with_dvc(project):
    """dvc's own `gc`, or a hand, removes an object of a directory output."""
    project.write(
        "dvc.yaml",
        "stages:\n  make:\n    cmd: mkdir -p out && echo a > out/a && echo b > out/b\n    outs: [out]\n",
    )
    project.ok("repro")
    assert "up to date" in project.ok("status").out  # the marker is written here
    cache = project.path / ".dvc" / "cache" / "files" / "md5"
    for entry in os.scandir(cache):
        os.utime(entry.path, ns=(PAST_NS, PAST_NS))
    project.ok("status")
    victim = next(p for p in cache.rglob("*") if p.is_file() and not p.name.endswith(".dir"))
    os.chmod(victim, 0o644)
    victim.unlink()
    dvc = project.run("dvc", "status", check=False)
    assert "not in cache" in dvc.stdout
    ours = project.cli("status")
    assert "up to date" not in ours.out
    assert "is not in the cache" in ours.out
