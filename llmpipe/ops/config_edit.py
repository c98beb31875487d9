"""`config NAME VALUE` (and `-u`) on the project's own files, under the repository lock."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..config.levels import OptionName, level_path, set_option, unset_option
from ..run.repolock import repo_lock
from .audit import Outcome, Targets, audited

if TYPE_CHECKING:
    from ..project import Project


def describe_edit(edited: tuple[str, str, str | None]) -> tuple[Targets, Outcome]:
    level, name, value = edited
    return [{"level": level, "option": name, "set": value is not None}], Outcome()


@audited("config", describe=describe_edit)
def edit_option(
    project: Project, level: str, name: OptionName, value: str | None
) -> tuple[str, str, str | None]:
    """Set `name` to `value` in the `repo` or `local` config (None: unset it)."""
    path = level_path(level, project.dvc_dir)
    with repo_lock(project.tmp_dir):
        if value is None:
            unset_option(path, name)
        else:
            set_option(path, name, value)
    return level, str(name), value
