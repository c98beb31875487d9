"""Entry point of the `llmpipe` command.

Subcommands live one group per module and are imported only when invoked, so
that `llmpipe repro` on an up-to-date project pays for nothing it does not use.
"""

from __future__ import annotations

import importlib
import sys

import click

from ..errors import BUG_EXIT_CODE, LlmpipeError

REPORT_TO = "the llmpipe issue tracker"

# command name -> (module, attribute); imported on first use.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("llmpipe.cli.init", "init"),
    "repro": ("llmpipe.cli.repro", "repro"),
    "status": ("llmpipe.cli.status", "status"),
    "dag": ("llmpipe.cli.dag", "dag"),
    "add": ("llmpipe.cli.data", "add"),
    "checkout": ("llmpipe.cli.data", "checkout"),
    "gc": ("llmpipe.cli.data", "gc"),
    "diff": ("llmpipe.cli.diff", "diff"),
    "data": ("llmpipe.cli.data_status", "data"),
    "commit": ("llmpipe.cli.stage", "commit"),
    "stage": ("llmpipe.cli.stage", "stage"),
    "freeze": ("llmpipe.cli.stage", "freeze"),
    "unfreeze": ("llmpipe.cli.stage", "unfreeze"),
    "remove": ("llmpipe.cli.stage", "remove"),
    "move": ("llmpipe.cli.stage", "move"),
    "unprotect": ("llmpipe.cli.stage", "unprotect"),
    "config": ("llmpipe.cli.config", "config"),
    "root": ("llmpipe.cli.housekeeping", "root"),
    "cache": ("llmpipe.cli.housekeeping", "cache"),
    "version": ("llmpipe.cli.housekeeping", "version"),
    "install": ("llmpipe.cli.hooks", "install"),
    "git-hook": ("llmpipe.cli.hooks", "git_hook"),
    "doctor": ("llmpipe.cli.housekeeping", "version"),
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
    "ui": ("llmpipe.cli.ui", "ui"),
    "checkpoints": ("llmpipe.cli.checkpoints", "checkpoints"),
    "ls": ("llmpipe.cli.imports", "ls"),
    "get": ("llmpipe.cli.imports", "get"),
    "import": ("llmpipe.cli.imports", "import_"),
    "update": ("llmpipe.cli.imports", "update"),
    "import-url": ("llmpipe.cli.imports", "import_url"),
    "exp": ("llmpipe.cli.exp", "exp"),
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

    Exit codes: 0 success; 1 a user error (an `LlmpipeError`) or a failed check;
    2 a command line click cannot parse; 70 a bug in llmpipe (any other
    exception); 130 interrupted. Audited verbs (`ops.audit`) record the command
    as typed: `argv` travels in the click context for them (see
    `session.invocation`).
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
    except Exception as exc:  # anything else is a bug in llmpipe
        _report_bug(exc, verbose)
        return BUG_EXIT_CODE
    return 0


def _report_bug(exc: Exception, verbose: bool) -> None:
    """One line: an exception that no user error explains is a bug of llmpipe's; what to do."""
    if verbose:
        import traceback  # with textwrap, ~1 ms of every start-up otherwise

        traceback.print_exc()
        how = f"Please report it, with the traceback above, to {REPORT_TO}."
    else:
        how = (
            "Run the command again with --verbose to see the traceback, and report it "
            f"to {REPORT_TO}."
        )
    click.secho(
        f"ERROR: this is a bug in llmpipe, not a mistake of yours ({_one_line(exc)}). {how}",
        fg="red",
        err=True,
    )


def _one_line(exc: BaseException) -> str:
    kind = type(exc)
    name = kind.__qualname__
    if kind.__module__ != "builtins":
        name = f"{kind.__module__}.{name}"
    message = " ".join(str(exc).splitlines()).strip()
    return f"{name}: {message}" if message else name


if __name__ == "__main__":
    sys.exit(main())
