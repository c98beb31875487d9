"""llmpipe: reproducible pipelines, data versioning and model management for LLM work.

The public API::

    from llmpipe import Repo

    with Repo.discover() as repo:
        result = repo.reproduce(["train"], jobs=2)
        for entry in repo.status():
            print(entry.address, [str(r) for r in entry.reasons])

Every type a `Repo` method returns is importable from here; they load on first use.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from .errors import LlmpipeError
from .repo import Repo
from .stage import Dep, HashInfo, Out, ParamRef, Stage

# name -> module: the result types of the public API, imported when first asked for.
_LAZY = {
    "Project": "llmpipe.project",
    "ReproResult": "llmpipe.run.scheduler",
    "StageOutcome": "llmpipe.run.stage_run",
    "StatusEntry": "llmpipe.run.status",
    "Reason": "llmpipe.run.status",
    "Added": "llmpipe.ops.add",
    "CheckoutSummary": "llmpipe.ops.checkout",
    "GcResult": "llmpipe.cache.gc",
    "GcReport": "llmpipe.ops.data",
    "TransferResult": "llmpipe.remote.transfer",
    "Failure": "llmpipe.remote.transfer",
    "PullResult": "llmpipe.ops.transfer",
    "Graph": "llmpipe.graph",
    "RevisionChoice": "llmpipe.compare.revisions",
}

__all__ = [
    "Dep", "HashInfo", "LlmpipeError", "Out", "ParamRef", "Repo", "Stage", "__version__",
    *sorted(_LAZY),
]  # fmt: skip


def __getattr__(name: str) -> Any:
    if name == "__version__":
        found = _dist_info_version()
        if found is not None:
            return found
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("llmpipe")
        except PackageNotFoundError:  # run from a checkout that is not installed
            return "0+unknown"
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'llmpipe' has no attribute {name!r}")


def _dist_info_version() -> str | None:
    """The version in the first `llmpipe-*.dist-info/METADATA` (or a checkout's
    `llmpipe.egg-info/PKG-INFO`) along sys.path.

    The one importlib.metadata would find, without importing it (about 25 ms: email,
    zipfile, csv), which every run recording lineage would pay. None (so: ask
    importlib.metadata) on anything less plain: another spelling of the
    name, a zip on the path, an unreadable file.
    """
    for entry in sys.path:
        try:
            names = os.listdir(entry or ".")
        except (FileNotFoundError, PermissionError):
            continue
        except OSError:  # a zip archive, or worse
            return None
        found = [n for n in names if n.lower().startswith("llmpipe") and "-info" in n.lower()]
        if not found:
            continue
        if len(found) != 1:
            return None
        if found[0].startswith("llmpipe-") and found[0].endswith(".dist-info"):
            metadata = "METADATA"
        elif found[0] == "llmpipe.egg-info":  # a checkout an editable install built in
            metadata = "PKG-INFO"
        else:
            return None
        try:
            with open(os.path.join(entry or ".", found[0], metadata), encoding="utf-8") as meta:
                for line in meta:
                    if line.startswith("Version:"):
                        return line.split(":", 1)[1].strip()
                    if not line.strip():
                        return None
        except OSError:
            return None
        return None
    return None
