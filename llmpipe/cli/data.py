"""`llmpipe add`, `checkout` and `gc`: data in the cache."""

from __future__ import annotations

import posixpath
import sys

import click

from .render import CliProgress, emit_json, quiet_option, verbose_option
from .session import run_verb


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print what was added as JSON.")
@quiet_option
@verbose_option
def add(paths: tuple[str, ...], as_json: bool, quiet: bool, verbose: bool) -> None:
    """Track files or directories with .dvc files and save them to the cache."""
    from ..ops.data import add as add_paths

    progress = CliProgress(enabled=not quiet)
    try:
        added = run_verb(add_paths, paths, progress)
    finally:
        progress.finish()
    if as_json:
        emit_json(
            [
                {
                    "path": a.path,
                    "dvcfile": a.dvcfile,
                    "hash": a.hash_info.value,
                    "size": a.hash_info.size,
                    "nfiles": a.hash_info.nfiles,
                }
                for a in added
            ]
        )
    elif not quiet:
        for item in added:
            click.echo(f"Added '{item.path}' ({item.hash_info.value[:8]}) -> {item.dvcfile}")
        ignores = sorted({posixpath.join(posixpath.dirname(a.path), ".gitignore") for a in added})
        files = " ".join([*(a.dvcfile for a in added), *ignores])
        click.echo(f"To track the changes with git, run:\n\tgit add {files}")


@click.command()
@click.argument("targets", nargs=-1)
@click.option("--relink", is_flag=True, help="Re-create links even for files already in place.")
@click.option(
    "-f", "--force", is_flag=True, help="Discard workspace changes that are not in the cache."
)
@click.option("--json", "as_json", is_flag=True)
@quiet_option
@verbose_option
def checkout(
    targets: tuple[str, ...], relink: bool, force: bool, as_json: bool, quiet: bool, verbose: bool
) -> None:
    """Restore recorded outputs (dvc.lock, .dvc files) from the cache."""
    from ..ops.data import checkout as checkout_outputs

    summary = run_verb(checkout_outputs, targets, relink=relink, force=force)
    if as_json:
        emit_json(
            {
                "changed": summary.changed,
                "missing": summary.missing,
                "not_recorded": summary.untracked,
            }
        )
    elif not quiet:
        for path in summary.changed:
            click.echo(f"M\t{path}")
        if not summary.changed and not summary.missing:
            click.echo("Everything is already in place.")
    for path in summary.missing:
        click.secho(
            f"ERROR: missing from the cache: {path} (pull it or re-run its stage)",
            err=True,
            fg="red",
        )
    if summary.missing:
        sys.exit(1)


@click.command()
@click.option("-w", "--workspace", is_flag=True, help="Keep only what the workspace uses.")
@click.option("-A", "-a", "--all-branches", is_flag=True, help="Also keep what every branch uses.")
@click.option("-T", "--all-tags", is_flag=True, help="Also keep what every tag uses.")
@click.option("--all-commits", is_flag=True, help="Also keep what every commit uses.")
@click.option("--rev", "revs", multiple=True, metavar="REV", help="Also keep what REV uses.")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry", is_flag=True, help="Only count what would be removed.")
@click.option(
    "--drop-unaliased",
    is_flag=True,
    help="Keep registered model versions only when an alias points at them "
    "(default: every registered version is kept).",
)
@click.option("--json", "as_json", is_flag=True)
@verbose_option
def gc(
    workspace: bool,
    all_branches: bool,
    all_tags: bool,
    all_commits: bool,
    revs: tuple[str, ...],
    force: bool,
    dry: bool,
    drop_unaliased: bool,
    as_json: bool,
    verbose: bool,
) -> None:
    """Remove cache objects that neither the workspace nor the named revisions use."""
    from ..compare.revisions import RevisionChoice
    from ..ops.data import collect_garbage

    choice = RevisionChoice(revs, all_branches, all_tags, all_commits, workspace=False)
    keeping = workspace or revs or all_branches or all_tags or all_commits
    if keeping and not force and not dry:
        click.confirm("Remove every cache object the kept revisions do not use?", abort=True)
    result = run_verb(
        collect_garbage, workspace, dry=dry, revisions=choice, drop_unaliased=drop_unaliased
    )
    if as_json:
        emit_json(
            {
                "removed": result.removed,
                "kept": result.kept,
                "bytes_freed": result.bytes_freed,
                "dry": dry,
            }
        )
    else:
        verb = "Would remove" if dry else "Removed"
        click.echo(
            f"{verb} {result.removed} object(s) ({result.bytes_freed} bytes); kept {result.kept}."
        )
