"""The registry's state, derived by replaying its events in order.

Per model: its versions (with artifact hash, digest, lineage, metrics),
the version each alias points at, and each alias's stack of earlier
holders (a promotion pushes, a rollback pops), plus deployments and
monitoring checks. Replaying never trusts a cached state: the log is the truth.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import RegistryError
from .names import check_event_names


@dataclass
class Version:
    model: str
    version: str
    data: dict[str, Any]  # the register event's data: path, hash, digest, lineage, metrics...
    seq: int
    time: str
    actor: str
    actor_name: str | None
    deprecated: bool = False
    actor_member: str | None = None  # the policy member holding the key, when recorded

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.data.get("metrics") or {})

    @property
    def digest(self) -> str:
        return str(self.data.get("digest"))


@dataclass
class ModelState:
    name: str
    versions: dict[str, Version] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    alias_stack: dict[str, list[str]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)

    def resolve(self, ref: str | None) -> Version:
        """The version named by `ref` (a version or an alias; None: the latest)."""
        if not self.versions:
            raise RegistryError(f"model '{self.name}' has no versions")
        if ref is None:
            return list(self.versions.values())[-1]
        if ref in self.aliases:
            return self.versions[self.aliases[ref]]
        if ref in self.versions:
            return self.versions[ref]
        aliases = ", ".join(sorted(self.aliases)) or "none"
        raise RegistryError(
            f"model '{self.name}' has no version or alias '{ref}' "
            f"(versions: {', '.join(self.versions)}; aliases: {aliases})"
        )

    def aliases_of(self, version: str) -> list[str]:
        return sorted(a for a, v in self.aliases.items() if v == version)

    def of_type(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("type") == kind]


@dataclass
class RegistryState:
    models: dict[str, ModelState] = field(default_factory=dict)
    last: dict[str, Any] | None = None  # the last event (the next one chains to it)

    def model(self, name: str) -> ModelState:
        if name not in self.models:
            known = ", ".join(sorted(self.models)) or "none"
            raise RegistryError(f"no model named '{name}' in the registry (models: {known})")
        return self.models[name]


def replay(events: list[Mapping[str, Any]], where: str = "registry") -> RegistryState:
    """Apply `events` in order; RegistryError naming the event when one does not fit."""
    state = RegistryState()
    for event in events:
        apply(state, event, where)
    return state


def apply(state: RegistryState, event: Mapping[str, Any], where: str = "registry") -> None:
    """Apply one event to `state`; RegistryError naming the event when it does not fit.

    Its names are checked first (`names.check_event_names`): a signed event may
    still carry a version or model name that would climb out of a deploy folder.
    """
    label = f"{where}: event {event.get('seq')}"
    try:
        check_event_names(event)
    except RegistryError as exc:
        kind = f"{event.get('type')} {event.get('model')}"
        raise RegistryError(f"{label} ({kind}): unsafe name: {exc}") from None
    name = str(event["model"])
    model = state.models.get(name) or ModelState(name)
    try:
        _APPLY[str(event.get("type"))](model, event)
    except (KeyError, TypeError, ValueError) as exc:
        raise RegistryError(f"{label}: malformed ({exc})") from None
    model.events.append(dict(event))
    state.models[name] = model
    state.last = dict(event)


def _register(model: ModelState, event: Mapping[str, Any]) -> None:
    data = dict(event["data"])
    version = str(data["version"])
    if version in model.versions:
        raise ValueError(f"version {version} of '{model.name}' registered twice")
    model.versions[version] = Version(
        model.name,
        version,
        data,
        int(event["seq"]),
        str(event["time"]),
        str(event["actor"]),
        event.get("actor_name"),
        actor_member=event.get("actor_member"),
    )


def _known(model: ModelState, version: str) -> str:
    if version not in model.versions:
        raise ValueError(f"version {version} of '{model.name}' is not registered")
    return version


def _promote(model: ModelState, event: Mapping[str, Any]) -> None:
    alias, version = str(event["data"]["alias"]), _known(model, str(event["data"]["version"]))
    model.alias_stack.setdefault(alias, []).append(version)
    model.aliases[alias] = version


def _rollback(model: ModelState, event: Mapping[str, Any]) -> None:
    alias, target = str(event["data"]["alias"]), str(event["data"]["to"])
    stack = model.alias_stack.get(alias, [])
    if target not in stack[:-1]:
        raise ValueError(f"alias '{alias}' never held version {target} before")
    while stack[-1] != target:
        stack.pop()
    model.aliases[alias] = target


def _deprecate(model: ModelState, event: Mapping[str, Any]) -> None:
    model.versions[_known(model, str(event["data"]["version"]))].deprecated = True


def _record_only(model: ModelState, event: Mapping[str, Any]) -> None:
    _known(model, str(event["data"]["version"]))


_APPLY = {
    "register": _register,
    "promote": _promote,
    "rollback": _rollback,
    "deprecate": _deprecate,
    "deploy": _record_only,
    "monitor": _record_only,
}
