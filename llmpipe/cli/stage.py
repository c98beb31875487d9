"""Commands that change what dvc.yaml, dvc.lock and `.dvc` files record without running:
`commit`, `remove`, `move`, `freeze`, `unfreeze`, `stage add`, `unprotect`."""

from __future__ import annotations

import sys

import click

from .render import quiet_option, quiet_stdout, verbose_option
from .session import run_verb


def _confirm(message: str) -> bool:
    """Ask on a terminal; off a terminal the answer is no, as dvc's prompt gives."""
    if not sys.stdin.isatty():
        return False
    return click.confirm(message, err=True)


@click.command()
@click.argument("targets", nargs=-1)
@click.option("-f", "--force", is_flag=True, help="Commit changed stages without asking.")
@click.option("-d", "--with-deps", is_flag=True, help="Commit the targets' upstream stages too.")
@click.option(
    "-R", "--recursive", is_flag=True, help="A directory target: every stage defined inside it."
)
@quiet_option
@verbose_option
def commit(targets: tuple[str, ...], force: bool, with_deps: bool, recursive: bool, quiet: bool,
           verbose: bool) -> None:  # fmt: skip
    """Record outputs as they are in the workspace (dvc.lock, .dvc files), without running."""
    from ..ops.commit import commit as commit_outputs

    committed = run_verb(commit_outputs, targets, force=force, with_deps=with_deps,
                         confirm=_confirm, recursive=recursive)  # fmt: skip
    if quiet:
        return
    for lockfile in dict.fromkeys(c.lockfile for c in committed if c.lockfile.endswith("lock")):
        click.echo(f"Updating lock file '{lockfile}'")


@click.group()
def stage() -> None:
    """Edit the stages of dvc.yaml."""


def _many(*names: str, help: str) -> click.decorators.FC:  # noqa: A002
    return click.option(*names, multiple=True, metavar="PATH", help=help)


@stage.command("add", context_settings={"allow_interspersed_args": False})
@click.option("-n", "--name", required=True, help="Name of the stage.")
@click.option("-f", "--force", is_flag=True, help="Overwrite an existing stage.")
@_many("-d", "--deps", help="A dependency.")
@click.option("-p", "--params", multiple=True, metavar="[FILE:]KEYS", help="Params to track.")
@_many("-o", "--outs", help="An output, cached.")
@_many("-O", "--outs-no-cache", help="An output, not cached.")
@_many("--outs-persist", help="An output kept while the stage runs, cached.")
@_many("--outs-persist-no-cache", help="An output kept while the stage runs, not cached.")
@_many("-m", "--metrics", help="A metrics file, cached.")
@_many("-M", "--metrics-no-cache", help="A metrics file, not cached.")
@_many("--plots", help="A plots file, cached.")
@_many("--plots-no-cache", help="A plots file, not cached.")
@click.option("-w", "--wdir", help="Folder the command runs in.")
@click.option("--always-changed", is_flag=True, help="Run the stage on every repro.")
@click.option("--desc", help="What the stage does.")
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@quiet_option
@verbose_option
def add(name: str, force: bool, command: tuple[str, ...], quiet: bool, **flags) -> None:  # noqa: ANN003
    """Add a stage to the dvc.yaml of the current folder (the command comes last)."""
    from ..ops.stage_add import StageSpec, add_stage

    spec = StageSpec(
        name=name,
        command=command,
        deps=flags["deps"],
        params=flags["params"],
        outs=_outs(flags),
        wdir=flags["wdir"],
        always_changed=flags["always_changed"],
        desc=flags["desc"],
    )
    added = run_verb(add_stage, spec, force=force)
    if not quiet:
        files = " ".join(sorted({*added.gitignores, added.dvcfile}))
        click.echo(f"Added stage '{added.name}' in '{added.dvcfile}'")
        click.echo(f"\nTo track the changes with git, run:\n\n\tgit add {files}")


_OUT_FLAGS = {  # flag -> (kind, cached, persist), in dvc's order (that of .gitignore lines)
    "outs_persist": ("outs", True, True),
    "outs_persist_no_cache": ("outs", False, True),
    "metrics": ("metrics", True, False),
    "metrics_no_cache": ("metrics", False, False),
    "plots": ("plots", True, False),
    "plots_no_cache": ("plots", False, False),
    "outs_no_cache": ("outs", False, False),
    "outs": ("outs", True, False),
}


def _outs(flags: dict) -> tuple:
    from ..ops.stage_add import OutSpec

    return tuple(
        OutSpec(path, kind, cache, persist)
        for flag, (kind, cache, persist) in _OUT_FLAGS.items()
        for path in flags[flag]
    )


@click.command()
@click.argument("targets", nargs=-1, required=True)
@verbose_option
@quiet_stdout
def freeze(targets: tuple[str, ...], verbose: bool) -> None:
    """Freeze stages: repro neither checks nor runs them until unfrozen."""
    from ..ops.stage_edit import freeze as freeze_stages

    run_verb(freeze_stages, targets)


@click.command()
@click.argument("targets", nargs=-1, required=True)
@verbose_option
@quiet_stdout
def unfreeze(targets: tuple[str, ...], verbose: bool) -> None:
    """Unfreeze stages."""
    from ..ops.stage_edit import freeze as freeze_stages

    run_verb(freeze_stages, targets, frozen=False)


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--outs", is_flag=True, help="Delete the stages' outputs from the workspace too.")
@verbose_option
@quiet_stdout
def remove(targets: tuple[str, ...], outs: bool, verbose: bool) -> None:
    """Stop tracking stages or .dvc files (dvc.yaml, dvc.lock and .gitignore entries)."""
    from ..ops.stage_edit import remove_stages

    run_verb(remove_stages, targets, outs=outs)


@click.command()
@click.argument("src")
@click.argument("dst")
@quiet_option
@verbose_option
def move(src: str, dst: str, quiet: bool, verbose: bool) -> None:
    """Move data tracked by a .dvc file (SRC) to DST, renaming its .dvc file to match."""
    from ..ops.move import move as move_data

    moved = run_verb(move_data, src, dst)
    if not quiet:
        files = dict.fromkeys([".gitignore", moved.dvcfile, moved.old_dvcfile])
        click.echo(f"\nTo track the changes with git, run:\n\n\tgit add {' '.join(files)}")


@click.command()
@click.argument("targets", nargs=-1, required=True)
@quiet_option
@verbose_option
def unprotect(targets: tuple[str, ...], quiet: bool, verbose: bool) -> None:
    """Replace links to the cache in TARGETS with copies, so the files can be edited."""
    from ..ops.unprotect import unprotect as unprotect_paths

    run_verb(unprotect_paths, targets)
