"""`llmpipe ls`, `get`, `import`, `update`: data from other projects (a data registry);
`import-url`: data from a URL or an outside path."""

from __future__ import annotations

import click

from .render import emit_json, quiet_option, quiet_stdout, verbose_option
from .session import run_verb


@click.command(name="ls")
@click.argument("url")
@click.argument("path", required=False, default="")
@click.option("--rev", help="Git revision (branch, tag, commit) to list.")
@click.option("-R", "--recursive", is_flag=True, help="List every file below PATH.")
@click.option("--dvc-only", is_flag=True, help="Show only outputs (data dvc/llmpipe tracks).")
@click.option("--json", "as_json", is_flag=True, help="Print the entries as JSON, as dvc does.")
@click.option("--remote", help="The source's remote to read directory listings from.")
@verbose_option
@quiet_stdout
def ls(url: str, path: str, rev: str | None, recursive: bool, dvc_only: bool, as_json: bool,
       remote: str | None, verbose: bool) -> None:  # fmt: skip
    """List the files of PATH in the project at URL, git's and tracked data alike."""
    from ..external.listing import list_path
    from ..external.source import open_source
    from ..ops.imports import scratch_objects

    with open_source(url, rev) as source, scratch_objects(source, remote) as objects:
        entries = list_path(source, objects, path, recursive, dvc_only)
    if as_json:
        emit_json([e.to_json() for e in entries], like_dvc=True)
        return
    for entry in entries:
        click.echo(entry.path)


@click.command()
@click.argument("url")
@click.argument("path")
@click.option("-o", "--out", help="Where to write it (default: its name, here).")
@click.option("--rev", help="Git revision (branch, tag, commit) to copy from.")
@click.option("-f", "--force", is_flag=True, help="Replace what is at the destination.")
@click.option("--remote", help="The source's remote to fetch from (default: its default).")
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), help="Objects downloaded at once from a remote."
)
@quiet_option
@verbose_option
def get(url: str, path: str, out: str | None, rev: str | None, force: bool, remote: str | None,
        jobs: int | None, quiet: bool, verbose: bool) -> None:  # fmt: skip
    """Copy PATH of the project at URL (a git folder or URL) here, untracked."""
    from ..ops.imports import get as get_path

    get_path(url, path, out, rev, force, remote, jobs)


@click.command(name="import")
@click.argument("url")
@click.argument("path")
@click.option("-o", "--out", help="Where to put it (default: its name, here).")
@click.option("--rev", help="Git revision to import from; recorded, so 'update' keeps it.")
@click.option("--remote", help="The source's remote to fetch from (default: its default).")
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), help="Objects downloaded at once from a remote."
)
@click.option("-f", "--force", is_flag=True, help="Replace the output or .dvc file if present.")
@click.option("--no-exec", is_flag=True, help="Only write the .dvc file; download nothing.")
@click.option(
    "--no-download",
    is_flag=True,
    help="Write the .dvc file with the source's commit; download nothing ('update' does).",
)
@quiet_option
@verbose_option
def import_(url: str, path: str, out: str | None, rev: str | None, remote: str | None,
            jobs: int | None, force: bool, no_exec: bool, no_download: bool, quiet: bool,
            verbose: bool) -> None:  # fmt: skip
    """Import PATH of the project at URL, tracked by a frozen .dvc file."""
    from ..ops.imports import ImportFlags
    from ..ops.imports import import_ as import_path

    flags = ImportFlags(remote, jobs, force, no_exec, no_download)
    done = run_verb(import_path, url, path, out, rev, flags)
    if not quiet:
        for item in done:
            click.echo(f"Importing '{path} ({url})' -> '{item.path}'")
            click.echo(f"To track the changes with git, run:\n\tgit add {item.dvcfile} .gitignore")


class _FsConfigCommand(click.Command):
    """As in dvc, one `--fs-config` takes several NAME=VALUE words: `--fs-config a=1 b=2`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        return super().parse_args(ctx, spread_values("--fs-config", args))


def spread_values(flag: str, args: list[str]) -> list[str]:
    """`args` with each NAME=VALUE word that follows `flag`'s value given its own `flag`."""
    spread: list[str] = []
    state = "other"  # or "value" (the flag's own value comes next), or "more"
    for arg in args:
        if state == "more" and "=" in arg and not arg.startswith("-"):
            spread.append(flag)
        elif state == "value":
            state = "more"
        elif arg == flag:
            state = "value"
        else:
            state = "more" if arg.startswith(flag + "=") else "other"
        spread.append(arg)
    return spread


@click.command(name="import-url", cls=_FsConfigCommand)
@click.argument("url")
@click.argument("out", required=False)
@click.option(
    "--to-remote",
    is_flag=True,
    help="Send the data straight to the remote, not to the cache or workspace.",
)
@click.option("-r", "--remote", help="The remote --to-remote sends to (default: the default).")
@click.option("--no-exec", is_flag=True, help="Only write the .dvc file; download nothing.")
@click.option(
    "--no-download",
    is_flag=True,
    help="Write the .dvc file with the source's hash; download nothing ('update' or 'pull' does).",
)
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), help="Files of a folder downloaded at once."
)
@click.option("-f", "--force", is_flag=True, help="Replace the output or .dvc file if present.")
@click.option(
    "--version-aware",
    is_flag=True,
    help="Record the import as version-aware (refused for s3://, gs://, azure://: not"
    " supported yet).",
)
@click.option(
    "--fs-config",
    "fs_config",
    multiple=True,
    metavar="NAME=VALUE",
    help="A setting for reading URL (as 'remote modify' takes), recorded; repeatable.",
)
@quiet_option
@verbose_option
def import_url(url: str, out: str | None, to_remote: bool, remote: str | None, no_exec: bool,
               no_download: bool, jobs: int | None, force: bool, version_aware: bool,
               fs_config: tuple[str, ...], quiet: bool, verbose: bool) -> None:  # fmt: skip
    """Download the file or folder at URL (a local path, s3://, ssh://, http(s)://,
    remote://NAME/path) and track it with a frozen .dvc file; 'update' refreshes it."""
    from ..ops.import_url import UrlFlags
    from ..ops.import_url import import_url as import_from_url

    flags = UrlFlags(no_exec, no_download, to_remote, remote, force, jobs,
                     _settings(fs_config), version_aware)  # fmt: skip
    done = run_verb(import_from_url, url, out, flags)
    if not quiet:
        for item in done:
            click.echo(f"Importing '{url}' -> '{item.path}'")
            click.echo(f"To track the changes with git, run:\n\tgit add {item.dvcfile} .gitignore")


def _settings(pairs: tuple[str, ...]) -> dict[str, str]:
    settings = {}
    for pair in pairs:
        name, _, value = pair.partition("=")
        if not name or not value:
            raise click.BadParameter(f"'{pair}' is not NAME=VALUE", param_hint="--fs-config")
        settings[name] = value
    return settings


@click.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--rev", help="Git revision to update to (recorded in the .dvc file).")
@click.option("--remote", "-r",
              help="Imports from projects: the source's remote to fetch from (default: its"
              " default). With --to-remote: the remote to send to.")  # fmt: skip
@click.option(
    "--to-remote", is_flag=True, help="import-url: send the new data straight to the remote."
)
@click.option(
    "-j", "--jobs", type=click.IntRange(min=1), help="Files or objects downloaded at once."
)
@quiet_option
@verbose_option
def update(targets: tuple[str, ...], rev: str | None, remote: str | None, to_remote: bool,
           jobs: int | None, quiet: bool, verbose: bool) -> None:  # fmt: skip
    """Bring imported data (TARGETS: .dvc files) up to date with its source."""
    from ..ops.imports import update as update_imports

    done = run_verb(update_imports, targets, rev, remote, to_remote=to_remote, jobs=jobs)
    if not quiet:
        for item in done:
            state = "Updated" if item.changed else "Up to date:"
            commit = f" ({item.rev_lock[:10]})" if item.rev_lock else ""
            click.echo(f"{state} '{item.path}'{commit}")
