"""Monitoring: compare a deployed version's fresh metrics with those recorded at registration.

Fresh metrics come from a metrics file produced elsewhere, from running a
named evaluation stage (forced, so it evaluates the current data), or from
the pipeline's metrics files in the workspace. The checks are the
`monitor:` expressions of `.llmpipe/registry.yaml` (`registered.X` is the
value at registration). Each check is recorded as a `monitor` event; a
failed check means degradation, and the alias can be rolled back.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import RegistryError
from .expr import CheckResult, evaluate

if TYPE_CHECKING:
    from ..project import Project
    from .ops import Writer
    from .storage import EventStore


@dataclass
class MonitorResult:
    version: str
    alias: str
    rows: list[tuple[str, float | None, float | None]]  # metric, at registration, now
    checks: list[CheckResult]
    event: dict[str, Any]
    rolled_back: dict[str, Any] | None = None
    rollback_refused: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def degraded(self) -> bool:
        return any(not c.passed for c in self.checks)


def stage_metrics(repo: Project, stage: str) -> dict[str, Any]:
    """The metrics files `stage` declares, read and merged (after it ran)."""
    from .artifact import metrics_of_files, read_metrics_file

    chosen = [s for s in repo.stages() if s.address == stage]
    if not chosen:
        raise RegistryError(f"no stage named '{stage}'")
    found = {}
    for out in chosen[0].outs:
        if out.kind == "metric":
            path = os.path.join(repo.root, chosen[0].repo_path(out.path))
            found[out.path] = read_metrics_file(path)
    if not found:
        raise RegistryError(f"stage '{stage}' declares no metrics file to read")
    return metrics_of_files(found)


def monitor(
    repo: Project,
    store: EventStore,
    writer: Writer,
    name: str,
    alias: str,
    fresh: dict[str, Any],
    checks: tuple[str, ...],
) -> MonitorResult:
    """Judge `fresh` metrics of the version behind `alias` and record the judgement.

    Whether the writer may, and rolling back a degraded alias, is for the caller.
    """
    from .ops import record
    from .state import replay

    model = replay(store.events(), store.location).model(name)
    version = model.resolve(alias)
    registered = version.metrics
    scopes = {"metrics": fresh, "registered": registered, "current": registered}
    results = [evaluate(check, scopes) for check in checks]
    rows = [(k, _num(registered.get(k)), _num(fresh.get(k))) for k in sorted({*registered, *fresh})]
    data = {
        "version": version.version,
        "alias": alias,
        "metrics": fresh,
        "checks": [
            {"check": c.expression, "passed": c.passed, "detail": c.describe()} for c in results
        ],
        "degraded": any(not c.passed for c in results),
    }
    result = MonitorResult(
        version.version, alias, rows, results, record(store, writer, "monitor", name, data)
    )
    if not checks:
        result.notes.append(
            "no monitor checks configured in .llmpipe/registry.yaml: nothing to judge"
        )
    return result


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
