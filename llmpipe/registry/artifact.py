"""What a registered version points at: a cached output, its strong digest, lineage, metrics.

The content hash comes from the lock files (`dvc.lock`, `.dvc` files); the
strong digest is sha256 of the file, or for a directory sha256 of the
canonical JSON list of `[relpath, sha256]` pairs sorted by relpath, computed
from the cache objects (so it vouches for what `deploy` will copy).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import RegistryError
from ..metrics import FileProblem, flatten, read_metrics
from ..stage import HashInfo, Stage

if TYPE_CHECKING:
    from ..cache.odb import ObjectDB
    from ..project import Project

_CHUNK = 1 << 20


@dataclass(frozen=True)
class Artifact:
    path: str  # repository-relative posix path
    hash_info: HashInfo
    stage: str  # address of the stage (or .dvc file) that records it


def find_artifact(repo: Project, path: str) -> Artifact:
    """The recorded output at `path`; RegistryError when no lock or .dvc file records it."""
    from ..outputs import recorded_outputs

    relpath = _relpath(repo, path)
    stage = _producer(repo.stages(), relpath)
    recorded = {o.path: o.info for o in recorded_outputs(repo.root, [stage])} if stage else {}
    if stage is not None and relpath in recorded:
        return Artifact(relpath, recorded[relpath], stage.address)
    if stage is not None and not stage.is_data_source:
        raise RegistryError(
            f"'{relpath}' is an output of stage '{stage.address}' that was never "
            "run: run 'llmpipe repro' first"
        )
    raise RegistryError(
        f"'{relpath}' is not a cached output of this project: register a stage output "
        "or a file tracked with 'llmpipe add'"
    )


def _producer(stages: list[Stage], relpath: str) -> Stage | None:
    """The stage (or .dvc file) whose cached output is at `relpath`."""
    for stage in stages:
        outs = stage.outs if stage.is_data_source else stage.cached_outs
        if any(stage.repo_path(out.path) == relpath for out in outs):
            return stage
    return None


def _relpath(repo: Project, path: str) -> str:
    absolute = os.path.abspath(path)
    relpath = os.path.relpath(absolute, repo.root).replace(os.sep, "/")
    if relpath.startswith("../") or relpath == "..":
        raise RegistryError(f"'{path}' is outside the project at {repo.root}")
    return relpath


def require_in_cache(odb: ObjectDB, artifact: Artifact) -> None:
    from ..cache.complete import in_cache

    if not in_cache(odb, artifact.hash_info):
        raise RegistryError(
            f"'{artifact.path}' ({artifact.hash_info.value}) is not (completely) in the cache: "
            f"run 'llmpipe repro {artifact.stage}' or 'llmpipe pull {artifact.stage}'"
        )


def cache_files(odb: ObjectDB, hash_info: HashInfo) -> list[tuple[str, str]]:
    """(relpath, object path) of the artifact's files; a file artifact's relpath is ''."""
    if not hash_info.isdir:
        return [("", odb.oid_path(hash_info.value))]
    return [(rel, odb.oid_path(value)) for rel, value in odb.read_manifest(hash_info.value)]


def file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def strong_digest(files: list[tuple[str, str]], isdir: bool) -> tuple[str, list[list[str]]]:
    """(`sha256:<hex>`, [[relpath, sha256], ...]) of files given as (relpath, local path)."""
    from ..security.canonical import canonical_json

    listing = sorted([rel, file_sha256(path)] for rel, path in files)
    if not isdir:
        return "sha256:" + listing[0][1], listing
    return "sha256:" + hashlib.sha256(canonical_json(listing)).hexdigest(), listing


def lineage_of(repo: Project, artifact: Artifact) -> dict[str, Any]:
    """The run that produced the artifact: run id, stage, commit, deps (datasets), params."""
    from ..lineage.query import producer_of
    from ..scm import head_commit, is_dirty

    try:
        run = producer_of(repo.lineage, artifact.path, artifact.hash_info.value)
    except Exception:  # noqa: BLE001 - a missing or unreadable store only loses the lineage
        run = None
    if run is None:
        return {
            "run_id": None,
            "stage": artifact.stage,
            "git_commit": head_commit(repo.root),
            "git_dirty": is_dirty(repo.root),
            "deps": [],
            "params": {},
        }
    return {
        "run_id": run.run_id,
        "stage": run.stage,
        "git_commit": run.git_commit,
        "git_dirty": run.git_dirty,
        "deps": [{"path": d.path, "hash": d.hash} for d in run.deps],
        "params": run.params,
        "run_metrics": run.metrics,
        "ended_at": run.ended_at.isoformat(),
    }


def _numeric_leaves(document: Mapping[str, Any]) -> dict[str, Any]:
    """{dotted key: number} of every numeric leaf of a metrics document (booleans out)."""
    return {
        key: value
        for key, value in flatten(document).items()
        if isinstance(value, (int, float)) and not isinstance(value, bool)
    }


def metrics_of_files(by_file: dict[str, Any]) -> dict[str, Any]:
    """Metrics files `{path: document}` as one flat mapping (the first file wins a clash)."""
    flat: dict[str, Any] = {}
    for _, document in sorted(by_file.items()):
        for key, value in _numeric_leaves(document).items():
            flat.setdefault(key, value)
    return flat


def read_metrics_file(path: str) -> dict[str, Any]:
    """A metrics file (any format `llmpipe.metrics` reads) as a flat mapping of numbers.

    RegistryError when it is missing, unreadable or not a mapping.
    """
    if not os.path.exists(path):
        raise RegistryError(f"metrics file '{path}' does not exist")
    try:
        document = read_metrics(path)
    except FileProblem as exc:
        raise RegistryError(f"cannot read metrics file '{path}': {exc}") from None
    return metrics_of_files({path: document})


def workspace_metrics(repo: Project) -> dict[str, Any]:
    """The pipeline's metrics files as they are in the workspace (missing ones skipped)."""
    found: dict[str, Any] = {}
    for stage in repo.stages():
        for out in stage.outs:
            if out.kind == "metric":
                path = os.path.join(repo.root, stage.repo_path(out.path))
                if os.path.isfile(path):
                    found[stage.repo_path(out.path)] = read_metrics_file(path)
    return metrics_of_files(found)
