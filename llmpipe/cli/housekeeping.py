"""`llmpipe root`, `cache dir`, `version` (alias `doctor`): where things are, what runs."""

from __future__ import annotations

import os

import click

from .render import emit_json, verbose_option


@click.command()
@verbose_option
def root(verbose: bool) -> None:
    """Print the project's root folder, relative to the current one."""
    from ..project import find_root

    click.echo(os.path.relpath(find_root(".")))


@click.group()
def cache() -> None:
    """The project's cache."""


@cache.command("dir")
@verbose_option
def cache_dir(verbose: bool) -> None:
    """Print the cache folder (set it with 'llmpipe config cache.dir PATH')."""
    from .session import open_project

    with open_project() as project:
        click.echo(project.cache_dir)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@verbose_option
def version(as_json: bool, verbose: bool) -> None:
    """Show llmpipe's version, Python, platform, installed extras, cache and remotes."""
    from ..errors import NotAProjectError
    from ..ops.doctor import system_info
    from ..project import Project

    try:
        project = Project.discover()
    except NotAProjectError:
        project = None
    try:
        info = system_info(project)
    finally:
        if project is not None:
            project.close()
    if as_json:
        emit_json({**info.__dict__, "remotes": dict(info.remotes)})
        return
    _print(info)


def _print(info) -> None:  # noqa: ANN001
    click.echo(f"llmpipe version: {info.version}")
    click.echo("-" * 25)
    click.echo(f"Platform: Python {info.python} on {info.platform}")
    if info.extras:
        installed = [name for name, ok in info.extras.items() if ok]
        missing = [name for name, ok in info.extras.items() if not ok]
        click.echo(f"Extras installed: {', '.join(installed) or 'none'}")
        click.echo(f"Extras not installed: {', '.join(missing) or 'none'}")
    if info.cache_dir is None:
        return
    click.echo(f"Cache directory: {info.cache_dir}")
    click.echo(f"Cache types: {', '.join(info.link_types) or 'copy only'}")
    click.echo("Caches: local")
    remotes = ", ".join(sorted({kind for _, kind in info.remotes})) or "None"
    click.echo(f"Remotes: {remotes}")
    click.echo(f"Repo: {', '.join(info.repo)}")
