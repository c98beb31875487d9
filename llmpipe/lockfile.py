"""Read and write `dvc.lock` exactly as DVC 3 does.

A lock entry records what a stage last ran with: its command, the hashes of
its deps and outs, and the values of its tracked params. Entries are plain
dicts at this edge of the system; `entry_for` builds one from values.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Mapping
from typing import Any

from .errors import SpecError
from .fsutil import atomic_write_text
from .revfs import FileTree, as_tree, parse_once, read_text
from .stage import HashInfo, Stage
from .yamlio import load_yaml, render_lock, split_stage_blocks

LockEntry = dict[str, Any]


def read_lock(root: str | FileTree, relpath: str) -> dict[str, LockEntry]:
    """The stage entries of the lock file at `relpath` (empty when there is none).

    `root` is the project folder, or a tree (a commit's files) to read from. A
    commit's lock is parsed once per content (the result is shared: do not change it).
    """
    return parse_once(as_tree(root), relpath, _read_lock)


def _read_lock(tree: FileTree, relpath: str) -> dict[str, LockEntry]:
    return parse_lock(read_text(tree, relpath) or "", relpath)


def parse_lock(text: str, relpath: str) -> dict[str, LockEntry]:
    data = load_yaml(text, relpath) if text.strip() else {}
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
    for field, (expected, described) in _ITEM_FIELD_TYPES.items():
        if field in item and not isinstance(item[field], expected):
            return f"'{field}' of '{item['path']}' must be {described}"
    for field in _CHECKSUM_FIELDS:
        value = item.get(field)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (str, int))):
            return f"'{field}' of '{item['path']}' must be a hash string"
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


class LockWriter:
    """Updates lock files one stage at a time; safe to call from worker threads.

    The full text is re-rendered from cached per-entry text and written
    atomically, so a crash leaves the previous complete lock file.
    """

    def __init__(self, root: str) -> None:
        self.root = root
        self._files: dict[str, dict[str, LockEntry]] = {}
        # Text of entries unchanged since the file was read: rewriting the lock after
        # one stage of a 100-stage pipeline renders one entry, not a hundred.
        self._verbatim: dict[str, dict[str, str]] = {}
        self._mutex = threading.Lock()

    def _stages(self, relpath: str) -> dict[str, LockEntry]:
        stages = self._files.get(relpath)
        if stages is None:
            text = read_text(as_tree(self.root), relpath) or ""
            stages = dict(parse_lock(text, relpath))
            self._files[relpath] = stages
            self._verbatim[relpath] = split_stage_blocks(text)
        return stages

    def entry(self, relpath: str, name: str) -> LockEntry | None:
        """The current entry of a stage, including updates made through this writer."""
        with self._mutex:
            return self._stages(relpath).get(name)

    def update(self, relpath: str, name: str, entry: LockEntry) -> None:
        with self._mutex:
            stages = self._stages(relpath)
            if stages.get(name) == entry:
                return
            stages[name] = entry
            verbatim = self._verbatim.setdefault(relpath, {})
            verbatim.pop(name, None)
            text = render_lock(stages, verbatim)
            atomic_write_text(os.path.join(self.root, relpath), text)
