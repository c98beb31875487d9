"""`llmpipe deploy NAME@ALIAS --to URL`: publish a verified version and its model card."""

from __future__ import annotations

import click

from .render import verbose_option


@click.command()
@click.argument("ref")
@click.option(
    "--to",
    "url",
    default="deploy",
    show_default=True,
    help="Destination: a local folder, a storage URL (s3://, ssh://, ...) or remote://NAME/path.",
)
@verbose_option
def deploy(ref: str, url: str, verbose: bool) -> None:
    """Deploy NAME@ALIAS (or NAME@VERSION) after verifying the registry and the files."""
    from ..errors import RegistryError
    from ..ops.registry import deploy as do_deploy
    from .registry import split_ref, writer
    from .session import run_verb

    name, which = split_ref(ref)
    if which is None:
        raise RegistryError(f"name the alias or version to deploy: {name}@production")
    result = run_verb(do_deploy, writer(), name, which, url)
    click.echo(
        f"Deployed {name} {result.version} ({which}): {result.files} file(s) "
        f"to {result.location}; CURRENT = {result.release}"
    )
