"""`llmpipe remote …`: add, list, remove, default, modify — stored as DVC stores them."""

from __future__ import annotations

import click

from .render import emit_json, verbose_option


@click.group()
def remote() -> None:
    """Manage remotes (in .dvc/config; secrets in .dvc/config.local)."""


def _repo():  # noqa: ANN202
    from ..project import Project

    return Project.discover()


def _files():  # noqa: ANN202
    from ..config import ConfigFiles

    repo = _repo()
    return ConfigFiles(repo.dvc_dir, repo.llmpipe_dir)


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option("-d", "--default", "default", is_flag=True, help="Make it the default remote.")
@click.option("-f", "--force", is_flag=True, help="Overwrite an existing remote.")
@click.option("--local", is_flag=True, help="Write to .dvc/config.local (this machine only).")
@verbose_option
def add(name: str, url: str, default: bool, force: bool, local: bool, verbose: bool) -> None:
    """Add remote NAME at URL (a folder, file://, s3://, ssh://, gs://, azure://)."""
    from ..config.remotes import add_remote

    name = name.lower()  # as dvc stores remote names
    add_remote(_files(), name, url, default=default, force=force, local=local)
    if default:
        click.echo(f"Setting '{name}' as a default remote.")


@remote.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the remotes as JSON.")
@verbose_option
def list_(as_json: bool, verbose: bool) -> None:
    """List remotes: name, URL, and which one is the default."""
    config = _repo().config
    remotes = list(config.remotes.values())
    default = config.default_remote
    if as_json:
        emit_json([{"name": r.name, "url": r.url, "default": r.name == default} for r in remotes])
        return
    for item in remotes:
        suffix = "\t(default)" if item.name == default else ""
        click.echo(f"{item.name}\t{item.url}{suffix}")


@remote.command("remove")
@click.argument("name")
@click.option("--local", is_flag=True, help="Remove it from the .local config files only.")
@verbose_option
def remove(name: str, local: bool, verbose: bool) -> None:
    """Remove remote NAME (and unset it as the default)."""
    from ..config.remotes import remove_remote

    remove_remote(_files(), name.lower(), local)


@remote.command("default")
@click.argument("name", required=False)
@click.option("-u", "--unset", is_flag=True, help="Unset the default remote.")
@click.option("--local", is_flag=True, help="Write to .dvc/config.local.")
@verbose_option
def default(name: str | None, unset: bool, local: bool, verbose: bool) -> None:
    """Set the default remote to NAME, or print it when NAME is not given."""
    from ..config.remotes import set_default

    if unset or name:
        set_default(_files(), None if unset else name.lower(), local)
        return
    current = _repo().config.default_remote
    if current is None:
        raise click.ClickException("no default remote is set")
    click.echo(current)


@remote.command("modify")
@click.argument("name")
@click.argument("key")
@click.argument("value", required=False)
@click.option("-u", "--unset", is_flag=True, help="Remove the option.")
@click.option("--local", is_flag=True, help="Write to the .local config file.")
@verbose_option
def modify(name: str, key: str, value: str | None, unset: bool, local: bool, verbose: bool) -> None:
    """Set option KEY of remote NAME to VALUE (secrets always go to a .local file).

    llmpipe-only keys (encrypt, key_file, key_env, known_hosts) live in .llmpipe/config,
    because dvc rejects keys it does not know.
    """
    from ..config.remotes import modify_remote

    if value is None and not unset:
        raise click.UsageError("give a VALUE, or --unset to remove the option")
    modify_remote(_files(), name.lower(), key, None if unset else value, local)
