"""Read every settings file of a project once, as dvc reads its own, into one `Config`."""

from __future__ import annotations

import os
from typing import Any

from .dialect import as_text, is_path_key, parse, resolve_path, value_of
from .model import Config, ConfigFiles


def load_config(dvc_dir: str, llmpipe_dir: str) -> Config:
    """Merge `.dvc/config`, `.dvc/config.local`, `.llmpipe/config(.local)`; later wins.

    Missing files are empty; a malformed one raises ConfigError naming it.
    """
    files = ConfigFiles(dvc_dir, llmpipe_dir)
    sections: dict[str, dict[str, str]] = {}
    for path in files.in_order():
        for name, values in read_file(path).items():
            sections.setdefault(name, {}).update(values)
    return Config(sections, files)


def read_file(path: str) -> dict[str, dict[str, str]]:
    """The sections of one file: names and keys lower-cased, path options absolute."""
    if _blank(path):
        return {}  # `dvc init` leaves .dvc/config empty: configobj need not be loaded
    parsed = parse(path)
    if parsed is None:
        return {}
    conf_dir = os.path.dirname(os.path.abspath(path))
    sections: dict[str, dict[str, str]] = {}
    for name in parsed.sections:
        section = name.lower()
        # Like dvc's lower-casing dict: a later [Core] replaces an earlier [core].
        sections[section] = _values(parsed[name], section, conf_dir, path)
    return sections


def _blank(path: str) -> bool:
    """True for a missing file or one holding only whitespace; errors are left to `parse`."""
    try:
        with open(path, "rb") as handle:
            return not handle.read().strip()
    except FileNotFoundError:
        return True
    except OSError:
        return False


def _values(section: Any, name: str, conf_dir: str, path: str) -> dict[str, str]:
    values = {}
    for key in section.scalars:
        value = as_text(value_of(section, key, path))
        if is_path_key(name, key.lower()):
            value = resolve_path(conf_dir, value)
        values[key.lower()] = value
    return values
