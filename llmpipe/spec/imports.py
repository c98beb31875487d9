"""`.dvc` files of imports (`import`, `import-url`), as dvc 3 writes them.

    md5: <stage hash>          # see `stage_md5`
    frozen: true
    deps:
    - path: data/features      # import: the path in the source project
      repo:
        url: ../registry
        rev: v1                # only when a revision was asked for
        rev_lock: <commit sha>
    outs:
    - md5: <hash>
      size: <bytes>
      nfiles: <n>              # directories only
      hash: md5
      path: features

An `import-url` dep is the URL (or outside path) with the hash dvc recorded for it
in place of `repo`. Being frozen, `status` and `repro` leave the output alone:
only `update` changes it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from llmpipe.errors import SpecError
from llmpipe.revfs import as_tree, read_text
from llmpipe.stage import EXTERNAL_HASH_NAMES, HashInfo
from llmpipe.yamlio import load_yaml

# What dvc leaves out of a stage's hash (annotations, frozen, and facts of outputs).
_NOT_HASHED = frozenset(
    {"desc", "type", "labels", "meta", "frozen", "locked", "metric", "persist"}
    | {"isexec", "size", "nfiles"}
)


@dataclass(frozen=True)
class ImportSpec:
    """What an import's `.dvc` file records: the dep (path, and `repo` or hash) and output."""

    dep: dict[str, Any]
    out_path: str

    @property
    def repo(self) -> dict[str, Any] | None:
        found = self.dep.get("repo")
        return found if isinstance(found, dict) else None


def import_body(
    dep: dict[str, Any], out_path: str, info: HashInfo | None, with_md5: bool = True
) -> dict[str, Any]:
    """What the `.dvc` file of an import of `dep` into `out_path`, holding `info` (None:
    not downloaded), holds; without the stage `md5` when not `with_md5` (`--no-exec`)."""
    out: dict[str, Any] = {info.name: info.value, **info.facts()} if info else {}
    out.update({"hash": info.name if info else "md5", "path": out_path})
    body: dict[str, Any] = {"frozen": True, "deps": [dep], "outs": [out]}
    return {"md5": stage_md5(body), **body} if with_md5 else body


def url_import_body(
    url: str,
    dep: HashInfo | None,
    out_path: str,
    out: HashInfo | None,
    md5: str | None = None,
    fs_config: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What the `.dvc` file of an `import-url` of `url` into `out_path` holds, in dvc's order.

    Without the dep's hash (`--no-exec`) dvc writes no stage `md5` (without the
    output's, `--no-download`, it does); `md5` given is written in place of the
    computed one (dvc keeps the old one on `update --to-remote`). `fs_config`, the
    settings for reading the URL, is recorded with the dep.
    """
    dep_fields = {**_hash_fields(dep), "path": url}
    if fs_config:
        dep_fields["fs_config"] = fs_config
    body: dict[str, Any] = {
        "frozen": True,
        "deps": [dep_fields],
        "outs": [{**_hash_fields(out), "path": out_path}],
    }
    if dep is None:
        return body
    return {"md5": md5 or stage_md5(body), **body}


def _hash_fields(info: HashInfo | None) -> dict[str, Any]:
    if info is None:
        return {"hash": "md5"}
    kind = "md5" if info.name in EXTERNAL_HASH_NAMES else info.name  # as dvc writes it
    return {info.name: info.value, **info.facts(), "hash": kind}


def stage_md5(body: dict[str, Any]) -> str:
    """dvc's hash of a stage: md5 of its sorted JSON without the fields that do not count."""
    filtered = _without(dict(body), _NOT_HASHED)
    return hashlib.md5(json.dumps(filtered, sort_keys=True).encode("utf-8")).hexdigest()


def _without(data: Any, keys: frozenset[str]) -> Any:
    if isinstance(data, list):
        return [_without(item, keys) for item in data]
    if isinstance(data, dict):
        return {k: _without(v, keys) for k, v in data.items() if k not in keys}
    return data


def checksum_changed(root: str, relpath: str) -> bool:
    """True for an import (a `.dvc` file with deps) whose `md5` is not its content's."""
    text = read_text(as_tree(root), relpath)
    data = load_yaml(text, relpath) if text is not None else None
    if not isinstance(data, dict) or not data.get("deps"):
        return False
    body = {k: v for k, v in data.items() if k != "md5"}
    return data.get("md5") != stage_md5(body)


def read_import(root: str, relpath: str) -> ImportSpec | None:
    """The import recorded in the `.dvc` file `relpath`; None for one `add` wrote."""
    text = read_text(as_tree(root), relpath)
    if text is None:
        raise SpecError(f"'{relpath}' does not exist")
    data = load_yaml(text, relpath)
    deps = data.get("deps") if isinstance(data, dict) else None
    if not deps:
        return None
    outs = data.get("outs")
    dep = deps[0]
    valid = isinstance(dep, dict) and isinstance(dep.get("path"), str)
    if len(deps) != 1 or not valid or not isinstance(outs, list) or len(outs) != 1:
        raise SpecError(f"{relpath}: an import needs one dep with a 'path' and one output")
    out = outs[0]
    if not isinstance(out, dict) or not isinstance(out.get("path"), str):
        raise SpecError(f"{relpath}: the output needs a 'path' string")
    return ImportSpec(dict(dep), out["path"])
