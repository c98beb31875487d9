"""`llmpipe ui`: serve the local web dashboard of this project.

The web stack (starlette, uvicorn, jinja2: the `ui` extra) is imported here
only, when the command runs, so no other command pays for it.
"""

from __future__ import annotations

import click

from ..errors import LlmpipeError
from .render import verbose_option

DEFAULT_HOST = "127.0.0.1"


@click.command()
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
    help="Port to listen on (0 picks a free one).",
)  # fmt: skip
@click.option(
    "--host", default=None,
    help=f"Address to listen on (default {DEFAULT_HOST}). Any other address lets "
    "others on the network read this project.",
)  # fmt: skip
@click.option("--open", "open_browser", is_flag=True, help="Open the dashboard in a browser.")
@click.option(
    "--allow-writes", is_flag=True,
    help="Allow promote and roll back from the page (signed with your key, "
    "checked by the access policy, audited).",
)  # fmt: skip
@click.option(
    "--max-commits", type=click.IntRange(min=0), default=50, show_default=True,
    help="Recent commits shown beside branches and tags.",
)  # fmt: skip
@verbose_option
def ui(
    port: int,
    host: str | None,
    open_browser: bool,
    allow_writes: bool,
    max_commits: int,
    verbose: bool,
) -> None:
    """Serve a dashboard of this project: pipeline, experiments, plots, lineage, registry, audit."""
    from ..project import find_root

    root = find_root(".")
    try:
        from ..ui import UiOptions, create_app
        from ..ui.guard import LOOPBACK_HOSTS
        from ..ui.server import is_loopback, listen, serve, url_of
    except ImportError as exc:
        raise LlmpipeError(
            f"llmpipe ui needs the web extra ({exc.name} is missing): pip install 'llmpipe[ui]'"
        ) from None
    address = host or DEFAULT_HOST
    local = is_loopback(address)
    # On a public address the dashboard is reached under names it cannot know.
    hosts = LOOPBACK_HOSTS if local else None
    options = UiOptions(root, max_commits=max_commits, allowed_hosts=hosts)
    if allow_writes:
        options.allow_writes = True
        options.passphrase = _remembered_passphrase()
        options.writer = _writer(options.passphrase)
    sock = listen(address, port)
    url = url_of(sock)
    if not local:
        _warn_exposed(address, allow_writes)
    mode = "writes enabled: promote and roll back" if allow_writes else "read-only"
    click.echo(f"llmpipe ui: serving {root} at {url} ({mode}); Ctrl-C to stop", err=True)
    if open_browser:
        import webbrowser

        webbrowser.open(url if local else url.replace(address, "127.0.0.1", 1))
    try:
        serve(create_app(options), sock, verbose)
    finally:
        sock.close()


def _remembered_passphrase():  # noqa: ANN202 - a PassphraseSource
    """Ask for the key's passphrase (when it is encrypted) once, and reuse it for each write."""
    from .session import prompt_passphrase

    remembered: list[str | None] = []

    def source() -> str | None:
        if not remembered:
            remembered.append(prompt_passphrase())
        return remembered[0]

    return source


def _writer(passphrase):  # noqa: ANN001, ANN202
    """The signing key, loaded now: a missing or locked key fails before serving."""
    from ..registry.ops import Writer

    try:
        return Writer.current(passphrase)
    except LlmpipeError as exc:
        raise LlmpipeError(f"--allow-writes needs a signing key: {exc}") from None


def _warn_exposed(address: str, allow_writes: bool) -> None:
    what = "its pipeline, metrics, lineage, registry and audit trail"
    writes = " and promote or roll back models with your key" if allow_writes else ""
    click.secho(
        f"WARNING: listening on {address}, not on this machine only: anyone who can reach "
        f"this address can read {what}{writes}. There is no login.",
        fg="yellow",
        err=True,
    )
