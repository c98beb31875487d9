"""Which output of a stage holds its checkpoints, and what the remote keeps of them.

    train:
      outs:
        - models/checkpoints:
            persist: true
      meta:
        llmpipe:
          checkpoints: models/checkpoints        # or {path: …, keep_last: 5, keep_every: 10}

`meta` is free-form for dvc, so the dvc.yaml stays valid for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..errors import SpecError
from ..stage import Stage


@dataclass(frozen=True)
class CheckpointSpec:
    """A stage's `meta.llmpipe.checkpoints` setting (a docstring spares dataclasses
    building one with `inspect.signature` at import)."""

    path: str  # as written in the stage's outs (relative to its wdir)
    keep_last: int | None = None  # None: keep every checkpoint record
    keep_every: int | None = None  # also keep every K-th (by sequence) beyond the last N


def checkpoint_spec(stage: Stage) -> CheckpointSpec | None:
    """The stage's checkpoint setting, or None; SpecError when it is malformed."""
    meta = stage.meta
    if not isinstance(meta, dict) or not isinstance(meta.get("llmpipe"), dict):
        return None
    value = meta["llmpipe"].get("checkpoints")
    if value is None:
        return None
    spec = _parse(stage, value)
    _check_output(stage, spec.path)
    return spec


def _parse(stage: Stage, value: Any) -> CheckpointSpec:
    where = f"stage '{stage.address}' in {stage.dvcfile}: meta.llmpipe.checkpoints"
    if isinstance(value, str):
        return CheckpointSpec(value)
    if not isinstance(value, dict) or not isinstance(value.get("path"), str):
        raise SpecError(f"{where} must be an output path or a mapping with 'path'")
    unknown = set(value) - {"path", "keep_last", "keep_every"}
    if unknown:
        raise SpecError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    for key in ("keep_last", "keep_every"):
        number = value.get(key)
        if number is not None and (not isinstance(number, int) or number < 1):
            raise SpecError(f"{where}.{key} must be a positive whole number")
    return CheckpointSpec(value["path"], value.get("keep_last"), value.get("keep_every"))


def _check_output(stage: Stage, path: str) -> None:
    out = next((o for o in stage.outs if o.path == path), None)
    if out is None or not out.persist or not out.cache or not stage.in_repo(path):
        raise SpecError(
            f"stage '{stage.address}' in {stage.dvcfile}: meta.llmpipe.checkpoints names "
            f"'{path}', which must be one of its outs, with 'persist: true', cached and "
            "inside the project"
        )


def kept(sequences: list[int], spec: CheckpointSpec) -> set[int]:
    """The checkpoint sequence numbers retention keeps: the last N and every K-th."""
    ordered = sorted(sequences)
    if spec.keep_last is None:
        return set(ordered)
    keep = set(ordered[-spec.keep_last :])
    if spec.keep_every:
        keep |= {s for s in ordered if s % spec.keep_every == 0}
    return keep
