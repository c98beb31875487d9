"""What every command needs around a verb: the project, and how the verb was invoked.

`open_project()` finds the project and, when the command ends, prints the
notices the library collected (it never prints itself) and closes it.
`invocation()` is the command as typed, which the audited verbs record.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import click

from ..project import Project

if TYPE_CHECKING:  # a read-only command (status) loads no audit trail
    from ..ops.audit import Invocation


@contextlib.contextmanager
def open_project() -> Iterator[Project]:
    project = Project.discover()
    try:
        yield project
    finally:
        for notice in project.notices:
            click.secho(f"WARNING: {notice}", fg="yellow", err=True)
        project.close()


def prompt_passphrase() -> str | None:
    """Ask for a key's passphrase on a terminal; None when there is no terminal."""
    if not sys.stdin.isatty():
        return None
    return click.prompt("Passphrase for the signing key", hide_input=True, err=True)


def invocation() -> Invocation:
    """The running command's words (`registry promote`) and the arguments after them."""
    ctx = click.get_current_context()
    words = ctx.command_path.split()[1:]
    argv = list((ctx.find_root().obj or {}).get("argv", ()))
    args = argv[len(words) :] if argv[: len(words)] == words else argv
    from ..ops.audit import Invocation

    return Invocation(" ".join(words), tuple(args), prompt_passphrase)


def run_verb(verb: Callable[..., Any], *args: Any, **options: Any) -> Any:
    """Call the ops `verb` on this project, audited as the command typed."""
    with open_project() as project:
        return verb(project, *args, invocation=invocation(), **options)
