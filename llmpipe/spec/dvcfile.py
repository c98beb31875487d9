"""`.dvc` files: data tracked outside pipeline stages (what `dvc add` writes).

Format, as `dvc add` 3.x writes it (key order matters for byte equality):

    outs:
    - md5: <hash>            # `<hash>.dir` for a directory
      size: <bytes>
      nfiles: <n>            # directories only
      isexec: true           # executable files only
      hash: md5
      path: <name relative to the .dvc file's directory>
"""

from __future__ import annotations

import os
import posixpath
from typing import Any

from llmpipe.errors import SpecError
from llmpipe.fsutil import atomic_write_text
from llmpipe.lockfile import hashes_in, item_problem
from llmpipe.revfs import FileTree, as_tree, read_text
from llmpipe.spec.paths import checked_path
from llmpipe.stage import HashInfo, Out, Stage
from llmpipe.yamlio import dump_yaml, load_yaml

_OUT_OPTION_TYPES = {"cache": bool, "persist": bool, "push": bool, "remote": str, "desc": str}


def load_dvcfile(root: str | FileTree, relpath: str) -> Stage:
    """A data-source Stage for the `.dvc` file at repo-relative `relpath`.

    name and dvcfile are `relpath`, wdir its directory, cmd None, outs as listed.
    Raises SpecError when the file is malformed.
    """
    return _stage(relpath, _read(root, relpath))


def read_dvcfile(root: str | FileTree, relpath: str) -> tuple[Stage, dict[str, HashInfo]]:
    """`load_dvcfile` and `read_dvcfile_hashes` of one `.dvc` file, parsed once."""
    data = _read(root, relpath)
    return _stage(relpath, data), _hashes(relpath, data)


def _stage(relpath: str, data: dict[str, Any]) -> Stage:
    wdir = posixpath.dirname(relpath) or "."
    if data.get("wdir"):
        wdir = _checked(relpath, wdir, str(data["wdir"]), "wdir")
    outs = tuple(_out(relpath, wdir, entry) for entry in _outs_list(relpath, data))
    frozen = data.get("frozen", False)
    return Stage(
        name=relpath,
        dvcfile=relpath,
        wdir=wdir,
        cmd=None,
        outs=outs,
        frozen=frozen if isinstance(frozen, bool) else False,
        desc=data.get("desc") if isinstance(data.get("desc"), str) else None,
        meta=data.get("meta"),
        lineno=1,
    )


def read_dvcfile_hash(root: str | FileTree, relpath: str) -> HashInfo | None:
    """The hash recorded for the first output of a `.dvc` file (None if not recorded)."""
    entries = _outs_list(relpath, _read(root, relpath))
    return HashInfo.from_lock_dict(entries[0]) if isinstance(entries[0], dict) else None


def read_dvcfile_hashes(root: str | FileTree, relpath: str) -> dict[str, HashInfo]:
    """{out path as written: recorded hash} of a `.dvc` file; outs without a hash left out."""
    return _hashes(relpath, _read(root, relpath))


def _hashes(relpath: str, data: dict[str, Any]) -> dict[str, HashInfo]:
    return hashes_in({"outs": _outs_list(relpath, data)}, "outs")


def write_dvcfile(root: str, relpath: str, out_path: str, hash_info: HashInfo) -> None:
    """Write the `.dvc` file at `relpath` exactly as `dvc add` would, atomically."""
    atomic_write_text(os.path.join(root, relpath), dvcfile_text(out_path, hash_info))


def update_dvcfile(root: str, relpath: str, out_path: str, hash_info: HashInfo) -> None:
    """Record `hash_info` for output `out_path` of the `.dvc` file at `relpath`
    (`record_dvcfile_hashes`); a new file (`write_dvcfile`) when there is none, or none
    that names `out_path`.
    """
    try:
        data = load_yaml(read_text(as_tree(root), relpath) or "", relpath)
    except SpecError:  # (a malformed file stopped the caller loading the stages)
        data = None
    outs = data.get("outs") if isinstance(data, dict) else None
    if not any(isinstance(e, dict) and e.get("path") == out_path for e in outs or ()):
        write_dvcfile(root, relpath, out_path, hash_info)
        return
    record_dvcfile_hashes(root, relpath, {out_path: hash_info})


def dvcfile_text(out_path: str, hash_info: HashInfo) -> str:
    """The text `dvc add` writes for one output with `hash_info`."""
    entry: dict[str, Any] = {hash_info.name: hash_info.value, **hash_info.facts()}
    entry["hash"] = hash_info.name
    entry["path"] = out_path
    return dump_yaml({"outs": [entry]})


def _read(root: str | FileTree, relpath: str) -> dict[str, Any]:
    text = read_text(as_tree(root), relpath)
    if text is None:
        raise SpecError(f"'{relpath}' does not exist")
    data = load_yaml(text, relpath)
    if not isinstance(data, dict):
        raise SpecError(
            f"{relpath}: a .dvc file must be a mapping with an 'outs' list;"
            " re-create it with `llmpipe add`"
        )
    return data


def _outs_list(relpath: str, data: dict[str, Any]) -> list[Any]:
    outs = data.get("outs")
    if not isinstance(outs, list) or not outs:
        raise SpecError(
            f"{relpath}: a .dvc file needs a non-empty 'outs' list;"
            " re-create it with `llmpipe add <path>`"
        )
    problem = next(filter(None, map(item_problem, outs)), None)
    if problem:
        raise SpecError(f"{relpath}: 'outs': {problem}; re-create it with `llmpipe add <path>`")
    return outs


def _out(relpath: str, wdir: str, entry: dict[str, Any]) -> Out:
    path = entry["path"]
    _checked(relpath, wdir, path, "outs")
    for option, expected in _OUT_OPTION_TYPES.items():
        if option in entry and not isinstance(entry[option], expected):
            raise SpecError(f"{relpath}: option '{option}' of '{path}' has the wrong type")
    return Out(
        path=path,
        cache=entry.get("cache", True),
        persist=entry.get("persist", False),
        remote=entry.get("remote"),
        push=entry.get("push", True),
        desc=entry.get("desc"),
    )


def _checked(relpath: str, wdir: str, path: str, what: str) -> str:
    try:
        return checked_path(wdir, path, what)
    except ValueError as exc:
        raise SpecError(f"{relpath}: {exc}") from None


def record_dvcfile_hashes(root: str, relpath: str, hashes: dict[str, HashInfo]) -> None:
    """Record new `hashes` ({out path as written: hash}) in the `.dvc` file at `relpath`.

    As dvc rewrites the file (it applies its fresh dump to the parsed text): comments
    and keys stay where they are, hash facts change in place, new facts go last in
    dvc's order, stale facts go, and so do options left at their default value.
    """
    from llmpipe.yamlio import load_for_update

    path = os.path.join(root, relpath)
    document = load_for_update(read_text(as_tree(root), relpath) or "")
    for entry in document.get("outs") or ():
        info = hashes.get(entry.get("path"))
        if info is not None:
            _record_hash(entry, info)
            _drop_defaults(entry)
    atomic_write_text(path, dump_yaml(document))


# The fields of an output entry that its hash decides, in the order dvc adds them.
_HASH_FIELDS = ("md5", "size", "nfiles", "isexec", "hash", "etag", "checksum")

# Options dvc writes only when they differ from their default (a falsy metric/plot too).
_DEFAULTS = {"cache": True, "persist": False, "push": True, "metric": False, "plot": False}


def _record_hash(entry: dict[str, Any], hash_info: HashInfo) -> None:
    wanted = {hash_info.name: hash_info.value, **hash_info.facts(), "hash": hash_info.name}
    for key in dict.fromkeys((*_HASH_FIELDS, hash_info.name)):
        if key in wanted:
            entry[key] = wanted[key]
        elif key in entry:
            del entry[key]


def _drop_defaults(entry: dict[str, Any]) -> None:
    for key, default in _DEFAULTS.items():
        if key in entry and entry[key] is default:
            del entry[key]
