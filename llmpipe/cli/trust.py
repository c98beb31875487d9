"""`llmpipe trust`: this clone's memory of its history (the pinned root, how far logs were seen)."""

from __future__ import annotations

import click

from .render import emit_json, verbose_option


def _root() -> str:
    from ..project import find_root

    return find_root(".")


@click.group()
def trust() -> None:
    """The policy root this clone pinned and how far it has seen each append-only log."""


@trust.command()
@click.option("--json", "as_json", is_flag=True)
@verbose_option
def show(as_json: bool, verbose: bool) -> None:
    """Print the pinned root (this clone's and the committed one) and each log's mark."""
    from ..security.policy.rootpin import committed_root
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
    from ..ops.trust import accept as accept_log
    from .session import run_verb

    click.echo(run_verb(accept_log, log))
