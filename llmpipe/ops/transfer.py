"""`push`, `fetch`, `pull` and `status -c`: the verbs over the remote engine.

Each holds the repository lock, checks the access policy before any remote is
contacted (`push` needs `push`; reading a remote needs `pull`, and `decrypt`
when it is encrypted), runs the transfer, and is audited. `pull` is `fetch`
then `checkout`, composed here under one lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..remote.ops import TransferPlan, TransferRequest, plan_transfer, run_transfer
from ..remote.transfer import TransferResult
from ..run.repolock import repo_lock
from .audit import Outcome, Targets, audited

if TYPE_CHECKING:
    from ..config import RemoteConfig
    from ..outputs import UsedOutput
    from ..progress import TransferProgress
    from ..project import Project
    from ..remote.status import CloudStatus
    from .checkout import CheckoutSummary


def describe_transfer(result: TransferResult) -> tuple[Targets, Outcome]:
    if result.failed:
        return [], Outcome("failed", 1, f"{len(result.failed)} object(s) could not be moved")
    return [], Outcome()


@audited("push", describe=describe_transfer)
def push(
    project: Project, request: TransferRequest, progress: TransferProgress | None = None
) -> TransferResult:
    """Send the used objects missing on their remote; missing local objects are failures."""
    with repo_lock(project.tmp_dir):
        plan = _plan(project, request, upload=True)
        require_transfer_rights(project, plan.remotes.values(), upload=True)
        return run_transfer(project, plan, request, progress, upload=True)


def _plan(
    project: Project, request: TransferRequest, upload: bool, skip_cached: bool = False
) -> TransferPlan:
    """The transfer plan of `request`, whose targets may name registered versions
    (`NAME@VERSION`, `NAME@ALIAS`): their artifacts go to or come from the remote
    they were registered with. `skip_cached`: see `plan_transfer`."""
    stages, registered = _split_targets(project, request.targets)
    if not registered:
        return plan_transfer(project, request, upload, skip_cached)
    from ..remote.ops import with_outputs

    plan = (
        plan_transfer(project, replace(request, targets=stages), upload, skip_cached)
        if stages
        else None
    )
    return with_outputs(project, plan or TransferPlan(), registered, request.remote, upload)


def _split_targets(
    project: Project, targets: tuple[str, ...]
) -> tuple[tuple[str, ...], list[UsedOutput]]:
    """Stage targets, and the outputs of the registered versions `targets` name."""
    if not any("@" in target for target in targets):
        return targets, []
    from ..registry.kept import split_refs

    names = {name for stage in project.stages() for name in (stage.name, stage.address)}
    return split_refs(project.root, targets, names)


@audited("fetch", describe=describe_transfer)
def fetch(
    project: Project, request: TransferRequest, progress: TransferProgress | None = None
) -> TransferResult:
    """Download the used objects missing from the cache, each verified before use."""
    with repo_lock(project.tmp_dir):
        return _fetch_locked(project, request, progress)


def _fetch_locked(
    project: Project, request: TransferRequest, progress: TransferProgress | None
) -> TransferResult:
    # Without a remote, outputs already in the cache need none: with nothing to fetch
    # a pull then works, as dvc's does (with something to fetch, `remote add -d` is named).
    no_remote = not (request.remote or project.config.default_remote)
    plan = _plan(project, request, upload=False, skip_cached=no_remote)
    if no_remote and not plan.groups:
        project.notices.append("No remote provided and no default remote set.")
        return TransferResult()
    require_transfer_rights(project, plan.remotes.values(), upload=False)
    result = run_transfer(project, plan, request, progress, upload=False)
    _copy_checkpoint_lineage(project, request)
    return result


def _copy_checkpoint_lineage(project: Project, request: TransferRequest) -> None:
    """Bring the checkpoint records of the stages fetched into the local lineage store,
    so `checkpoints list --local` and `lineage` show other machines' runs."""
    from ..ckpt.catalog import checkpoint_remote, copy_lineage
    from ..ckpt.spec import checkpoint_spec
    from ..errors import LlmpipeError

    for stage in project.stages():
        if request.targets and not {stage.name, stage.address} & set(request.targets):
            continue
        try:
            if checkpoint_spec(stage) is None:
                continue
            require_transfer_rights(
                project, [checkpoint_remote(project, stage, request.remote)], upload=False
            )
            copy_lineage(project, stage, request.remote)
        except LlmpipeError as exc:
            project.notices.append(
                f"stage '{stage.address}': its checkpoint records were not fetched: {exc}"
            )


@dataclass(frozen=True)
class PullResult:
    fetched: TransferResult
    checkout: CheckoutSummary


def describe_pull(result: PullResult) -> tuple[Targets, Outcome]:
    targets: Targets = [{"path": p, "hash": h} for p, h in result.checkout.hashes]
    _, outcome = describe_transfer(result.fetched)
    if outcome.result == "ok" and result.checkout.missing:
        outcome = Outcome("failed", 1, "missing from the cache after fetching")
    return targets, outcome


@audited("pull", describe=describe_pull)
def pull(
    project: Project,
    request: TransferRequest,
    progress: TransferProgress | None = None,
    force: bool = False,
) -> PullResult:
    """fetch, then check the outputs out; `force` discards workspace changes not in the cache."""
    # The checkout and import machinery: only pull needs them (push and fetch do not).
    from ..graph import build_graph
    from .checkout import CheckoutSummary, checkout_locked, chosen_outputs
    from .imports import fetch_undownloaded

    with repo_lock(project.tmp_dir):
        fetched = _fetch_locked(project, request, progress)
        targets = _checkout_targets(project, request.targets)
        if targets is None:  # registered versions only: into the cache, not the workspace
            return PullResult(fetched, CheckoutSummary((), (), ()))

        stages, _ = chosen_outputs(project, build_graph(project.stages()), targets)
        imported, objects = fetch_undownloaded(project, stages)
        fetched += TransferResult(tuple(objects))
        return PullResult(fetched, checkout_locked(project, targets, force=force, extra=imported))


def _checkout_targets(project: Project, targets: tuple[str, ...]) -> tuple[str, ...] | None:
    """The stage targets among `targets` (None when all were registered versions).

    A registered version is fetched into the cache only: the workspace keeps
    following dvc.lock.
    """
    stages, registered = _split_targets(project, targets)
    return None if registered and not stages else stages


def cloud_status(
    project: Project,
    remote: str | None = None,
    targets: Sequence[str] = (),
    jobs: int | None = None,
) -> list[CloudStatus]:
    """Per used output, whether the cache and its remote agree (`status -c`)."""
    from ..remote.status import cloud_status as compare_with_remote

    plan: TransferPlan = plan_transfer(project, TransferRequest(tuple(targets), remote), False)
    # Reading the remote's listing (and an encrypted remote's manifests) is a pull.
    require_transfer_rights(project, plan.remotes.values(), upload=False)
    return compare_with_remote(project, plan, jobs)


def require_transfer_rights(
    project: Project, remotes: Iterable[RemoteConfig], upload: bool
) -> None:
    """`push` to upload; `pull` to read a remote, plus `decrypt` when one is encrypted.

    Without a policy nothing is restricted; AccessError otherwise.
    """
    from ..security.policy.access import require

    if upload:
        require(project.root, "push")
        return
    require(project.root, "pull")
    if any(remote.encrypt for remote in remotes):
        require(project.root, "decrypt")
