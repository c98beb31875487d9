"""DVC's config dialect: how `.dvc/config` files are parsed, named and how paths are kept.

DVC reads its config with configobj (an INI dialect: `a, b` is a list, quotes
are optional, `%(key)s` interpolates another key of the section), lower-cases
every section name and key, and names remotes `remote "NAME"`. Path options
(`cache.dir`, a remote's `url`, …) are stored relative to the folder of the file
that holds them; reading makes them absolute again. Both the reader
(`read.py`) and the writer (`document.py`) follow the rules kept here.
"""

from __future__ import annotations

import os
import re
from typing import Any

from ..errors import ConfigError

# Sections dvc 3 knows that are not named, in the order of its schema: a section
# created by an edit lands among the new ones in this order.
PLAIN_SECTIONS = (
    "core",
    "cache",
    "state",
    "index",
    "feature",
    "plots",
    "exp",
    "parsing",
    "hydra",
    "studio",
)
# Named sections (`remote "x"`), written after every plain one, kind by kind.
NAMED_KINDS = ("remote", "machine", "db")
_NAMED = re.compile(r'^\s*(remote|machine|db)\s*"(.*)"\s*$')
_URL = re.compile(r"\w+://")

# The options dvc stores as paths relative to the config file's folder.
_PATH_KEYS = {
    "cache": frozenset({"dir"}),
    "remote": frozenset(
        {
            "url",
            "gdrive_user_credentials_file",
            "gdrive_service_account_json_file_path",
            "credentialpath",
            "configpath",
            "keyfile",
            "cert_path",
            "key_path",
        }
    ),
    "machine": frozenset({"startup_script", "setup_script"}),
}


def remote_section(name: str) -> str:
    """The section name DVC uses for remote `name`."""
    return f'remote "{name}"'


def named_kind(section: str) -> str | None:
    """'remote', 'machine' or 'db' for a named section; None for a plain one."""
    match = _NAMED.match(section)
    return match.group(1) if match else None


def remote_name(section: str) -> str | None:
    """The remote a section configures (`remote "x"` -> x), or None."""
    match = _NAMED.match(section)
    return match.group(2) if match and match.group(1) == "remote" else None


def is_known(section: str) -> bool:
    """True for a section dvc's schema has (it rejects a config with any other)."""
    return section in PLAIN_SECTIONS or named_kind(section) is not None


def is_path_key(section: str, key: str) -> bool:
    return key in _PATH_KEYS.get(named_kind(section) or section, ())


def _is_portable(value: str) -> bool:
    """URLs, absolute paths and `~` paths are stored as they were given."""
    return bool(_URL.match(value)) or os.path.isabs(os.path.expanduser(value))


def resolve_path(conf_dir: str, value: str) -> str:
    """A stored path option as dvc reads it: relative to `conf_dir`, `~` expanded."""
    if _URL.match(value):
        return value
    expanded = os.path.expanduser(value)
    if os.path.isabs(expanded):
        return expanded
    return os.path.abspath(os.path.join(conf_dir, value))


def stored_path(conf_dir: str, value: str, base: str) -> str:
    """`value` (relative to `base`) as dvc stores it in a file in `conf_dir`."""
    if _is_portable(value):
        return value
    absolute = os.path.abspath(os.path.join(base, value))
    return os.path.relpath(absolute, os.path.abspath(conf_dir)).replace(os.sep, "/")


def parse(path: str) -> Any | None:
    """The file at `path` as configobj reads it for dvc (comments kept); None if missing.

    Raises ConfigError naming the file when it is not valid.
    """
    from configobj import ConfigObj, ConfigObjError

    try:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the config file: {exc}") from None
    try:
        return ConfigObj(lines)
    except ConfigObjError as exc:
        raise ConfigError(f"{path}: not a valid config file: {exc}") from None


def value_of(section: Any, key: str, path: str) -> Any:
    """`section[key]` as dvc reads it (`%(other)s` interpolated); ConfigError if it cannot."""
    from configobj import ConfigObjError

    try:
        return section[key]
    except ConfigObjError as exc:
        raise ConfigError(f"{path}: [{section.name}] {key}: {exc}") from None


def as_text(value: Any) -> str:
    """A read value as text: a list (unquoted commas) reads as its items joined by ','."""
    return ",".join(value) if isinstance(value, list) else str(value)
