"""Verbs over this clone's memory of its history, and the key it signs with.

`accept` forgets what this clone remembered of one append-only log (policy,
root, registry, an audit chain), verifies the log again and remembers it as it
is now: for a log rolled back or rewritten on purpose, after review.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import LlmpipeError, RegistryError
from .audit import audited

if TYPE_CHECKING:
    from ..project import Project

LOGS = "policy, root, registry or audit:<chain>"


@audited("trust accept")
def accept(project: Project, log: str) -> str:
    """Accept `log` as it is now; returns what was accepted, for the user."""
    if log in ("policy", "root"):
        return _accept_policy(project.root, forget_root=log == "root")
    if log == "registry" or log.startswith("registry:"):
        return _accept_registry(project.root)
    if log.startswith("audit:") and len(log) > len("audit:"):
        return _accept_chain(project.root, log[len("audit:") :])
    raise LlmpipeError(f"unknown log '{log}': use {LOGS} (see 'llmpipe trust show')")


def _accept_policy(root: str, forget_root: bool) -> str:
    from ..security.policy.load import load_policy, policy_in_force
    from ..security.witness import Witness

    witness = Witness.of(root)
    if forget_root:
        witness.forget("root")
    witness.forget("policy")
    if not policy_in_force(root):
        return "Forgot the pinned root: this project has no access policy."
    current = load_policy(root)
    return (
        f"Accepted .llmpipe/policy.log at version {current.version} "
        f"(root {current.root}); this clone remembers it from now on."
    )


def _accept_registry(root: str) -> str:
    from ..registry.storage import open_store
    from ..registry.verify import verify_log

    store = open_store(root)
    if store.witness is None or store.log is None:
        raise RegistryError(f"{store.location} keeps no mark in this clone: nothing to accept")
    store.witness.forget(store.log.id)
    report = verify_log(root, store)
    if not report.ok:
        raise RegistryError(
            f"forgot this clone's mark of {store.log.what}, but it does not verify: "
            + "; ".join(report.problems[:3])
        )
    return f"Accepted {store.log.what} with {report.events} event(s)."


def _accept_chain(root: str, chain: str) -> str:
    from ..errors import AuditError
    from ..security.audit.log import AuditLog, audit_dir, chain_log
    from ..security.audit.verify import verify_log

    log = AuditLog(audit_dir(root))
    if log.witness is None:  # a log outside a project keeps no marks
        raise AuditError(f"audit chain {chain} keeps no mark in this clone: nothing to accept")
    log.witness.forget(chain_log(chain).id)
    problems = [p for p in verify_log(log).problems if p.chain == chain]
    if problems:
        raise AuditError(f"forgot this clone's mark of audit chain {chain}, but: {problems[0]}")
    count = len(log.read_chain(chain)) if chain in log.chain_ids() else 0
    return f"Accepted audit chain {chain} with {count} record(s)."


@audited("keys use")
def use_key(project: Project, name: str) -> str:
    """Sign with the key `name` from now on (recorded in this project's trail)."""
    from ..security.keys import select_key

    return select_key(name)
