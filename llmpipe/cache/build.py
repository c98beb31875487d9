"""Hash a workspace file or directory, through the state DB.

Every file is stat'ed (via scandir for directories) and looked up in the state
in bulk; only the misses are read, in a thread pool when there are many, and
their hashes are recorded so the next build reads nothing.
"""

from __future__ import annotations

import os
import stat
from operator import itemgetter
from typing import NamedTuple, cast

from ..dvcignore import DVCIGNORE, DvcIgnore
from ..errors import SpecError
from ..fsutil import StatLike, walk_files
from ..hashing import dir_hash, dir_manifest_bytes, file_hash
from ..progress import NoProgress, Progress
from ..stage import HashInfo
from . import listing
from .parallel import map_in_threads
from .state import StateDB

# How many files of a directory may fall back from its listing to the state DB
# before the listing is written again.
_LISTING_SLACK = 64
# Above this many files a listing costs more memory than its lookups save time: its
# blob, text and decoded strings added ~250 MiB to `add` of a million files (over the
# 1 GB the issue allows); the state DB's batched lookups serve such directories.
LISTING_MAX_FILES = 200_000


class Manifest(NamedTuple):
    """The files of a directory: (posix relpath, hash, size, isexec), sorted by relpath.

    A NamedTuple, not a dataclass: a dataclass costs ~0.3 ms at every command's start-up.
    """

    entries: tuple[tuple[str, str, int, bool], ...]

    def dir_bytes(self, name: str = "md5") -> bytes:
        """The `.dir` object bytes DVC writes for this directory."""
        return dir_manifest_bytes(((rel, value) for rel, value, _, _ in self.entries), name)


def is_exec(mode: int) -> bool:
    """DVC's rule: a file is executable when any execute bit is set."""
    return bool(mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))


def build(
    path: str,
    hash_name: str,
    state: StateDB,
    progress: Progress | None = None,
    jobs: int | None = None,
    ignore: DvcIgnore | None = None,
    manifest: bool = True,
) -> tuple[HashInfo, Manifest | None]:
    """The HashInfo of `path` (file or directory), and a Manifest for a directory.

    A directory's files are those `ignore` (the project's `.dvcignore` rules)
    keeps. Without `manifest` (a status check: nothing is stored), a directory comes
    without its Manifest, and takes its hash from its listing when every file hashes
    as listed (nothing changed, or a touched file's bytes are the same) instead of
    serialising and hashing the manifest again. Raises FileNotFoundError when `path`
    does not exist, SpecError when a `.dvcignore` sits inside the directory (dvc
    refuses it too).
    """
    st = os.stat(path)
    if not stat.S_ISDIR(st.st_mode):
        value = hash_files(path, [("", st)], hash_name, state, progress, jobs)[0]
        return HashInfo(hash_name, value, size=st.st_size, isexec=is_exec(st.st_mode)), None
    # Relpaths are unique: sorting on them alone orders as the pairs would, faster.
    files = sorted(walk_files(path, ignore.pruner(path) if ignore else None), key=itemgetter(0))
    _refuse_nested_dvcignore(path, files)
    if len(files) > LISTING_MAX_FILES:
        return build_listed(path, files, hash_name, state, progress, jobs)
    # Summed now, while the stats are in the CPU's cache: hashing a big file evicts them.
    size = sum([st.st_size for _, st in files])
    values, value = _hash_through_listing(
        path, files, hash_name, state, progress, jobs, listed_hash=not manifest
    )
    info = HashInfo(hash_name, value, size=size, nfiles=len(files))
    return info, (_manifest(files, values) if manifest else None)


def build_listed(
    path: str,
    files: list[tuple[str, StatLike]],
    hash_name: str,
    state: StateDB,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> tuple[HashInfo, Manifest]:
    """The HashInfo and Manifest of a directory holding only `files` (sorted relpaths
    under `path`, with their stats): a chosen part of a folder, hashed as a `.dir`."""
    values = hash_files(path, files, hash_name, state, progress, jobs)
    manifest = _manifest(files, values)
    value = dir_hash(manifest.dir_bytes(hash_name), hash_name)
    size = sum(entry[2] for entry in manifest.entries)
    return HashInfo(hash_name, value, size=size, nfiles=len(files)), manifest


def _manifest(files: list[tuple[str, StatLike]], values: list[str]) -> Manifest:
    return Manifest(
        tuple(
            (rel, value, st.st_size, is_exec(st.st_mode))
            for (rel, st), value in zip(files, values, strict=True)
        )
    )


def _refuse_nested_dvcignore(path: str, files: list[tuple[str, StatLike]]) -> None:
    """A `.dvcignore` inside a directory would change its hash for dvc and not for git."""
    # One scan of the joined paths (no NUL in a name) rules out the usual case at once.
    joined = "\0" + "\0".join([rel for rel, _ in files]) + "\0"
    if f"\0{DVCIGNORE}\0" not in joined and f"/{DVCIGNORE}\0" not in joined:
        return
    for rel, _ in files:
        if rel == DVCIGNORE or rel.endswith("/" + DVCIGNORE):
            folder = os.path.join(path, os.path.dirname(rel)).rstrip(os.sep)
            raise SpecError(
                f"{DVCIGNORE} file should not be in collected dir path: '{folder}';"
                f" move its rules to a {DVCIGNORE} above the directory"
            )


def _hash_through_listing(
    root: str,
    files: list[tuple[str, StatLike]],
    hash_name: str,
    state: StateDB,
    progress: Progress | None,
    jobs: int | None,
    listed_hash: bool,
) -> tuple[list[str], str]:
    """Hashes of a whole directory's `files` and the directory's hash, first from its
    listing, which is kept again when much in it changed. With `listed_hash`, the
    directory's hash comes from the listing too when its files hash as listed; without,
    it is computed from the manifest (whose bytes the caller may store under it)."""
    key = os.path.abspath(root)
    blob = state.get_listing(key, hash_name)
    recall = listing.recall(blob, files)
    known = recall.values
    unknown = [i for i, value in enumerate(known) if value is None]
    if unknown:
        found = hash_files(root, [files[i] for i in unknown], hash_name, state, progress, jobs)
        for i, value in zip(unknown, found, strict=True):
            known[i] = value
    values = cast(list[str], known)  # every None was filled just above
    dir_value = recall.unchanged_dir_value(values) if listed_hash else None
    if dir_value is None:
        pairs = zip([rel for rel, _ in files], values, strict=True)
        dir_value = dir_hash(dir_manifest_bytes(pairs, hash_name), hash_name)
    # A few files the listing no longer vouches for cost a few state rows; rewriting
    # the whole listing costs more, so that waits until they are many.
    if len(unknown) > _LISTING_SLACK or not listing.covers(blob, len(files)):
        state.set_listing(key, listing.encode(files, values, dir_value), hash_name)
    return values, dir_value


def hash_files(
    root: str,
    files: list[tuple[str, StatLike]],
    hash_name: str,
    state: StateDB,
    progress: Progress | None = None,
    jobs: int | None = None,
) -> list[str]:
    """Hashes of `files` (relpaths under `root`, "" for root itself, with their stats).

    Known files come from the state; the rest are read and recorded in it.
    """
    # The state is keyed by inode, so `files` goes to it as it is: no second list of
    # full paths and stats for a million files; paths are joined for misses only.
    known = state.get_many(files, hash_name)
    misses = [i for i, value in enumerate(known) if value is None]
    if misses:
        paths = [os.path.join(root, files[i][0]) if files[i][0] else root for i in misses]
        computed = _hash_misses(paths, files, misses, hash_name, progress, jobs)
        state.set_many(
            [
                (path, files[i][1], value)
                for path, i, value in zip(paths, misses, computed, strict=True)
            ],
            hash_name,
        )
        for i, value in zip(misses, computed, strict=True):
            known[i] = value
    return [value for value in known if value is not None]


def _hash_misses(
    paths: list[str],
    files: list[tuple[str, StatLike]],
    misses: list[int],
    hash_name: str,
    progress: Progress | None,
    jobs: int | None,
) -> list[str]:
    progress = progress or NoProgress()
    sizes = [files[i][1].st_size for i in misses]
    progress.start(f"hashing {len(paths)} file(s)", sum(sizes))
    try:
        if len(paths) == 1:
            return [file_hash(paths[0], hash_name, progress)]
        # Progress counts whole files' bytes, reported from this thread.
        done = iter(sizes)
        return map_in_threads(
            lambda path: file_hash(path, hash_name),
            paths,
            jobs,
            lambda n: progress.advance(sum(next(done) for _ in range(n))),
        )
    finally:
        progress.finish()
