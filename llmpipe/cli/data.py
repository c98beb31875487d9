"""`llmpipe add`, `checkout` and `gc`: data in the cache."""

from __future__ import annotations

import sys
from typing import Any

import click

from .render import CliProgress, emit_json, files_summary, quiet_option, verbose_option
from .session import run_verb


@click.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print what was added as JSON.")
@quiet_option
@verbose_option
def add(paths: tuple[str, ...], as_json: bool, quiet: bool, verbose: bool) -> None:
    """Track files or directories with .dvc files and save them to the cache."""
    from ..ops.add import add as add_paths

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
        ignores = sorted({a.gitignore for a in added if a.gitignore})
        files = " ".join([*dict.fromkeys(a.dvcfile for a in added), *ignores])
        click.echo(f"To track the changes with git, run:\n\tgit add {files}")


@click.command()
@click.argument("targets", nargs=-1)
@click.option("--relink", is_flag=True, help="Re-create links even for files already in place.")
@click.option(
    "-f", "--force", is_flag=True, help="Discard workspace changes that are not in the cache."
)
@click.option("--json", "as_json", is_flag=True)
@click.option("-d", "--with-deps", is_flag=True, help="The targets' upstream stages' outputs too.")
@click.option(
    "-R", "--recursive", is_flag=True, help="A folder target: the stages of the dvc files in it."
)
@click.option("--summary", is_flag=True, help="Print how many files changed, not which.")
@click.option(
    "--allow-missing", is_flag=True, help="Exit 0 even when some data is missing from the cache."
)
@quiet_option
@verbose_option
def checkout(targets: tuple[str, ...], relink: bool, force: bool, as_json: bool, with_deps: bool,
             recursive: bool, summary: bool, allow_missing: bool, quiet: bool,
             verbose: bool) -> None:  # fmt: skip
    """Restore recorded outputs (dvc.lock, .dvc files) from the cache."""
    from ..ops.checkout import checkout as checkout_outputs

    done = run_verb(checkout_outputs, targets, relink=relink, force=force,
                    with_deps=with_deps, recursive=recursive)  # fmt: skip
    _report_checkout(done, as_json, quiet, summary, allow_missing)
    if relink and not quiet and not as_json:
        click.echo("Relinked successfully")


def _report_checkout(summary: Any, as_json: bool, quiet: bool, counts: bool,
                     allow_missing: bool) -> None:  # fmt: skip
    if as_json:
        emit_json(
            {
                "changed": summary.changed,
                "modified": summary.modified,
                "added": summary.added,
                "deleted": summary.deleted,
                "missing": summary.missing,
                "not_recorded": summary.untracked,
            }
        )
    elif counts and not quiet:
        changes = zip(("modified", "added", "deleted"), summary.files, strict=True)
        click.echo(files_summary(changes) or "No changes.")
    elif not quiet:
        print_checkout_changes(summary)
    if allow_missing:  # as dvc: nothing said of what the cache lacks
        return
    for path in summary.missing:
        click.secho(
            f"ERROR: missing from the cache: {path} (pull it or re-run its stage)",
            err=True,
            fg="red",
        )
    if summary.missing:
        sys.exit(1)


def print_checkout_changes(summary: Any) -> None:
    """dvc's lines: `M`, then `A`, then `D`, and the output's path at column 9 (dvc
    writes a tab that its console expands to spaces)."""
    for letter, paths in (("M", summary.modified), ("A", summary.added), ("D", summary.deleted)):
        for path in paths:
            click.echo(f"{letter:<8}{path}")


@click.command()
@click.option("-w", "--workspace", is_flag=True, help="Keep what the workspace uses.")
@click.option("-a", "--all-branches", is_flag=True, help="Also keep what every branch uses.")
@click.option("-T", "--all-tags", is_flag=True, help="Also keep what every tag uses.")
@click.option("-A", "--all-commits", is_flag=True, help="Also keep what every commit uses.")
@click.option("--rev", "revs", multiple=True, metavar="REV", help="Also keep what REV uses.")
@click.option("-c", "--cloud", is_flag=True, help="Remove from the remote too.")
@click.option("-r", "--remote", help="The remote for -c (default: the default remote).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), help="Parallel removals on the remote.")
@click.option("-f", "--force", is_flag=True, help="Do not ask for confirmation.")
@click.option("--dry", is_flag=True, help="Only print what would be removed.")
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
    cloud: bool,
    remote: str | None,
    jobs: int | None,
    force: bool,
    dry: bool,
    drop_unaliased: bool,
    as_json: bool,
    verbose: bool,
) -> None:
    """Remove cache objects that neither the workspace nor the named revisions use."""
    from ..compare.revisions import RevisionChoice
    from ..ops.data import GcRequest, collect_garbage

    choice = RevisionChoice(revs, all_branches, all_tags, all_commits, workspace=False)
    if (workspace or choice.any) and not as_json:
        click.secho(f"WARNING: {gc_warning(choice)}", fg="yellow", err=True)
    if (workspace or choice.any) and not force and not dry:
        click.confirm("Are you sure you want to proceed?", abort=True)
    request = GcRequest(workspace, choice, dry, drop_unaliased, cloud, remote, jobs)
    report = run_verb(collect_garbage, request)
    if as_json:
        emit_json(_gc_json(report, dry))
        return
    for path in (*report.cache.paths, *report.legacy.paths) if dry else ():
        click.echo(f"Removing {path}")
    for scheme, result in (("repo", report.cache), ("legacy", report.legacy)):
        if result.removed:
            click.echo(f"Removed {result.removed} objects from {scheme} cache.")
        else:
            click.echo(f"No unused '{scheme}' cache to remove.")
    if report.remote is not None:
        for record in report.checkpoints:
            verb = "Would remove" if dry else "Removed"
            click.echo(
                f"{verb} checkpoint {record.id} of stage '{record.stage}' (step "
                f"{record.step}) from remote '{report.remote_name}': retention let it go."
            )
        if report.remote.removed:
            click.echo(f"Removed {report.remote.removed} objects from remote.")
        else:
            click.echo("No unused cache to remove from remote.")


def gc_warning(choice: Any) -> str:
    """dvc's warning before a gc: what will be kept."""
    kept = "the workspace"
    if choice.all_commits:
        kept += " and all git commits"
    elif choice.all_branches and choice.all_tags:
        kept += " and all git branches and tags"
    elif choice.all_branches:
        kept += " and all git branches"
    elif choice.all_tags:
        kept += " and all git tags"
    for rev in () if choice.all_commits else choice.revs:
        kept += f" and last 1 commits from {rev}"
    return f"This will remove all cache except items used in {kept} of the current repo."


def _gc_json(report: Any, dry: bool) -> dict[str, Any]:
    found: dict[str, Any] = {
        "removed": report.removed,
        "kept": report.kept,
        "bytes_freed": report.bytes_freed,
        "dry": dry,
    }
    if report.remote is not None:
        found["remote"] = {
            "name": report.remote_name,
            "removed": report.remote.removed,
            "kept": report.remote.kept,
        }
        if report.checkpoints:
            found["remote"]["checkpoints"] = [
                {"id": r.id, "stage": r.stage, "step": r.step} for r in report.checkpoints
            ]
    return found
