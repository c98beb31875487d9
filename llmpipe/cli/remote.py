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


@remote.command("add")
@click.argument("name")
@click.argument("url")
@click.option("-d", "--default", "default", is_flag=True, help="Make it the default remote.")
@click.option("-f", "--force", is_flag=True, help="Overwrite an existing remote.")
@click.option("--local", is_flag=True, help="Write to .dvc/config.local (this machine only).")
@verbose_option
def add(name: str, url: str, default: bool, force: bool, local: bool, verbose: bool) -> None:
    """Add remote NAME at URL (a folder, file://, s3://, ssh://, gs://, azure://)."""
    from ..remote.config import add_remote

    add_remote(_repo(), name, url, default, force, local)
    if default:
        click.echo(f"Setting '{name}' as a default remote.")


@remote.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print the remotes as JSON.")
@verbose_option
def list_(as_json: bool, verbose: bool) -> None:
    """List remotes: name, URL, and which one is the default."""
    from ..remote.config import default_remote, list_remotes

    repo = _repo()
    remotes = list_remotes(repo)
    default = default_remote(repo)
    if as_json:
        emit_json([{"name": r.name, "url": r.url, "default": r.name == default} for r in remotes])
        return
    for item in remotes:
        suffix = "\t(default)" if item.name == default else ""
        click.echo(f"{item.name}\t{item.url}{suffix}")


@remote.command("remove")
@click.argument("name")
@verbose_option
def remove(name: str, verbose: bool) -> None:
    """Remove remote NAME (and unset it as the default)."""
    from ..remote.config import remove_remote

    remove_remote(_repo(), name)


@remote.command("default")
@click.argument("name", required=False)
@click.option("-u", "--unset", is_flag=True, help="Unset the default remote.")
@click.option("--local", is_flag=True, help="Write to .dvc/config.local.")
@verbose_option
def default(name: str | None, unset: bool, local: bool, verbose: bool) -> None:
    """Set the default remote to NAME, or print it when NAME is not given."""
    from ..remote.config import default_remote, set_default

    repo = _repo()
    if unset or name:
        set_default(repo, None if unset else name, local)
        return
    current = default_remote(repo)
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
    from ..remote.config import modify_remote

    if value is None and not unset:
        raise click.UsageError("give a VALUE, or --unset to remove the option")
    modify_remote(_repo(), name, key, None if unset else value, local)
