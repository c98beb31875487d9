"""`llmpipe config`: read and write dvc's config files, comments kept."""

from __future__ import annotations

import os

import click

from .render import quiet_stdout, verbose_option

_LEVEL_FLAGS = ("system", "global", "project", "local")


@click.command()
@click.argument("name", required=False)
@click.argument("value", required=False)
@click.option("--global", "level", flag_value="global", help="The user's config.")
@click.option("--system", "level", flag_value="system", help="The machine's config.")
@click.option("--project", "level", flag_value="repo", help="The project's .dvc/config.")
@click.option("--local", "level", flag_value="local", help="This clone's .dvc/config.local.")
@click.option("-u", "--unset", is_flag=True, help="Remove the option.")
@click.option("-l", "--list", "listing", is_flag=True, help="List every option set.")
@click.option("--show-origin", is_flag=True, help="Name the file each value comes from.")
@verbose_option
@quiet_stdout
def config(
    name: str | None,
    value: str | None,
    level: str | None,
    unset: bool,
    listing: bool,
    show_origin: bool,
    verbose: bool,
) -> None:
    """Get, set (NAME VALUE) or unset (-u NAME) an option: section.option or remote.NAME.option."""
    from ..config.levels import OptionName, get_option, level_path, levels_for, list_options
    from ..errors import ConfigError

    if show_origin and (value is not None or unset):
        raise ConfigError("--show-origin can't be used together with -u/--unset or a value")
    dvc_dir = _dvc_dir()
    if listing:
        if name or value or unset:
            raise ConfigError("-l/--list can't be used together with -u/--unset, name or value")
        for each in levels_for(level, dvc_dir):
            path = level_path(each, dvc_dir)
            for option, text in list_options(path):
                click.echo(f"{_origin(path, dvc_dir, show_origin)}{option}={text}")
        return
    if name is None:
        raise ConfigError("name the option: section.option or remote.NAME.option")
    option = OptionName.parse(name)
    if value is None and not unset:
        for each in reversed(levels_for(level, dvc_dir)):
            found = get_option(level_path(each, dvc_dir), option)
            if found is not None:
                click.echo(f"{_origin(level_path(each, dvc_dir), dvc_dir, show_origin)}{found}")
                return
        if level:
            raise ConfigError(f"option '{option}' is not set in the {level} config")
        return
    _change(dvc_dir, level or "repo", option, value, unset)


def _change(dvc_dir: str | None, level: str, option, value: str | None, unset: bool) -> None:  # noqa: ANN001
    from ..config.levels import level_path

    if level in ("repo", "local") and dvc_dir is not None:
        from ..ops.config_edit import edit_option
        from .session import run_verb

        run_verb(edit_option, level, option, None if unset else value)
        return
    from ..config.levels import set_option, unset_option

    path = level_path(level, dvc_dir)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if unset:
        unset_option(path, option)
    else:
        set_option(path, option, value or "")


def _dvc_dir() -> str | None:
    from ..errors import NotAProjectError
    from ..project import find_root

    try:
        return os.path.join(find_root("."), ".dvc")
    except NotAProjectError:
        return None


def _origin(path: str, dvc_dir: str | None, show: bool) -> str:
    """dvc names the project's files relative to the project, the others in full."""
    if not show:
        return ""
    inside = dvc_dir is not None and os.path.dirname(path) == dvc_dir
    return (os.path.relpath(path, os.path.dirname(dvc_dir)) if inside else path) + "\t"
