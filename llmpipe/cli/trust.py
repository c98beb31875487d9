"""`llmpipe trust`: this clone's memory of its history (the pinned root, how far logs were seen)."""

from __future__ import annotations

import click

from .render import emit_json, verbose_option

_LOGS = "policy, root, registry or audit:<chain>"


def _root() -> str:
    from ..repo import find_root

    return find_root(".")


@click.group()
def trust() -> None:
    """The policy root this clone pinned and how far it has seen each append-only log."""


@trust.command()
@click.option("--json", "as_json", is_flag=True)
@verbose_option
def show(as_json: bool, verbose: bool) -> None:
    """Print the pinned root (this clone's and the committed one) and each log's mark."""
    from ..security.rootpin import committed_root
    from ..security.witness import Witness

    root = _root()
    witness = Witness.of(root)
    data = {
        "state": witness.path,
        "project": witness.project,
        "root": {"pinned": witness.root(), "committed": committed_root(root)},
        "logs": {name: mark.to_dict() for name, mark in sorted(witness.marks().items())},
    }
    if as_json:
        emit_json(data)
        return
    click.echo(f"state:          {data['state']} (project {data['project']})")
    click.echo(f"root (clone):   {data['root']['pinned'] or '-'}")
    click.echo(f"root (commit):  {data['root']['committed'] or '-'}")
    for name, mark in data["logs"].items():
        click.echo(f"{name}\t{mark['length']} seen, last {mark['hash']}")


@trust.command()
@click.argument("log")
@verbose_option
def accept(log: str, verbose: bool) -> None:
    """After review, accept LOG as it is now: policy, root, registry or audit:<chain>.

    For a log that was rolled back or rewritten on purpose (an older commit
    checked out, a policy history replaced): this clone forgets what it
    remembered of LOG, verifies LOG again and remembers it as it is now.
    """
    from ..errors import LlmpipeError

    root = _root()
    if log in ("policy", "root"):
        click.echo(_accept_policy(root, forget_root=log == "root"))
    elif log == "registry" or log.startswith("registry:"):
        click.echo(_accept_registry(root))
    elif log.startswith("audit:") and len(log) > len("audit:"):
        click.echo(_accept_chain(root, log[len("audit:") :]))
    else:
        raise LlmpipeError(f"unknown log '{log}': use {_LOGS} (see 'llmpipe trust show')")


def _accept_policy(root: str, forget_root: bool) -> str:
    from ..security.policy import load_policy, policy_in_force
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
    from ..errors import RegistryError
    from ..registry.storage import open_store
    from ..registry.verify import verify_log

    store = open_store(root)
    assert store.witness is not None and store.log is not None
    store.witness.forget(store.log.id)
    report = verify_log(root, store)
    if not report.ok:
        raise RegistryError(
            f"forgot this clone's mark of {store.log.what}, but it does not verify: "
            + "; ".join(report.problems[:3])
        )
    return f"Accepted {store.log.what} with {report.events} event(s)."


def _accept_chain(root: str, chain: str) -> str:
    from ..security.audit import AuditError, AuditLog, audit_dir, chain_log

    log = AuditLog(audit_dir(root))
    assert log.witness is not None
    log.witness.forget(chain_log(chain).id)
    problems = [p for p in log.verify().problems if p.chain == chain]
    if problems:
        raise AuditError(f"forgot this clone's mark of audit chain {chain}, but: {problems[0]}")
    count = len(log.read_chain(chain)) if chain in log.chain_ids() else 0
    return f"Accepted audit chain {chain} with {count} record(s)."
