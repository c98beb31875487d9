"""Read DVC's `.dvc/config` (+ `config.local`) and llmpipe's own settings.

DVC stores its config in configobj's INI dialect; section names such as
`'remote "origin"'` keep their quotes. Only reading lives here; commands that
change settings write through `write_option`.
"""

from __future__ import annotations

import configparser
import os
from dataclasses import dataclass, field

from .errors import ConfigError

DEFAULT_LINK_TYPES = ("reflink", "copy")


@dataclass(frozen=True)
class Config:
    sections: dict[str, dict[str, str]] = field(default_factory=dict)

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


def _normalize_section(name: str) -> str:
    # configobj writes nested names as 'remote "x"'; keep the inner form.
    return name.strip().strip("'")


def _read_ini(path: str, sections: dict[str, dict[str, str]]) -> None:
    if not os.path.exists(path):
        return
    parser = configparser.RawConfigParser(strict=False)
    try:
        with open(path, encoding="utf-8") as handle:
            parser.read_file((line.strip() + "\n" for line in handle), source=path)
    except configparser.Error as exc:
        raise ConfigError(f"{path}: not a valid config file: {exc}") from exc
    for section in parser.sections():
        target = sections.setdefault(_normalize_section(section), {})
        target.update({key: value.strip() for key, value in parser.items(section)})


def load_config(dvc_dir: str, llmpipe_dir: str) -> Config:
    """Merge `.dvc/config`, `.dvc/config.local` and `.llmpipe/config`, later wins."""
    sections: dict[str, dict[str, str]] = {}
    _read_ini(os.path.join(dvc_dir, "config"), sections)
    _read_ini(os.path.join(dvc_dir, "config.local"), sections)
    _read_ini(os.path.join(llmpipe_dir, "config"), sections)
    return Config(sections)
