"""`llmpipe install` and the hidden `llmpipe git-hook NAME` the installed hooks run."""

from __future__ import annotations

import os

import click

from .render import verbose_option
from .session import run_verb


@click.command()
@click.option("--use-pre-commit-tool", is_flag=True,
              help="Add the hooks to .pre-commit-config.yaml for the pre-commit tool.")  # fmt: skip
@verbose_option
def install(use_pre_commit_tool: bool, verbose: bool) -> None:
    """Install git hooks: post-checkout checks data out, pre-commit shows status,
    pre-push pushes."""
    from ..ops.install import install as install_hooks

    run_verb(install_hooks, pre_commit_tool=use_pre_commit_tool)


@click.command(name="git-hook", hidden=True, context_settings={"ignore_unknown_options": True})
@click.argument("hook", type=click.Choice(["pre-commit", "post-checkout", "pre-push"]))
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
@click.pass_context
def git_hook(ctx: click.Context, hook: str, args: tuple[str, ...]) -> None:
    """Run what git hook HOOK does (called by the hooks 'llmpipe install' writes)."""
    from ..errors import NotAProjectError
    from ..project import find_root
    from .main import main

    try:
        find_root(".")
    except NotAProjectError:
        return  # git outside a project: nothing to do, as dvc's hooks do nothing
    command = {"pre-commit": "status", "pre-push": "push"}.get(hook) or _post_checkout(args)
    if command:
        ctx.exit(main([command]))


def _post_checkout(args: tuple[str, ...]) -> str | None:
    """`checkout` after a branch checkout (flag 1; not a file checkout), unless a rebase
    is under way (a failed data checkout must not break it)."""
    flag = os.environ.get("PRE_COMMIT_CHECKOUT_TYPE")  # the pre-commit tool's way
    if flag is None and len(args) >= 3:
        flag = args[2]
    if flag != "1" or os.path.isdir(os.path.join(".git", "rebase-merge")):
        return None
    return "checkout"
