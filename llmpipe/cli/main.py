"""Entry point of the `llmpipe` command.

Subcommands live one group per module and are imported only when invoked, so
that `llmpipe repro` on an up-to-date project pays for nothing it does not use.
"""

from __future__ import annotations

import importlib
import sys

import click

from ..errors import LlmpipeError

# command name -> (module, attribute); imported on first use.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("llmpipe.cli.init", "init"),
    "repro": ("llmpipe.cli.repro", "repro"),
    "status": ("llmpipe.cli.status", "status"),
    "dag": ("llmpipe.cli.dag", "dag"),
    "add": ("llmpipe.cli.data", "add"),
    "checkout": ("llmpipe.cli.data", "checkout"),
    "gc": ("llmpipe.cli.data", "gc"),
    "lineage": ("llmpipe.cli.lineage", "lineage"),
    "log": ("llmpipe.cli.lineage", "log"),
    "sweep": ("llmpipe.cli.sweep", "sweep"),
    "keys": ("llmpipe.cli.keys", "keys"),
    "policy": ("llmpipe.cli.policy", "policy"),
    "trust": ("llmpipe.cli.trust", "trust"),
    "audit": ("llmpipe.cli.audit", "audit"),
    "metrics": ("llmpipe.cli.metrics", "metrics"),
    "params": ("llmpipe.cli.params", "params"),
    "plots": ("llmpipe.cli.plots", "plots"),
    "remote": ("llmpipe.cli.remote", "remote"),
    "push": ("llmpipe.cli.transfer", "push"),
    "pull": ("llmpipe.cli.transfer", "pull"),
    "fetch": ("llmpipe.cli.transfer", "fetch"),
    "registry": ("llmpipe.cli.registry", "registry"),
    "deploy": ("llmpipe.cli.deploy", "deploy"),
    "monitor": ("llmpipe.cli.monitor", "monitor"),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module_name, attribute = COMMANDS[cmd_name]
        return getattr(importlib.import_module(module_name), attribute)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="llmpipe")
def cli() -> None:
    """llmpipe: reproducible pipelines, data versioning and model management for LLMs."""


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; user errors become one red line and a non-zero exit code.

    Audited verbs (`ops.audit`) record the command as typed: `argv` travels in
    the click context for them (see `session.invocation`).
    """
    args = sys.argv[1:] if argv is None else list(argv)
    verbose = any(flag in args for flag in ("-v", "--verbose"))
    try:
        cli.main(args=args, prog_name="llmpipe", standalone_mode=False, obj={"argv": args})
    except LlmpipeError as exc:
        if verbose:
            raise
        click.secho(f"ERROR: {exc}", fg="red", err=True)
        return exc.exit_code
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        return 130
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
