"""`llmpipe keys`: create, show, list and choose ed25519 signing keys."""

from __future__ import annotations

import os
import sys

import click

from .render import emit_json, verbose_option


@click.group()
def keys() -> None:
    """Signing keys: the identity recorded in the audit log and checked by the policy."""


@keys.command()
@click.option("--name", default="default", show_default=True, help="Name of the key pair.")
@click.option(
    "--passphrase/--no-passphrase",
    default=False,
    help="Encrypt the private key (passphrase from LLMPIPE_KEY_PASSPHRASE or a prompt).",
)
@verbose_option
def generate(name: str, passphrase: bool, verbose: bool) -> None:
    """Create an ed25519 key pair in the user's config directory (private key mode 0600)."""
    from ..errors import CryptoError
    from ..security.keys import PASSPHRASE_ENV, generate_key, has_key, select_key

    secret = None
    if passphrase:
        secret = os.environ.get(PASSPHRASE_ENV)
        if secret is None:
            if not sys.stdin.isatty():
                raise CryptoError(f"--passphrase needs {PASSPHRASE_ENV} or a terminal to ask on")
            secret = click.prompt(
                "New passphrase", hide_input=True, confirmation_prompt=True, err=True
            )
    first = not has_key()
    key = generate_key(name, secret)
    click.echo(f"Created key '{key.name}' at {key.path}")
    if first:
        # The first key becomes the one in use, whatever its name.
        select_key(key.name)
        click.echo(f"Now signing with '{key.name}'")
    click.echo(f"public key:  {key.public_key}")
    click.echo(f"fingerprint: {key.fingerprint}")


@keys.command()
@click.option("--json", "as_json", is_flag=True)
@verbose_option
def show(as_json: bool, verbose: bool) -> None:
    """Print the public key and fingerprint of the key in use."""
    from ..security.keys import current_key_path, fingerprint, read_public_key

    path = current_key_path()
    if not os.path.isfile(path):
        from ..errors import CryptoError

        raise CryptoError(f"no signing key at {path}: run 'llmpipe keys generate'")
    public = read_public_key(path)
    if as_json:
        emit_json({"path": path, "public_key": public, "fingerprint": fingerprint(public)})
        return
    click.echo(f"key:         {path}")
    click.echo(f"public key:  {public}")
    click.echo(f"fingerprint: {fingerprint(public)}")


@keys.command(name="list")
@verbose_option
def list_(verbose: bool) -> None:
    """List the key pairs in the user's config directory (* marks the one in use)."""
    from ..security.keys import KEY_FILE_ENV, fingerprint, keys_dir, list_keys, selected_name

    found = list_keys()
    if not found:
        click.echo(f"No keys in {keys_dir()}; create one with 'llmpipe keys generate'.")
    chosen = None if os.environ.get(KEY_FILE_ENV) else selected_name()
    for name, public in found:
        mark = "*" if name == chosen else " "
        click.echo(f"{mark} {name}\t{fingerprint(public)}")
    if chosen is None:
        click.echo(f"({KEY_FILE_ENV} is set: {os.environ[KEY_FILE_ENV]} is in use)")


@keys.command()
@click.argument("name")
@verbose_option
def use(name: str, verbose: bool) -> None:
    """Sign with the key NAME from now on."""
    from ..errors import NotAProjectError
    from ..ops.trust import use_key
    from ..security.keys import select_key
    from .session import invocation, open_project

    try:
        with open_project() as project:  # recorded in the project's trail, when in one
            path = use_key(project, name, invocation=invocation())
    except NotAProjectError:
        path = select_key(name)
    click.echo(f"Now signing with '{name}' ({path})")
