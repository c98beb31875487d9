"""The registry's verbs: register, promote, rollback, deprecate, deploy, monitor, read, verify.

Each checks the access policy before it acts (a refusal is audited as such),
then calls the registry engine (`llmpipe.registry`), and is audited with what it
touched. Registering pushes the artifact to the default remote first; monitoring
may run an evaluation stage and roll a degraded alias back.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..errors import AccessError, RegistryError
from ..registry import ops as engine
from ..registry.deploy import DeployResult
from ..registry.monitor import MonitorResult
from ..registry.ops import PromoteResult, Writer
from ..security.policy.access import require
from ..stage import HashInfo
from .audit import Outcome, Targets, audited

if TYPE_CHECKING:
    from ..project import Project
    from ..registry.state import RegistryState, Version
    from ..registry.storage import EventStore
    from ..registry.verify import VerifyReport


def _authorized(project: Project, action: str, writer: Writer) -> Writer:
    """Check that `writer` may do `action` (AccessError if not); the writer, named as the
    policy member its key belongs to, so that the events it signs say who."""
    decision = require(project.root, action, writer.key)
    return replace(writer, member=decision.member) if decision.member else writer


def open_registry(project: Project) -> EventStore:
    from ..registry.storage import open_store

    return open_store(project.root)


def describe_register(event: dict[str, Any]) -> tuple[Targets, Outcome]:
    data = event["data"]
    info = HashInfo.from_lock_dict(dict(data["hash"]))
    value = info.value if info is not None else None
    target = {"path": data["path"], "hash": value, "model": event["model"]}
    return [{**target, "version": data["version"]}], Outcome()


@audited("registry register", describe=describe_register)
def register(
    project: Project,
    writer: Writer,
    name: str,
    path: str,
    version: str | None = None,
    bump: str = "patch",
    message: str | None = None,
    metrics_file: str | None = None,
) -> dict[str, Any]:
    """Register the cached output `path` as a new version of `name`; returns the event."""
    from ..registry.artifact import find_artifact
    from ..registry.names import check_model_name

    check_model_name(name)
    writer = _authorized(project, "register", writer)
    artifact = find_artifact(project, path)
    remote = _ensure_pushed(project, artifact)
    store = open_registry(project)
    event = engine.register(
        project, store, writer, name, artifact, remote, version, bump, message, metrics_file,
    )  # fmt: skip
    _warn_if_registered_before(project, store, event)
    return event


def _warn_if_registered_before(project: Project, store: EventStore, event: dict[str, Any]) -> None:
    """A notice when the model already has a version with exactly these files (same digest)."""
    from ..registry.state import replay

    data = event["data"]
    model = replay(store.events(), store.location).model(event["model"])
    same = [
        v.version
        for v in model.versions.values()
        if v.digest == data["digest"] and v.version != data["version"]
    ]
    if same:
        project.notices.append(
            f"{event['model']} {data['version']} has exactly the files of {', '.join(same)} "
            f"({data['digest'][:19]}…): registered again as a new version"
        )


def _ensure_pushed(project: Project, artifact: Any) -> str | None:
    """With a default remote: push the artifact's objects there (only the missing ones).

    Returns the remote's name (None without a default remote); RegistryError
    when some object could not be pushed.
    """
    from ..remote.ops import TransferRequest
    from .transfer import push

    name = project.config.default_remote
    if not name:
        return None
    request = TransferRequest(targets=(artifact.stage,), remote=name, audit=False)
    result = push(project, request, audit=False)
    if result.failed:
        reasons = "; ".join(f"{f.oid}: {f.reason}" for f in result.failed[:3])
        raise RegistryError(
            f"could not push '{artifact.path}' to remote '{name}' ({reasons}); "
            "a registered version must be on the remote"
        )
    return name


def describe_promote(result: PromoteResult) -> tuple[Targets, Outcome]:
    """The alias and version promoted (so `audit log --action promote:ALIAS` finds it)."""
    target = {"model": result.model, "version": result.version, "alias": result.alias}
    if result.event is None:
        failed = sum(not c.passed for c in result.checks)
        return [target], Outcome("failed", 1, f"{failed} gate(s) failed")
    return [target], Outcome()


@audited("registry promote", describe=describe_promote)
def promote(
    project: Project, writer: Writer, name: str, version: str, alias: str, force: bool = False
) -> PromoteResult:
    """Point `alias` at `version` if every gate passes; forcing past failed gates needs admin."""
    from ..registry.names import check_alias

    store = open_registry(project)
    writer = _authorized(project, f"promote:{check_alias(alias)}", writer)
    if force and engine.gates_fail(project, store, name, version, alias):
        try:
            require(project.root, "admin", writer.key)
        except AccessError as exc:
            raise AccessError(
                f"--force past failed gates needs 'admin': {exc}", exc.action, exc.reason
            ) from None
    return engine.promote(project, store, writer, name, version, alias, force)


@audited("registry rollback")
def rollback(project: Project, writer: Writer, name: str, alias: str) -> dict[str, Any]:
    """Point `alias` back at the (non-deprecated) version that held it before."""
    writer = _authorized(project, "rollback", writer)
    return engine.rollback(project, open_registry(project), writer, name, alias)


@audited("registry deprecate")
def deprecate(
    project: Project, writer: Writer, name: str, version: str, message: str | None = None
) -> dict[str, Any]:
    """Mark a version deprecated: it can no longer be promoted or rolled back to."""
    writer = _authorized(project, "register", writer)
    return engine.deprecate(project, open_registry(project), writer, name, version, message)


def describe_deploy(result: DeployResult) -> tuple[Targets, Outcome]:
    data = result.event["data"]
    target = {"path": data["url"], "hash": data["digest"], "model": result.event["model"]}
    return [{**target, "version": result.version}], Outcome()


@audited("deploy", describe=describe_deploy)
def deploy(project: Project, writer: Writer, name: str, ref: str, url: str) -> DeployResult:
    """Verify the registry and the artifact, then publish version `ref` of `name` at `url`."""
    from ..registry.deploy import deploy as publish

    writer = _authorized(project, "deploy", writer)

    def fetch_missing(version: Version) -> None:
        _fetch_if_missing(project, version)

    return publish(project, open_registry(project), writer, name, ref, url, fetch_missing)


def _fetch_if_missing(project: Project, version: Version) -> None:
    """Bring `version` from the remote it was registered with, when the cache lacks any
    of its objects (after `gc`, in a fresh clone). Reading the remote needs `pull`."""
    from ..cache.complete import in_cache
    from ..registry.kept import version_output
    from ..remote.ops import TransferRequest
    from .transfer import fetch

    wanted = version_output(version)
    if wanted.remote is None or in_cache(project.odb, wanted.info):
        return  # present, or registered without a remote: publishing says which
    request = TransferRequest(targets=(f"{version.model}@{version.version}",), audit=False)
    result = fetch(project, request, audit=False)  # the deploy record covers it
    if result.failed:
        reasons = "; ".join(f"{f.oid}: {f.reason}" for f in result.failed[:3])
        raise RegistryError(
            f"{version.model} {version.version} is not in the cache and could not be fetched "
            f"from remote '{wanted.remote}', where it was registered ({reasons}); deploy refused"
        )


def describe_monitor(result: MonitorResult) -> tuple[Targets, Outcome]:
    if result.degraded:
        return [], Outcome("failed", 1, "degraded")
    return [], Outcome()


@audited("monitor", describe=describe_monitor)
def monitor(
    project: Project,
    writer: Writer,
    name: str,
    alias: str,
    metrics_file: str | None = None,
    stage: str | None = None,
    rollback_on_degradation: bool = False,
) -> MonitorResult:
    """Judge fresh metrics of the version behind `alias` (from a file, from running an
    evaluation `stage`, or from the workspace); roll a degraded alias back if asked."""
    from ..registry.config import load_config
    from ..registry.monitor import monitor as judge

    writer = _authorized(project, "deploy", writer)
    fresh = _fresh_metrics(project, metrics_file, stage)
    checks = load_config(project.root).monitor_for(alias)
    store = open_registry(project)
    result = judge(project, store, writer, name, alias, fresh, checks)
    if not checks:
        result.notes.append(
            "no monitor checks configured in .llmpipe/registry.yaml: nothing to judge"
        )
    if result.degraded and rollback_on_degradation:
        _roll_back_degraded(project, store, writer, name, result)
    return result


def _fresh_metrics(project: Project, metrics_file: str | None, stage: str | None) -> dict[str, Any]:
    from ..registry.artifact import read_metrics_file, workspace_metrics
    from ..registry.monitor import stage_metrics
    from .repro import ReproRequest, reproduce

    if metrics_file:
        return read_metrics_file(metrics_file)
    if not stage:
        return workspace_metrics(project)
    request = ReproRequest(targets=(stage,), force=True, single_item=True)
    ran = reproduce(project, request, audit=False)  # the monitor record covers it
    if ran.failed:
        raise RegistryError(f"the evaluation stage '{stage}' failed: {ran.failed[0].error}")
    return stage_metrics(project, stage)


def _roll_back_degraded(
    project: Project, store: EventStore, writer: Writer, name: str, result: MonitorResult
) -> None:
    from ..registry.state import replay

    if result.alias not in replay(store.events(), store.location).model(name).aliases:
        result.rollback_refused = f"'{result.alias}' is a version, not an alias"
        return
    try:
        require(project.root, "rollback", writer.key)
        result.rolled_back = engine.rollback(project, store, writer, name, result.alias)
    except (AccessError, RegistryError) as exc:
        result.rollback_refused = str(exc)


@audited("registry")
def registry_state(project: Project) -> RegistryState:
    """The registry as its verified-on-read event log replays (for list, show, history)."""
    from ..registry.state import replay

    store = open_registry(project)
    return replay(store.events(), store.location)


def describe_verify(report: VerifyReport) -> tuple[Targets, Outcome]:
    if not report.ok:
        return [], Outcome("failed", 1, "; ".join(report.problems[:3]))
    return [], Outcome()


@audited("registry verify", describe=describe_verify)
def verify(project: Project) -> VerifyReport:
    """Replay the log: hash chain, signatures, names, and each event's permission."""
    from ..registry.verify import verify_log

    return verify_log(project.root, open_registry(project))
