"""`config NAME [VALUE]` on the files dvc uses, level by level.

dvc's levels, from the widest: `system` (`/etc/xdg/dvc/config`), `global` (the
user's `~/.config/dvc/config`), `repo` (`.dvc/config`) and `local`
(`.dvc/config.local`); `DVC_SYSTEM_CONFIG_DIR` and `DVC_GLOBAL_CONFIG_DIR` move
the first two, as in dvc. A name is `section.option`, or `remote.NAME.option` (also
`db.`/`machine.`); dvc lower-cases them. Reading without a level answers from the
narrowest level that has the option.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

from ..errors import ConfigError
from .dialect import NAMED_KINDS, named_kind
from .document import ConfigDocument
from .model import global_config_dir, system_config_dir

LEVELS = ("system", "global", "repo", "local")
_NAME = re.compile(r"^(?P<top>(remote|db|machine)\.)?(?P<section>[^.]*)\.(?P<option>[^.]*)$")
# dvc 3's schema: the options each plain section accepts.
KNOWN_OPTIONS = {
    "core": {"analytics", "autostage", "check_update", "checksum_jobs", "experiments",
             "hardlink_lock", "interactive", "machine", "no_scm", "remote", "site_cache_dir"},
    "cache": {"azure", "dir", "gs", "hdfs", "local", "protected", "s3", "shared",
              "slow_link_warning", "ssh", "type", "verify", "webhdfs"},
    "state": {"dir", "row_cleanup_quota", "row_limit"},
    "index": {"dir"},
    "feature": {"machine"},
    "plots": {"auto_open", "html_template", "out_dir"},
    "exp": {"auto_push", "code", "data", "git_remote", "live", "metrics", "models", "params",
            "plots"},
    "parsing": {"bool", "list"},
    "hydra": {"config_dir", "config_module", "config_name", "enabled", "plugins_path"},
    "studio": {"offline", "repo_url", "token", "url"},
}  # fmt: skip


@dataclass(frozen=True)
class OptionName:
    """`section.option` (kind None) or `remote.NAME.option` (kind `remote`)."""

    kind: str | None
    section: str
    option: str

    @classmethod
    def parse(cls, name: str) -> OptionName:
        found = _NAME.match(name)
        if not found:
            raise ConfigError(
                f"'{name}' is not an option name: use section.option or remote.NAME.option"
            )
        top = found.group("top")
        return cls(top.strip(".") if top else None, found["section"].lower(),
                   found["option"].lower())  # fmt: skip

    @property
    def file_section(self) -> str:
        return f'{self.kind} "{self.section}"' if self.kind else self.section

    def __str__(self) -> str:
        return ".".join(p for p in (self.kind, self.section, self.option) if p)


def level_path(level: str, dvc_dir: str | None) -> str:
    """The file of `level`; ConfigError for a project level outside a project."""
    if level == "system":
        return os.path.join(system_config_dir(), "config")
    if level == "global":
        return os.path.join(global_config_dir(), "config")
    if dvc_dir is None:
        raise ConfigError(f"--{level} needs a project: run it inside one ('llmpipe init')")
    return os.path.join(dvc_dir, "config.local" if level == "local" else "config")


def levels_for(level: str | None, dvc_dir: str | None) -> list[str]:
    if level:
        return [level]
    return list(LEVELS) if dvc_dir else ["system", "global"]


def list_options(path: str) -> list[tuple[str, str]]:
    """(`section.option`, value) of every option in the file, as dvc lists them: named
    sections first (remotes, machines, dbs), then plain ones, each kind in file order."""
    document = ConfigDocument.load(path)
    found = []
    order = {kind: index for index, kind in enumerate(NAMED_KINDS)}
    sections = sorted(
        document.section_names(), key=lambda s: order.get(named_kind(s) or "", len(order))
    )
    for section in sections:
        kind = named_kind(section)
        prefix = f"{kind}.{section.split(chr(34))[1]}" if kind else section
        values = document.get_section(section)
        found += [(f"{prefix}.{key}", value) for key, value in values.items()]
    return found


def get_option(path: str, name: OptionName) -> str | None:
    return ConfigDocument.load(path).get(name.file_section, name.option)


def set_option(path: str, name: OptionName, value: str) -> None:
    """Set `name` in the file at `path`; ConfigError for an option dvc does not know."""
    if name.kind is None and name.option not in KNOWN_OPTIONS.get(name.section, ()):
        raise ConfigError(f"unknown option '{name}' (dvc refuses it: extra keys not allowed)")
    document = ConfigDocument.load(path)
    document.set(name.file_section, name.option, value)
    document.save()


def unset_option(path: str, name: OptionName) -> None:
    """Remove `name` from the file at `path`; ConfigError when it is not there."""
    document = ConfigDocument.load(path)
    if not document.unset(name.file_section, name.option):
        where = f"{name.kind} '{name.section}'" if name.kind else f"section '{name.section}'"
        raise ConfigError(f"option '{name.option}' doesn't exist in {where}")
    document.save()
