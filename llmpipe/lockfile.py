"""Read and write `dvc.lock` exactly as DVC 3 does.

A lock entry records what a stage last ran with: its command, the hashes of
its deps and outs, and the values of its tracked params. Entries are plain
dicts at this edge of the system; `entry_for` builds one from values.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Mapping
from typing import Any

from . import lockjournal, parsememo
from .errors import SpecError
from .fsutil import atomic_write_text
from .lockjournal import Journal
from .revfs import FileTree, WorkTree, as_tree, parse_once, read_text
from .stage import HashInfo, Stage
from .yamlio import LOCK_HEADER, load_yaml, render_lock, split_stage_blocks, stage_block

LockEntry = dict[str, Any]


def read_lock(root: str | FileTree, relpath: str) -> dict[str, LockEntry]:
    """The stage entries of the lock file at `relpath` (empty when there is none).

    `root` is the project folder, or a tree (a commit's files) to read from. A
    commit's lock is parsed once per content (the result is shared: do not change it).
    """
    return parse_once(as_tree(root), relpath, _read_lock)


def _read_lock(tree: FileTree, relpath: str) -> dict[str, LockEntry]:
    text = read_text(tree, relpath) or ""
    if isinstance(tree, WorkTree):  # entries a killed `repro` left in the journal
        text = lockjournal.applied(tree.root, relpath, text)
    return parse_lock(text, relpath)


def parse_lock(text: str, relpath: str) -> dict[str, LockEntry]:
    data = load_yaml(text, relpath, memo=True) if text.strip() else {}
    if not isinstance(data, dict):
        raise SpecError(f"{relpath}: not a lock file (expected a mapping); delete it and re-run")
    stages = data.get("stages") or {}
    if not isinstance(stages, dict):
        raise SpecError(f"{relpath}: 'stages' must be a mapping; delete the file and re-run")
    for name, entry in stages.items():
        problem = _entry_problem(entry)
        if problem:
            raise SpecError(
                f"{relpath}: entry of stage '{name}': {problem}; delete the entry (or the file)"
                " and re-run the stage"
            )
    return stages


def _entry_problem(entry: object) -> str | None:
    """What makes a lock entry unusable (as dvc's lock schema would say), or None."""
    if not isinstance(entry, dict):
        return "the entry must be a mapping"
    cmd = entry.get("cmd")
    if cmd is not None and not _is_text_or_texts(cmd):
        return "'cmd' must be a string or a list of strings"
    for section in ("deps", "outs"):
        items = entry.get(section)
        if items is None:
            continue
        if not isinstance(items, list):
            return f"'{section}' must be a list of entries with a 'path'"
        problem = next(filter(None, map(item_problem, items)), None)
        if problem:
            return f"'{section}': {problem}"
    params = entry.get("params")
    if params is not None and not (
        isinstance(params, dict) and all(isinstance(v, dict) for v in params.values())
    ):
        return "'params' must map each params file to its values"
    return None


def _is_text_or_texts(value: object) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list) and all(isinstance(item, str) for item in value)
    )


# dvc's types for the fields of a recorded dep or out (its output and meta schemas).
_ITEM_FIELD_TYPES: dict[str, tuple[type, str]] = {
    "hash": (str, "a string"),
    "size": (int, "an integer"),
    "nfiles": (int, "an integer"),
    "isexec": (bool, "true or false"),
}
_CHECKSUM_FIELDS = ("md5", "etag", "checksum")


def item_problem(item: object) -> str | None:
    """What is wrong with one recorded dep or out (a lock or .dvc file entry), or None."""
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        return "every entry needs a 'path' string"
    for name, (expected, described) in _ITEM_FIELD_TYPES.items():
        if name in item and not isinstance(item[name], expected):
            return f"'{name}' of '{item['path']}' must be {described}"
    for name in _CHECKSUM_FIELDS:
        value = item.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            return f"'{name}' of '{item['path']}' must be a hash string"
    return None


def _item(path: str, hash_info: HashInfo) -> dict[str, Any]:
    return {"path": path, **hash_info.to_lock_dict()}


def entry_for(
    stage: Stage,
    dep_hashes: Mapping[str, HashInfo],
    params: Mapping[str, Mapping[str, Any]],
    out_hashes: Mapping[str, HashInfo],
) -> LockEntry:
    """The lock entry of `stage`; paths are keyed as written in dvc.yaml."""
    entry: LockEntry = {"cmd": stage.cmd if isinstance(stage.cmd, str) else list(stage.cmd)}
    if dep_hashes:
        entry["deps"] = [_item(path, dep_hashes[path]) for path in sorted(dep_hashes)]
    if params:
        entry["params"] = {
            file: {key: values[key] for key in sorted(values)}
            for file, values in sorted(params.items())
        }
    if out_hashes:
        entry["outs"] = [_item(path, out_hashes[path]) for path in sorted(out_hashes)]
    return entry


def hashes_in(entry: LockEntry, section: str) -> dict[str, HashInfo]:
    """`deps` or `outs` of a lock entry as {path: HashInfo}."""
    found: dict[str, HashInfo] = {}
    for item in entry.get(section) or ():
        if isinstance(item, dict) and "path" in item:
            info = HashInfo.from_lock_dict(item)
            if info is not None:
                found[str(item["path"])] = info
    return found


class _OpenLock:
    """What a writer knows of one lock file: its entries and the text of each.

    A plain class with slots, not a dataclass (one costs ~0.4 ms at import, on every
    command's start-up); nothing compares or prints it.
    """

    __slots__ = ("stages", "text", "blocks", "inexact", "size", "pending", "written", "journal")

    def __init__(self, stages: dict[str, LockEntry], text: str) -> None:
        self.stages = stages
        self.text = text  # as read; split into `blocks` on the first update (no-ops never do)
        self.blocks: dict[str, str] | None = None  # the text of every entry (empty: not dvc's text)
        self.inexact: set[str] = set()  # blocks ruamel wrote (see stage_block)
        self.size = 0  # bytes of the lock as last written
        self.pending = False  # the file lacks entries this writer holds (in its journal)
        self.written: str | None = None  # the text last written, for the parse memo at `close`
        self.journal: Journal | None = None


class LockWriter:
    """Updates lock files one stage at a time; safe to call from worker threads.

    Each update reaches the disk before `update` returns: a small lock is rewritten
    atomically (a crash leaves the previous complete file), a large one gets the entry
    appended to its journal and is rewritten in amortized steps (`lockjournal`), so a
    first `repro` of n stages writes O(n) bytes. `close()` (at the end of the command,
    also on errors) leaves every lock file complete.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._files: dict[str, _OpenLock] = {}
        self._mutex = threading.Lock()

    def _open(self, relpath: str) -> _OpenLock:
        lock = self._files.get(relpath)
        if lock is None:
            on_disk = read_text(as_tree(self.root), relpath) or ""
            text = lockjournal.applied(self.root, relpath, on_disk)
            lock = _OpenLock(dict(parse_lock(text, relpath)), text)
            lock.pending = text != on_disk
            self._files[relpath] = lock
        return lock

    def entry(self, relpath: str, name: str) -> LockEntry | None:
        """The current entry of a stage, including updates made through this writer."""
        with self._mutex:
            return self._open(relpath).stages.get(name)

    def update(self, relpath: str, name: str, entry: LockEntry) -> None:
        with self._mutex:
            lock = self._open(relpath)
            if lock.stages.get(name) == entry:
                return
            lock.stages[name] = entry
            block = self._set_block(lock, name, entry)
            journal = lock.journal
            if journal is not None and journal.size * 2 < lock.size:
                journal.append(name, block)
                lock.pending = True
            else:
                self._rewrite(relpath, lock)

    @staticmethod
    def _blocks(lock: _OpenLock) -> dict[str, str]:
        """The text of each entry, split from the file's text the first time it is needed."""
        if lock.blocks is None:
            lock.blocks = split_stage_blocks(lock.text)
            if not lock.blocks:  # not dvc's layout: render all of it anew
                for name, entry in lock.stages.items():
                    lock.blocks[name], exact = stage_block(name, entry)
                    if not exact:
                        lock.inexact.add(name)
        return lock.blocks

    def _set_block(self, lock: _OpenLock, name: str, entry: LockEntry) -> str:
        block, exact = stage_block(name, entry)
        self._blocks(lock)[name] = block
        (lock.inexact.discard if exact else lock.inexact.add)(name)
        return block

    def _rewrite(self, relpath: str, lock: _OpenLock, last: bool = False) -> None:
        blocks = self._blocks(lock)
        text = LOCK_HEADER + "".join(blocks.values()) if blocks else render_lock({})
        atomic_write_text(os.path.join(self.root, relpath), text)
        lock.size, lock.pending = len(text), False
        if lock.journal is not None:
            lock.journal.close(remove=True)
            lock.journal = None
        else:
            lockjournal.discard(lockjournal.journal_path(self.root, relpath))
        lock.written = text
        if not last and lock.size > lockjournal.SMALL:
            with contextlib.suppress(OSError):
                lock.journal = Journal(self.root, relpath, text)

    def close(self) -> None:
        """Write into each lock file what only its journal holds; remove the journals."""
        with self._mutex:
            for relpath, lock in self._files.items():
                if lock.pending:
                    self._rewrite(relpath, lock, last=True)
                elif lock.journal is not None:  # nothing in it since the last rewrite
                    lock.journal.close(remove=True)
                    lock.journal = None
                if lock.written is not None and not lock.inexact:
                    # The next command reads this text: it need not import PyYAML to
                    # parse it (only the last text: the memo keeps 512 entries).
                    parsememo.remember(lock.written, {"schema": "2.0", "stages": lock.stages}, None)
                    lock.written = None
