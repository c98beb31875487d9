"""The project's settings as values: `Config` (every file merged) and `RemoteConfig`."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from functools import cached_property
from typing import NamedTuple

from ..errors import RemoteConfigError
from .dialect import remote_name, remote_section

DEFAULT_LINK_TYPES = ("reflink", "copy")
_TRUE = {"true", "1", "yes", "on"}


def system_config_dir() -> str:
    """dvc's system-wide config folder: `$DVC_SYSTEM_CONFIG_DIR`, else platformdirs'
    site config dir for dvc (the first of `$XDG_CONFIG_DIRS`, default /etc/xdg, + /dvc)."""
    if os.environ.get("DVC_SYSTEM_CONFIG_DIR"):
        return os.environ["DVC_SYSTEM_CONFIG_DIR"]
    if sys.platform == "darwin":
        return "/Library/Application Support/dvc"
    dirs = os.environ.get("XDG_CONFIG_DIRS", "").strip() or "/etc/xdg"
    return os.path.join(dirs.split(os.pathsep)[0], "dvc")


def global_config_dir() -> str:
    """dvc's per-user config folder: `$DVC_GLOBAL_CONFIG_DIR`, else platformdirs' user
    config dir for dvc (`$XDG_CONFIG_HOME`, default ~/.config, + /dvc)."""
    if os.environ.get("DVC_GLOBAL_CONFIG_DIR"):
        return os.environ["DVC_GLOBAL_CONFIG_DIR"]
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Application Support/dvc")
    home = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.expanduser("~/.config")
    return os.path.join(home, "dvc")


class ConfigFiles(NamedTuple):
    """Where a project's settings live, in the order they shadow each other.

    dvc's system and global (per-user) files, the project's `.dvc/config`
    (committed) and `.dvc/config.local` (this machine), then llmpipe's own
    `.llmpipe/config` and `.llmpipe/config.local`: dvc rejects keys it does not
    know, so settings only llmpipe reads go to llmpipe's files.
    (NamedTuples, not dataclasses, here: each dataclass costs ~0.35 ms at start-up.)
    """

    dvc_dir: str
    llmpipe_dir: str

    @property
    def repo(self) -> str:
        return os.path.join(self.dvc_dir, "config")

    @property
    def local(self) -> str:
        return os.path.join(self.dvc_dir, "config.local")

    @property
    def llmpipe(self) -> str:
        return os.path.join(self.llmpipe_dir, "config")

    @property
    def llmpipe_local(self) -> str:
        return os.path.join(self.llmpipe_dir, "config.local")

    @property
    def system(self) -> str:
        return os.path.join(system_config_dir(), "config")

    @property
    def user(self) -> str:
        return os.path.join(global_config_dir(), "config")

    def in_order(self) -> tuple[str, ...]:
        return (self.system, self.user, self.repo, self.local, self.llmpipe, self.llmpipe_local)


class RemoteConfig(NamedTuple):
    """One remote: its name, its URL (local paths made absolute) and its options.

    `options` is read-only: the default `{}` is shared by every remote built without.
    """

    name: str
    url: str
    options: dict[str, str] = {}  # never mutated (see above)

    def flag(self, key: str) -> bool:
        return self.options.get(key, "").strip().lower() in _TRUE

    @property
    def encrypt(self) -> bool:
        return self.flag("encrypt")

    @property
    def verify(self) -> bool:
        """Check each download against its hash; on unless `verify` is set false.

        `verify` is DVC's own key (so dvc reads it too), but dvc defaults it to false.
        """
        raw = self.options.get("verify")
        return raw is None or raw.strip().lower() in _TRUE

    @property
    def jobs(self) -> int | None:
        raw = self.options.get("jobs")
        return int(raw) if raw and raw.isdigit() else None


class Config:
    """Every settings file merged (later files win), section by section.

    Section names are dvc's (`core`, `remote "origin"`), keys lower-case; path
    options (`cache.dir`, remote URLs) are absolute, resolved against the folder
    of the file that set them. `files` says where the values were read from.
    Read-only once built. A plain class, not a dataclass (~0.3 ms at every start-up);
    nothing compares or prints it.
    """

    def __init__(
        self,
        sections: Mapping[str, Mapping[str, str]] | None = None,
        files: ConfigFiles | None = None,
    ) -> None:
        self.sections: Mapping[str, Mapping[str, str]] = {} if sections is None else sections
        self.files = files

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        return self.sections.get(section, {}).get(key, default)

    @property
    def link_types(self) -> tuple[str, ...]:
        raw = self.get("cache", "type")
        if not raw:
            return DEFAULT_LINK_TYPES
        return tuple(part.strip() for part in raw.split(",") if part.strip())

    @property
    def cache_dir(self) -> str | None:
        return self.get("cache", "dir")

    @property
    def hash_name(self) -> str:
        return self.get("llmpipe", "hash", "md5") or "md5"

    @property
    def jobs(self) -> int | None:
        raw = self.get("llmpipe", "jobs")
        return int(raw) if raw else None

    @property
    def default_remote(self) -> str | None:
        return self.get("core", "remote")

    @cached_property
    def remotes(self) -> dict[str, RemoteConfig]:
        """Every configured remote (those with a URL) by name, in configuration order."""
        found = {}
        for section, values in self.sections.items():
            name = remote_name(section)
            if name is not None and "url" in values:
                options = dict(values)
                found[name] = RemoteConfig(name, options.pop("url"), options)
        return found

    def remote(self, name: str | None = None) -> RemoteConfig:
        """Remote `name`, or the default; RemoteConfigError naming the fix when there is none."""
        name = name or self.default_remote
        if not name:
            raise RemoteConfigError(
                "no remote given and no default remote set: pass -r NAME, or run "
                "'llmpipe remote add -d NAME URL'"
            )
        found = self.remotes.get(name)
        if found is None:
            known = ", ".join(self.remotes) or "none"
            raise RemoteConfigError(
                f"remote '{name}' is not configured in .dvc/config (known remotes: {known}); "
                f"add it with 'llmpipe remote add {name} URL'"
            )
        return found

    def has_remote_section(self, name: str) -> bool:
        """True when any file has a section for remote `name`, even one without a URL."""
        return remote_section(name) in self.sections
