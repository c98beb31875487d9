"""Why a stage must run: compare it with its lock entry, hashing only what changed.

The reasons are values the CLI renders (`dep 'data' modified`, `param
'train.lr' changed`); the hashes computed on the way are kept so that the run
and the lock entry do not hash anything twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..cache.build import build
from ..cache.checkout import in_cache
from ..errors import SpecError
from ..lockfile import LockEntry, hashes_in
from ..stage import HashInfo, Stage
from .context import RunContext

_MISSING = object()


@dataclass(frozen=True)
class Reason:
    kind: str  # new, cmd, dep-missing, dep-modified, deps-changed, param-*, out-*, always-changed
    path: str | None = None

    def __str__(self) -> str:
        text = {
            "new": "never run",
            "cmd": "command changed",
            "always-changed": "always_changed is set",
            "forced": "forced",
            "upstream": "an upstream stage would run",
            "dep-missing": "dep '{}' is missing",
            "dep-modified": "dep '{}' modified",
            "deps-changed": "deps changed (added or removed: '{}')",
            "param-changed": "param '{}' changed",
            "param-new": "param '{}' added",
            "param-deleted": "param '{}' removed",
            "out-missing": "out '{}' is missing",
            "out-modified": "out '{}' modified",
            "out-not-cached": "out '{}' is not in the cache",
            "outs-changed": "outs changed (added or removed: '{}')",
        }[self.kind]
        return text.format(self.path)


@dataclass
class StageStatus:
    stage: Stage
    reasons: list[Reason] = field(default_factory=list)
    dep_hashes: dict[str, HashInfo] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.reasons)

    @property
    def missing_deps(self) -> list[str]:
        return [r.path for r in self.reasons if r.kind == "dep-missing" and r.path]


def current_hash(ctx: RunContext, stage: Stage, path: str) -> HashInfo | None:
    """Hash of a dep/out in the workspace, through the state DB; None when missing."""
    try:
        info, _manifest = build(
            ctx.abspath(stage, path), ctx.hash_name, ctx.state, ctx.progress, ignore=ctx.ignore
        )
    except FileNotFoundError:
        return None
    return info


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
    status.dep_hashes = _dep_hashes(ctx, stage, status)
    status.params = current_params(ctx, stage)
    if stage.always_changed:
        status.reasons.append(Reason("always-changed"))
    if lock is None:
        status.reasons.insert(0, Reason("new"))
        return status
    _compare_cmd(stage, lock, status)
    _compare_deps(lock, status)
    _compare_params(lock, status)
    _compare_outs(ctx, stage, lock, status)
    return status


def _dep_hashes(ctx: RunContext, stage: Stage, status: StageStatus) -> dict[str, HashInfo]:
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


def _compare_deps(lock: LockEntry, status: StageStatus) -> None:
    recorded = hashes_in(lock, "deps")
    declared = {dep.path for dep in status.stage.deps}
    for path in sorted(set(recorded) ^ declared):
        status.reasons.append(Reason("deps-changed", path))
    for path, info in status.dep_hashes.items():
        old = recorded.get(path)
        if old is not None and old.value != info.value:
            status.reasons.append(Reason("dep-modified", path))


def _compare_params(lock: LockEntry, status: StageStatus) -> None:
    recorded = lock.get("params") or {}
    for file, values in status.params.items():
        old_values = recorded.get(file) or {}
        for key, value in values.items():
            old = old_values.get(key, _MISSING)
            if old is _MISSING:
                status.reasons.append(Reason("param-new", key))
            elif old != value:
                status.reasons.append(Reason("param-changed", key))
        for key in old_values.keys() - values.keys():
            status.reasons.append(Reason("param-deleted", key))
    for file in recorded.keys() - status.params.keys():
        for key in recorded[file] or {}:
            status.reasons.append(Reason("param-deleted", key))


def _compare_outs(ctx: RunContext, stage: Stage, lock: LockEntry, status: StageStatus) -> None:
    recorded = hashes_in(lock, "outs")
    declared = {out.path for out in stage.outs}
    for path in sorted(set(recorded) ^ declared):
        status.reasons.append(Reason("outs-changed", path))
    for out in stage.outs:
        old = recorded.get(out.path)
        if old is None:
            continue
        info = current_hash(ctx, stage, out.path)
        if info is None:
            status.reasons.append(Reason("out-missing", out.path))
        elif info.value != old.value:
            status.reasons.append(Reason("out-modified", out.path))
        elif out.cache and not in_cache(ctx.odb, old):
            status.reasons.append(Reason("out-not-cached", out.path))


@dataclass(frozen=True)
class StatusEntry:
    """One stage's status: why it would run (empty: up to date), or frozen."""

    address: str
    reasons: tuple[Reason, ...]
    frozen: bool = False


def statuses(ctx: RunContext, stages: dict[str, Stage], order: list[str]) -> list[StatusEntry]:
    """The status of each stage of `order` (addresses into `stages`), in that order."""
    from ..lockfile import LockWriter

    locks = LockWriter(ctx.root)
    entries = []
    for address in order:
        stage = stages[address]
        if stage.frozen:
            entries.append(StatusEntry(address, (), frozen=True))
        elif stage.is_data_source:
            entries.append(StatusEntry(address, tuple(_data_source_reasons(ctx, stage))))
        else:
            result = stage_status(ctx, stage, locks.entry(stage.lockfile, stage.name))
            entries.append(StatusEntry(address, tuple(result.reasons)))
    return entries


def _data_source_reasons(ctx: RunContext, stage: Stage) -> list[Reason]:
    from ..spec import read_dvcfile_hash

    out = stage.outs[0]
    recorded = read_dvcfile_hash(ctx.root, stage.dvcfile)
    current = current_hash(ctx, stage, out.path)
    if current is None:
        return [Reason("out-missing", out.path)]
    if recorded is None or recorded.value != current.value:
        return [Reason("out-modified", out.path)]
    if not in_cache(ctx.odb, recorded):
        return [Reason("out-not-cached", out.path)]
    return []
