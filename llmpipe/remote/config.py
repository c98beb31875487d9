"""Remotes as configured in `.dvc/config` / `config.local`, plus llmpipe-only settings.

DVC rejects keys it does not know, so settings only llmpipe understands
(`encrypt`, `key_file`, `key_env`) live under the same section name in
`.llmpipe/config` (shared) or `.llmpipe/config.local` (this machine only).
Secrets (`secret_access_key`, `password`, …) always go to a `.local` file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import RemoteConfigError
from .configfile import ConfigFile, remote_section

if TYPE_CHECKING:
    from ..project import Project as Repo

LLMPIPE_KEYS = frozenset({"encrypt", "key_file", "key_env", "known_hosts"})
SECRET_KEYS = frozenset(
    {
        "access_key_id",
        "secret_access_key",
        "session_token",
        "password",
        "passphrase",
        "key_file",
        "account_key",
        "connection_string",
        "sas_token",
    }
)
_TRUE = {"true", "1", "yes", "on"}


@dataclass(frozen=True)
class RemoteConfig:
    """One remote: its name, its URL (local paths made absolute) and its options."""

    name: str
    url: str
    options: dict[str, str] = field(default_factory=dict)

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


def _paths(repo: Repo) -> dict[str, str]:
    return {
        "repo": os.path.join(repo.dvc_dir, "config"),
        "local": os.path.join(repo.dvc_dir, "config.local"),
        "llmpipe": os.path.join(repo.llmpipe_dir, "config"),
        "llmpipe-local": os.path.join(repo.llmpipe_dir, "config.local"),
    }


def _load_all(repo: Repo) -> list[ConfigFile]:
    return [ConfigFile.load(p) for p in _paths(repo).values()]


def _merged(repo: Repo) -> dict[str, dict[str, str]]:
    merged: dict[str, dict[str, str]] = {}
    for config in _load_all(repo):
        for section, values in config.sections.items():
            merged.setdefault(section, {}).update(values)
    return merged


def default_remote(repo: Repo) -> str | None:
    return _merged(repo).get("core", {}).get("remote")


def list_remotes(repo: Repo) -> list[RemoteConfig]:
    """Every configured remote (those with a URL), in configuration order."""
    found = []
    for section, values in _merged(repo).items():
        if section.startswith('remote "') and "url" in values:
            found.append(_make(repo, section[len('remote "') : -1], values))
    return found


def get_remote(repo: Repo, name: str | None = None) -> RemoteConfig:
    """Remote `name`, or the default; RemoteConfigError naming the fix when there is none."""
    name = name or default_remote(repo)
    if not name:
        raise RemoteConfigError(
            "no remote given and no default remote set: pass -r NAME, or run "
            "'llmpipe remote add -d NAME URL'"
        )
    values = _merged(repo).get(remote_section(name))
    if not values or "url" not in values:
        known = ", ".join(r.name for r in list_remotes(repo)) or "none"
        raise RemoteConfigError(
            f"remote '{name}' is not configured in .dvc/config (known remotes: {known}); "
            f"add it with 'llmpipe remote add {name} URL'"
        )
    return _make(repo, name, values)


def _make(repo: Repo, name: str, values: dict[str, str]) -> RemoteConfig:
    options = dict(values)
    return RemoteConfig(name, _absolute_url(repo, options.pop("url")), options)


def _absolute_url(repo: Repo, url: str) -> str:
    # DVC resolves a relative local path against the folder of the config file.
    if "://" in url or os.path.isabs(url):
        return url
    return os.path.normpath(os.path.join(repo.dvc_dir, url))


def config_url(repo: Repo, url: str, cwd: str | None = None) -> str:
    """`url` as `dvc remote add` stores it: relative local paths rebased onto `.dvc/`."""
    if "://" in url or os.path.isabs(url):
        return url
    absolute = os.path.abspath(os.path.join(cwd or os.getcwd(), url))
    return os.path.relpath(absolute, repo.dvc_dir).replace(os.sep, "/")


def _file_for(repo: Repo, key: str, local: bool) -> str:
    paths = _paths(repo)
    if key in LLMPIPE_KEYS:
        return paths["llmpipe-local" if local or key in SECRET_KEYS else "llmpipe"]
    return paths["local" if local or key in SECRET_KEYS else "repo"]


def add_remote(repo: Repo, name: str, url: str, default: bool, force: bool, local: bool) -> None:
    """Add remote `name` at `url` (RemoteConfigError if it exists and not `force`)."""
    path = _paths(repo)["local" if local else "repo"]
    config = ConfigFile.load(path)
    section = remote_section(name)
    if not force and any(remote_section(name) in c.sections for c in _load_all(repo)):
        raise RemoteConfigError(
            f"remote '{name}' already exists; use -f to overwrite it, or "
            f"'llmpipe remote modify {name} url URL'"
        )
    config.remove_section(section)
    config.set(section, "url", config_url(repo, url))
    if default:
        config.set("core", "remote", name)
    config.save()


def remove_remote(repo: Repo, name: str) -> None:
    """Remove remote `name` from every config file, and unset it as default."""
    section = remote_section(name)
    found = False
    for config in _load_all(repo):
        changed = config.remove_section(section)
        if config.get("core", "remote") == name:
            changed |= config.unset("core", "remote")
        if changed:
            found = True
            config.save()
    if not found:
        raise RemoteConfigError(f"remote '{name}' does not exist")


def set_default(repo: Repo, name: str | None, local: bool) -> None:
    """Make `name` the default remote (None: unset the default)."""
    config = ConfigFile.load(_paths(repo)["local" if local else "repo"])
    if name is None:
        config.unset("core", "remote")
    else:
        get_remote(repo, name)
        config.set("core", "remote", name)
    config.save()


def modify_remote(repo: Repo, name: str, key: str, value: str | None, local: bool = False) -> str:
    """Set (or with value None, unset) option `key` of remote `name`; returns the file used."""
    get_remote(repo, name)
    path = _file_for(repo, key, local)
    config = ConfigFile.load(path)
    section = remote_section(name)
    if value is None:
        if not config.unset(section, key):
            raise RemoteConfigError(f"remote '{name}' has no option '{key}' in {path}")
    else:
        if key == "url":
            value = config_url(repo, value)
        config.set(section, key, value)
    config.save()
    if path.endswith(os.path.join(".llmpipe", "config.local")):
        _ignore_llmpipe_local(repo)
    return path


def _ignore_llmpipe_local(repo: Repo) -> None:
    ignore = os.path.join(repo.llmpipe_dir, ".gitignore")
    try:
        with open(ignore, encoding="utf-8") as handle:
            text = handle.read()
    except FileNotFoundError:
        text = ""
    if "/config.local" not in text.splitlines():
        with open(ignore, "a", encoding="utf-8") as handle:
            handle.write(("" if not text or text.endswith("\n") else "\n") + "/config.local\n")
