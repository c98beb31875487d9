"""The registry page's values: models, versions, aliases, gates, verified history, deploys.

Reading goes through the registry engine (`registry.storage`, `registry.verify`)
as `registry verify` does: the whole log is verified (chain, signatures,
permissions, gates) and each event's own signature is checked, so the page can
mark the one that fails. A log that cannot be replayed is shown as its raw
events with the error. Writes are not here: they go through `ops.registry`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import LlmpipeError

if TYPE_CHECKING:
    from ..project import Project
    from ..registry.expr import CheckResult
    from ..registry.state import ModelState, RegistryState
    from ..registry.verify import VerifyReport


@dataclass
class GateRow:
    """The gates of one alias, judged for each version of one model."""

    alias: str
    checks: tuple[str, ...]
    results: dict[str, list[CheckResult]] = field(default_factory=dict)  # version -> results
    error: str | None = None


@dataclass
class ModelView:
    model: ModelState
    gates: list[GateRow] = field(default_factory=list)

    @property
    def deploys(self) -> list[dict[str, Any]]:
        return self.model.of_type("deploy")


@dataclass
class RegistryView:
    location: str = ""
    report: VerifyReport | None = None
    state: RegistryState | None = None
    models: list[ModelView] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)  # raw, when unreadable
    signature_ok: dict[int, bool] = field(default_factory=dict)  # seq -> verified
    error: str | None = None

    def aliases(self) -> list[str]:
        """Aliases a promotion may name here: those in use and those with gates."""
        names = {"staging", "production"}
        for view in self.models:
            names.update(view.model.aliases)
            names.update(row.alias for row in view.gates)
        return sorted(names)


def registry_view(project: Project) -> RegistryView:
    """The verified registry; problems are values on the view, never raised."""
    from ..registry.events import signature_ok
    from ..registry.state import replay
    from ..registry.storage import open_store
    from ..registry.verify import verify_log

    view = RegistryView()
    try:
        store = open_store(project.root)
        view.location = store.location
        view.report = verify_log(project.root, store)
        lines = store.lines()
    except LlmpipeError as exc:
        view.error = str(exc)
        return view
    view.events = _parse(lines)
    view.signature_ok = {int(e.get("seq", i)): signature_ok(e) for i, e in enumerate(view.events)}
    try:
        view.state = replay(store.events(), store.location)
    except LlmpipeError as exc:
        view.error = str(exc)
        return view
    gates = _gates(project)
    view.models = [_model_view(view.state, m, gates) for m in sorted(view.state.models)]
    return view


def _parse(lines: list[bytes]) -> list[dict[str, Any]]:
    events = []
    for number, raw in enumerate(lines):
        try:
            event = json.loads(raw)
        except ValueError:
            event = None
        events.append(event if isinstance(event, dict) else {"seq": number, "type": "unreadable"})
    return events


def _gates(project: Project) -> dict[str, tuple[str, ...]] | str:
    """Alias -> gate checks (the signed policy's, else registry.yaml's); text on error."""
    from ..registry.config import load_config
    from ..security.policy.load import load_policy, policy_in_force

    try:
        if policy_in_force(project.root):
            return dict(load_policy(project.root).gates)
        return dict(load_config(project.root).gates)
    except LlmpipeError as exc:
        return str(exc)


def _model_view(
    state: RegistryState, name: str, gates: dict[str, tuple[str, ...]] | str
) -> ModelView:
    from ..registry.gates import gate_checks

    view = ModelView(state.models[name])
    if isinstance(gates, str):
        view.gates.append(GateRow("", (), error=gates))
        return view
    for alias, checks in sorted(gates.items()):
        row = GateRow(alias, tuple(checks))
        for version in view.model.versions:
            try:
                row.results[version] = gate_checks(state, name, version, alias, checks)
            except LlmpipeError as exc:
                row.error = str(exc)
        view.gates.append(row)
    return view


def event_summary(event: dict[str, Any]) -> str:
    """One line of history, as `registry history` words it."""
    from ..registry.card import describe_event

    try:
        return describe_event(event)
    except (KeyError, TypeError, AttributeError):
        return str(event.get("type"))
