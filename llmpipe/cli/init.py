"""`llmpipe init`: make the current directory a project DVC and llmpipe both understand."""

from __future__ import annotations

import os
from collections.abc import Callable

import click

from .render import quiet_option, verbose_option

_DVC_GITIGNORE = "/config.local\n/tmp\n/cache\n"


@click.command()
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option("--no-scm", is_flag=True, help="Initialize outside a git repository.")
@click.option(
    "--subdir", is_flag=True, help="Initialize in a sub-folder of a git work tree (like dvc)."
)
@click.option(
    "--hydra", is_flag=True, help="Enable Hydra: repro composes conf/config.yaml into params.yaml."
)
@quiet_option
@verbose_option
def init(
    directory: str | None, no_scm: bool, subdir: bool, hydra: bool, quiet: bool, verbose: bool
) -> None:
    """Create .dvc/ (as DVC expects it) and .llmpipe/ in DIRECTORY (default: here)."""
    root = os.path.abspath(directory or os.getcwd())
    if not os.path.isdir(root):
        from ..errors import LlmpipeError

        raise LlmpipeError(f"'{directory}' is not a directory")
    say = (lambda _text: None) if quiet else click.echo
    if not no_scm:
        _check_git(root, subdir)
    created = _init_dvc_dir(root, no_scm)
    from ..project import LLMPIPE_DIR, committable_gitignore

    os.makedirs(os.path.join(root, LLMPIPE_DIR), exist_ok=True)
    _write_if_missing(os.path.join(root, LLMPIPE_DIR, ".gitignore"), committable_gitignore())
    if created:
        say(f"Initialized llmpipe project in {root}")
    elif not hydra:
        say(f"{root} is already an llmpipe project; nothing to do")
    if hydra:
        _enable_hydra(root, say)


def _enable_hydra(root: str, say: Callable[[str], None]) -> None:
    from ..config import load_config, set_value
    from ..hydra.scaffold import scaffold_config

    # As `dvc config hydra.enabled True` writes it.
    set_value(os.path.join(root, ".dvc", "config"), "hydra", "enabled", "True")
    say("Hydra enabled: repro composes conf/config.yaml into params.yaml")
    done = scaffold_config(
        root, load_config(os.path.join(root, ".dvc"), os.path.join(root, ".llmpipe"))
    )
    if done.created:
        say(f"Created {done.created} from params.yaml: edit the config there from now on")
    else:
        say(f"Nothing scaffolded: {done.reason}")


def _check_git(root: str, subdir: bool) -> None:
    from .. import scm
    from ..errors import LlmpipeError

    top = scm.git_root(root)
    if top is None or (top != root and not subdir):
        where = "not inside a git repository" if top is None else f"inside '{top}', not its top"
        raise LlmpipeError(
            f"'{root}' is {where}: run 'git init' first, use 'llmpipe init --subdir' in a "
            "sub-folder of a git repository, or 'llmpipe init --no-scm'"
        )


def _init_dvc_dir(root: str, no_scm: bool) -> bool:
    dvc_dir = os.path.join(root, ".dvc")
    created = not os.path.isdir(dvc_dir)
    os.makedirs(os.path.join(dvc_dir, "tmp"), exist_ok=True)
    _write_if_missing(os.path.join(dvc_dir, ".gitignore"), _DVC_GITIGNORE)
    config = "[core]\n    no_scm = True\n" if no_scm else ""
    _write_if_missing(os.path.join(dvc_dir, "config"), config)
    _write_if_missing(os.path.join(root, ".dvcignore"), _DVCIGNORE)
    return created


_DVCIGNORE = (
    "# Add patterns of files dvc should ignore, which could improve\n"
    "# the performance. Learn more at\n"
    "# https://dvc.org/doc/user-guide/dvcignore\n"
)


def _write_if_missing(path: str, text: str) -> None:
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
