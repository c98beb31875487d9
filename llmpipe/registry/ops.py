"""Writing to the registry: register, promote (through gates), roll back, deprecate.

Each operation appends one signed event through the store, computing everything
that depends on the log (the next version, the alias's current holder) inside
the store's append so that concurrent writers cannot race. Who may do what is
checked by the verbs above (`llmpipe.ops.registry`) before they call these.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import RegistryError
from . import semver
from .events import make_event
from .expr import CheckResult
from .gates import check_not_older, gate_checks, gates_for
from .names import check_alias, check_event_names, check_model_name
from .state import ModelState, RegistryState, replay

if TYPE_CHECKING:
    from ..project import Project
    from ..security.keys import PassphraseSource, SigningKey
    from .storage import EventStore


@dataclass
class Writer:
    """Who signs: the loaded key, the git identity shown beside it, and the policy member
    holding the key (set by the verb that checked the permission; None without a policy)."""

    key: SigningKey
    name: str | None
    member: str | None = None

    @classmethod
    def current(cls, passphrase: PassphraseSource | None = None) -> Writer:
        from ..scm import user_identity
        from ..security.keys import has_key, load_key

        if not has_key():
            raise RegistryError(
                "registry changes are signed: create a key with 'llmpipe keys generate' "
                "(or point LLMPIPE_KEY_FILE at one)"
            )
        return cls(load_key(passphrase=passphrase), user_identity())


def _append(
    store: EventStore,
    writer: Writer,
    kind: str,
    model: str,
    build: Callable[[RegistryState], Mapping[str, Any]],
) -> dict[str, Any]:
    """Append one event whose data `build` computes from the current state.

    Every name the event carries is checked before it is appended (`names`).
    """

    def make(events: list[dict[str, Any]]) -> dict[str, Any]:
        state = replay(events, store.location)
        event = make_event(
            state.last, kind, model, build(state), writer.key, writer.name, writer.member
        )
        check_event_names(event)
        return event

    return store.append(make)


# register


def register(
    repo: Project,
    store: EventStore,
    writer: Writer,
    name: str,
    artifact: Any,
    remote: str | None = None,
    version: str | None = None,
    bump: str = "patch",
    message: str | None = None,
    metrics_file: str | None = None,
) -> dict[str, Any]:
    """Register the cached `artifact` as a new version of `name`; returns the event.

    `remote` names the remote its objects were pushed to (None: not pushed).
    """
    check_model_name(name)
    facts = describe_artifact(repo, artifact, metrics_file, remote)
    if version is not None:
        version = semver.normalize(version)

    def build(state: RegistryState) -> dict[str, Any]:
        existing = state.models[name].versions if name in state.models else {}
        chosen = version or semver.next_version(existing, bump)
        if chosen in existing:
            raise RegistryError(f"version {chosen} of '{name}' already exists")
        return {"version": chosen, "message": message, **facts}

    return _append(store, writer, "register", name, build)


def describe_artifact(
    repo: Project, artifact: Any, metrics_file: str | None, remote: str | None
) -> dict[str, Any]:
    """Everything a register event records about the artifact (checks cache and remote)."""
    from .artifact import (
        cache_files,
        lineage_of,
        read_metrics_file,
        require_in_cache,
        strong_digest,
        workspace_metrics,
    )

    require_in_cache(repo.odb, artifact)
    files = cache_files(repo.odb, artifact.hash_info)
    digest, listing = strong_digest(files, artifact.hash_info.isdir)
    lineage = lineage_of(repo, artifact)
    metrics = read_metrics_file(metrics_file) if metrics_file else workspace_metrics(repo)
    return {
        "path": artifact.path,
        "hash": artifact.hash_info.to_lock_dict(),
        "digest": digest,
        "files": listing,
        "lineage": lineage,
        "metrics": metrics,
        "metrics_source": metrics_file or "workspace",
        "remote": remote,
    }


# promote


@dataclass
class PromoteResult:
    event: dict[str, Any] | None
    checks: list[CheckResult] = field(default_factory=list)
    previous: str | None = None
    model: str | None = None
    version: str | None = None  # as resolved (an alias given as the version is resolved)
    alias: str | None = None

    @property
    def gates_passed(self) -> bool:
        return all(c.passed for c in self.checks)


def promote(
    repo: Project,
    store: EventStore,
    writer: Writer,
    name: str,
    version: str,
    alias: str,
    force: bool = False,
) -> PromoteResult:
    """Point `alias` at `version` if every gate passes (or `force` by an admin).

    The gates come from the signed policy (from registry.yaml in a project
    without one, see `gates`); the event records them and the policy version
    that defined them. A refusal by a gate returns the result with
    `event=None`; the CLI reports it. Whether the writer may `force` past
    failed gates (`gates_fail`) is for the caller to check.
    """
    check_alias(alias)
    gates = gates_for(repo.root, alias)
    result = PromoteResult(None, model=name, version=version, alias=alias)

    def build(state: RegistryState) -> dict[str, Any]:
        model = state.model(name)
        chosen = model.resolve(version)
        result.version = chosen.version
        if chosen.deprecated:
            raise RegistryError(f"version {chosen.version} of '{name}' is deprecated; not promoted")
        result.previous = model.aliases.get(alias)
        if result.previous == chosen.version:
            raise RegistryError(f"'{alias}' of '{name}' already points at {chosen.version}")
        check_not_older(state, gates)
        result.checks = gate_checks(state, name, chosen.version, alias, gates.checks)
        if not result.gates_passed and not force:
            raise _GateRefusal()
        return {
            "version": chosen.version,
            "alias": alias,
            "previous": result.previous,
            "gates": [
                {"check": c.expression, "passed": c.passed, "detail": c.describe()}
                for c in result.checks
            ],
            "gates_version": gates.version,
            "forced": bool(force and not result.gates_passed),
        }

    try:
        result.event = _append(store, writer, "promote", name, build)
    except _GateRefusal:
        return result
    return result


class _GateRefusal(Exception):  # noqa: N818 - control flow out of the append
    pass


def gates_fail(repo: Project, store: EventStore, name: str, version: str, alias: str) -> bool:
    """Whether promoting `version` of `name` to `alias` now would fail a gate."""
    gates = gates_for(repo.root, check_alias(alias))
    state = replay(store.events(), store.location)
    return not all(c.passed for c in gate_checks(state, name, version, alias, gates.checks))


# rollback, deprecate


def rollback(
    repo: Project, store: EventStore, writer: Writer, name: str, alias: str
) -> dict[str, Any]:
    """Point `alias` back at the (non-deprecated) version that held it before."""

    def build(state: RegistryState) -> dict[str, Any]:
        model = state.model(name)
        if alias not in model.aliases:
            raise RegistryError(f"'{name}' has no alias '{alias}' to roll back")
        stack = model.alias_stack.get(alias, [])
        earlier = [v for v in stack[:-1] if not model.versions[v].deprecated]
        if not earlier:
            raise RegistryError(_nothing_earlier(model, alias))
        return {
            "alias": alias,
            "from": model.aliases[alias],
            "to": earlier[-1],
            "version": earlier[-1],
        }

    return _append(store, writer, "rollback", name, build)


def _nothing_earlier(model: ModelState, alias: str) -> str:
    """Why `alias` cannot roll back: what it points at, and every version it has held.

    A rollback goes down the alias's stack; versions rolled back from are off it
    (they are later, not earlier), and deprecated ones are skipped.
    """
    stack = model.alias_stack.get(alias, [])
    current = model.aliases[alias]
    message = f"'{alias}' of '{model.name}' has no earlier version to roll back to: it points at"
    deprecated = [v for v in dict.fromkeys(stack[:-1]) if model.versions[v].deprecated]
    if deprecated:
        message += (
            f" {current}, and the versions before it ({', '.join(deprecated)}) are deprecated"
        )
    else:
        message += f" {current}, the first version it held"
    held = list(dict.fromkeys(_holders(model, alias)))
    later = [v for v in held if v not in stack]
    if later:
        message += f" (it has held {', '.join(held)}, and was rolled back from {', '.join(later)})"
    return message


def _holders(model: ModelState, alias: str) -> list[str]:
    """Every version `alias` pointed at, in the order of the events that moved it."""
    moved = []
    for event in model.events:
        data = event.get("data") or {}
        if event.get("type") in ("promote", "rollback") and data.get("alias") == alias:
            moved.append(str(data.get("version")))
    return moved


def deprecate(
    repo: Project,
    store: EventStore,
    writer: Writer,
    name: str,
    version: str,
    message: str | None = None,
) -> dict[str, Any]:
    """Mark a version deprecated: it can no longer be promoted or rolled back to."""

    def build(state: RegistryState) -> dict[str, Any]:
        chosen = state.model(name).resolve(version)
        if chosen.deprecated:
            raise RegistryError(f"version {chosen.version} of '{name}' is already deprecated")
        holders = state.model(name).aliases_of(chosen.version)
        return {"version": chosen.version, "message": message, "aliases": holders}

    return _append(store, writer, "deprecate", name, build)


def record(
    store: EventStore, writer: Writer, kind: str, name: str, data: Mapping[str, Any]
) -> dict[str, Any]:
    """Append a deploy or monitor event (the caller checked the permission)."""

    def build(state: RegistryState) -> dict[str, Any]:
        state.model(name).resolve(str(data["version"]))  # the version must exist
        return dict(data)

    return _append(store, writer, kind, name, build)
