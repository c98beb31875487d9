"""Why a stage must run: compare it with its lock entry, hashing only what changed.

The reasons are values the CLI renders (`dep 'data' modified`, `param
'train.lr' changed`); the hashes computed on the way are kept so that the run
and the lock entry do not hash anything twice.
"""

from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from typing import Any

from ..cache.build import build
from ..cache.complete import in_cache
from ..errors import SpecError
from ..hashing import LEGACY_MD5
from ..lockfile import LockEntry, hashes_in
from ..stage import HashInfo, Stage, is_url
from .context import RunContext

_MISSING = object()


@dataclass(frozen=True)
class Reason:
    """Why a stage is not up to date, printable as dvc words it."""

    kind: str  # new, cmd, dep-missing, dep-modified, deps-changed, param-*, out-*, always-changed
    path: str | None = None
    file: str | None = None  # the params file (as the stage names it) of a param-* reason

    def __str__(self) -> str:
        text = {
            "new": "never run",
            "cmd": "command changed",
            "always-changed": "always changed",
            "forced": "forced",
            "upstream": "an upstream stage would run",
            "dep-missing": "dep '{}' is missing",
            "dep-modified": "dep '{}' modified",
            "deps-changed": "deps changed (added or removed: '{}')",
            "param-changed": "param '{}' changed",
            "param-new": "param '{}' added",
            "param-deleted": "param '{}' removed",
            "params-file-new": "params file '{}' not recorded yet",
            "out-missing": "out '{}' is missing",
            "out-modified": "out '{}' modified",
            "out-not-cached": "out '{}' is not in the cache",
            "outs-changed": "outs changed (added or removed: '{}')",
            "update-available": "update available: {}",
            "checksum": "its .dvc file's md5 does not match what it records",
        }[self.kind]
        return text.format(self.path)


class StageStatus:
    """A stage's reasons to run and the current hashes of its deps and params.

    Internal working state (the public record is StatusEntry): a slotted class, not a
    dataclass, which costs ~0.2 ms at every start-up; nothing compares or prints it.
    """

    __slots__ = ("stage", "reasons", "dep_hashes", "params")

    def __init__(self, stage: Stage, reasons: list[Reason] | None = None) -> None:
        self.stage = stage
        self.reasons: list[Reason] = [] if reasons is None else reasons
        self.dep_hashes: dict[str, HashInfo] = {}
        self.params: dict[str, dict[str, Any]] = {}

    @property
    def changed(self) -> bool:
        return bool(self.reasons)

    @property
    def missing_deps(self) -> list[str]:
        return [r.path for r in self.reasons if r.kind == "dep-missing" and r.path]


def current_hash(
    ctx: RunContext, stage: Stage, path: str, hash_name: str | None = None
) -> HashInfo | None:
    """Hash of a dep/out in the workspace, through the state DB; None when missing.

    A dep named by URL is fingerprinted where it lives, as dvc records it.
    """
    if is_url(path):
        from ..storage import external_hash

        return external_hash(path)
    name = hash_name or ctx.hash_name
    if ctx.stand_ins is not None and name == ctx.hash_name:
        standing = ctx.stand_ins.get(stage.repo_path(path))
        if standing is not None:
            return standing
    try:
        info, _ = build(
            ctx.abspath(stage, path),
            name,
            ctx.state,
            ctx.progress,
            ignore=ctx.ignore,
            manifest=False,
        )
        return info
    except FileNotFoundError:
        return None


def current_params(ctx: RunContext, stage: Stage) -> dict[str, dict[str, Any]]:
    """Values of the params a stage tracks: {file: {key: value}}; whole files in full."""
    from ..spec import lookup_param

    values: dict[str, dict[str, Any]] = {}
    for ref in stage.params:
        data = ctx.params_file(stage, ref)
        if not ref.keys:
            values[ref.file] = dict(data)
            continue
        chosen = values.setdefault(ref.file, {})
        for key in ref.keys:
            try:
                chosen[key] = lookup_param(data, key)
            except KeyError:
                raise SpecError(
                    f"stage '{stage.address}': param '{key}' not found in '{ref.file}'; "
                    "add it to the file or remove it from the stage's params"
                ) from None
    return values


def stage_status(ctx: RunContext, stage: Stage, lock: LockEntry | None) -> StageStatus:
    """Compare `stage` with its lock entry; reasons are empty when it is up to date."""
    status = StageStatus(stage)
    if stage.frozen:
        return _frozen_status(ctx, stage, lock, status)
    status.dep_hashes = dep_hashes(ctx, stage, status)
    status.params = current_params(ctx, stage)
    if stage.always_changed or stage.is_callback:
        status.reasons.append(Reason("always-changed"))
    if lock is None:
        status.reasons.insert(0, Reason("new"))
        return status
    _compare_cmd(stage, lock, status)
    _compare_deps(ctx, lock, status)
    _compare_params(lock, status)
    _compare_outs(ctx, stage, lock, status)
    return status


def _frozen_status(
    ctx: RunContext, stage: Stage, lock: LockEntry | None, status: StageStatus
) -> StageStatus:
    """dvc's rule for a frozen stage: its deps and params are not looked at; its
    command and outputs are (missing outputs stop `repro`, changed ones are re-recorded)."""
    if stage.always_changed or stage.is_callback:
        status.reasons.append(Reason("always-changed"))
    if lock is None:
        missing = [o.path for o in stage.outs if current_hash(ctx, stage, o.path) is None]
        status.reasons[:0] = [Reason("new"), *(Reason("out-missing", p) for p in missing)]
        return status
    _compare_cmd(stage, lock, status)
    _compare_outs(ctx, stage, lock, status)
    return status


def frozen_missing_outputs(ctx: RunContext, stage: Stage) -> list[str]:
    """Repository-relative paths of a frozen stage's outputs that do not exist."""
    paths = [stage.repo_path(out.path) for out in stage.outs]
    return [path for path in paths if not os.path.lexists(os.path.join(ctx.root, path))]


def dep_hashes(ctx: RunContext, stage: Stage, status: StageStatus) -> dict[str, HashInfo]:
    """Current hashes of the stage's deps; a missing one is a reason in `status`."""
    hashes = {}
    for dep in stage.deps:
        info = current_hash(ctx, stage, dep.path)
        if info is None:
            status.reasons.append(Reason("dep-missing", dep.path))
        else:
            hashes[dep.path] = info
    return hashes


def _compare_cmd(stage: Stage, lock: LockEntry, status: StageStatus) -> None:
    recorded = lock.get("cmd")
    recorded_cmds = (recorded,) if isinstance(recorded, str) else tuple(recorded or ())
    if recorded_cmds != stage.commands:
        status.reasons.append(Reason("cmd"))


def _compare_deps(ctx: RunContext, lock: LockEntry, status: StageStatus) -> None:
    recorded = hashes_in(lock, "deps")
    declared = {dep.path for dep in status.stage.deps}
    for path in sorted(set(recorded) ^ declared):
        status.reasons.append(Reason("deps-changed", path))
    for path, info in list(status.dep_hashes.items()):
        old = recorded.get(path)
        if old is not None and _is_legacy(status.stage, path, old):
            legacy = current_hash(ctx, status.stage, path, LEGACY_MD5)
            if legacy is not None and legacy.value == old.value:
                status.dep_hashes[path] = legacy  # unchanged: its entry stays DVC 2's
                continue
        if old is not None and old.value != info.value:
            status.reasons.append(Reason("dep-modified", path))


def _is_legacy(stage: Stage, path: str, recorded: HashInfo) -> bool:
    """A DVC 2 entry (no `hash:`), compared by DVC 2's md5 as dvc does (inside the repo)."""
    return recorded.name == LEGACY_MD5 and stage.in_repo(path)


def _compare_params(lock: LockEntry, status: StageStatus) -> None:
    recorded = lock.get("params") or {}
    for file, values in status.params.items():
        if file not in recorded:
            status.reasons.append(Reason("params-file-new", file, file))
            continue
        old_values = recorded.get(file) or {}
        for key, value in values.items():
            old = old_values.get(key, _MISSING)
            if old is _MISSING:
                status.reasons.append(Reason("param-new", key, file))
            elif old != value:
                status.reasons.append(Reason("param-changed", key, file))
        for key in old_values.keys() - values.keys():
            status.reasons.append(Reason("param-deleted", key, file))
    for file in recorded.keys() - status.params.keys():
        for key in recorded[file] or {}:
            status.reasons.append(Reason("param-deleted", key, file))


def _compare_outs(ctx: RunContext, stage: Stage, lock: LockEntry, status: StageStatus) -> None:
    recorded = hashes_in(lock, "outs")
    declared = {out.path for out in stage.outs}
    for path in sorted(set(recorded) ^ declared):
        status.reasons.append(Reason("outs-changed", path))
    for out in stage.outs:
        old = recorded.get(out.path)
        if old is None:
            continue
        legacy = _is_legacy(stage, out.path, old)
        odb = ctx.legacy_odb if legacy and ctx.legacy_odb is not None else ctx.odb
        # dvc asks the cache first: an output it cannot restore is "not in cache" whether
        # the workspace copy is there, edited or gone (and nothing needs hashing then).
        if out.cache and not in_cache(odb, old):
            status.reasons.append(Reason("out-not-cached", out.path))
            continue
        info = current_hash(ctx, stage, out.path, LEGACY_MD5 if legacy else None)
        if info is None:
            status.reasons.append(Reason("out-missing", out.path))
        elif info.value != old.value:
            status.reasons.append(Reason("out-modified", out.path))


@dataclass(frozen=True)
class StatusEntry:
    """One stage's status: why it would run (empty: up to date), or frozen."""

    address: str
    reasons: tuple[Reason, ...]
    frozen: bool = False
    stage: Stage | None = field(default=None, compare=False, repr=False)


def statuses(ctx: RunContext, stages: dict[str, Stage], order: list[str]) -> list[StatusEntry]:
    """The status of each stage of `order` (addresses into `stages`), in that order."""
    from ..lockfile import LockWriter

    locks = LockWriter(ctx.root)
    entries = []
    for address in order:
        stage = stages[address]
        if stage.is_data_source:
            reasons = tuple(data_source_reasons(ctx, stage) or _update_available(ctx, stage))
            reasons += tuple(_import_checksum(ctx, stage))
            entries.append(StatusEntry(address, reasons, stage=stage))
        else:
            result = stage_status(ctx, stage, locks.entry(stage.lockfile, stage.name))
            reasons = tuple(result.reasons)
            entries.append(StatusEntry(address, reasons, frozen=stage.frozen, stage=stage))
    return entries


def data_source_reasons(ctx: RunContext, stage: Stage) -> list[Reason]:
    from ..spec import read_dvcfile_hash

    out = stage.outs[0]
    recorded = read_dvcfile_hash(ctx.root, stage.dvcfile)
    # dvc's order: "not in cache" first (an `import-url --to-remote` has its data on
    # the remote only), then the workspace.
    if recorded is not None and not in_cache(ctx.odb, recorded):
        return [Reason("out-not-cached", out.path)]
    current = current_hash(ctx, stage, out.path)
    if current is None:
        return [Reason("out-missing", out.path)]
    if recorded is None or recorded.value != current.value:
        return [Reason("out-modified", out.path)]
    return []


def _import_checksum(ctx: RunContext, stage: Stage) -> list[Reason]:
    """dvc's "changed checksum": an import whose stage md5 is not that of what its `.dvc`
    file records (dvc writes none with `import-url --no-exec`, and leaves the old one
    after `update --to-remote`). Only imports are frozen `.dvc` files, usually."""
    if not stage.frozen:
        return []
    from ..spec.imports import checksum_changed

    return [Reason("checksum")] if checksum_changed(ctx.root, stage.dvcfile) else []


def _update_available(ctx: RunContext, stage: Stage) -> list[Reason]:
    """dvc's "update available": an import whose source revision has moved on (only
    `status` asks; `commit` and `repro` leave imports alone)."""
    if not stage.frozen:
        return []
    from ..external.source import latest_commit
    from ..spec.imports import read_import

    spec = read_import(ctx.root, stage.dvcfile)
    repo = spec.repo if spec else None
    if spec is None or repo is None or not isinstance(repo.get("url"), str):
        return []
    url = repo["url"]
    local = os.path.join(ctx.root, posixpath.dirname(stage.dvcfile), url)
    latest = latest_commit(local if os.path.isdir(local) else url, repo.get("rev"))
    if latest is None or latest == repo.get("rev_lock"):
        return []
    return [Reason("update-available", f"{spec.dep['path']} ({url})")]
