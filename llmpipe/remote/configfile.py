"""Write `.dvc/config`-style files in configobj's dialect, byte for byte as `dvc` does.

DVC writes `[core]`, then `['remote "name"']` sections, keys indented by four
spaces, no blank lines, and drops a section once its last key is gone. Reading
for everyday use goes through `llmpipe.config`; this module exists for the
commands that change settings (`llmpipe remote …`).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..fsutil import atomic_write_text

_PLAIN_SECTION = re.compile(r"^[A-Za-z0-9_.-]+$")
_NEEDS_QUOTES = re.compile(r"""(^\s|\s$|[#,"'])""")


def remote_section(name: str) -> str:
    """The section name DVC uses for remote `name` (as `llmpipe.config` reports it)."""
    return f'remote "{name}"'


@dataclass
class ConfigFile:
    """An editable INI file: ordered sections of ordered key/value pairs."""

    path: str
    sections: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def load(cls, path: str) -> ConfigFile:
        """Parse `path` (a missing file is empty); comments are not preserved."""
        config = cls(path)
        try:
            with open(path, encoding="utf-8") as handle:
                lines = handle.read().splitlines()
        except FileNotFoundError:
            return config
        current: dict[str, str] | None = None
        for line in lines:
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            if text.startswith("[") and text.endswith("]"):
                current = config.sections.setdefault(_unquote(text[1:-1].strip()), {})
            elif "=" in text and current is not None:
                key, _, value = text.partition("=")
                current[key.strip()] = _unquote(value.strip())
        return config

    def get(self, section: str, key: str) -> str | None:
        return self.sections.get(section, {}).get(key)

    def set(self, section: str, key: str, value: str) -> None:
        self.sections.setdefault(section, {})[key] = value

    def unset(self, section: str, key: str) -> bool:
        """Remove `key`; drop the section when it becomes empty. True if it was there."""
        values = self.sections.get(section)
        if values is None or key not in values:
            return False
        del values[key]
        if not values:
            del self.sections[section]
        return True

    def remove_section(self, section: str) -> bool:
        return self.sections.pop(section, None) is not None

    def render(self) -> str:
        lines = []
        # DVC writes [core] before everything else.
        order = sorted(self.sections, key=lambda name: name != "core")
        for section in order:
            values = self.sections[section]
            if not values:
                continue
            lines.append(f"[{_quote_section(section)}]")
            lines.extend(f"    {key} = {_quote_value(value)}" for key, value in values.items())
        return "".join(line + "\n" for line in lines)

    def save(self) -> None:
        """Write the file atomically (its folder is created if needed)."""
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        atomic_write_text(self.path, self.render())


def _quote_section(name: str) -> str:
    return name if _PLAIN_SECTION.match(name) else f"'{name}'"


def _quote_value(value: str) -> str:
    if value == "":
        return '""'
    if not _NEEDS_QUOTES.search(value):
        return value
    return f"'{value}'" if '"' in value else f'"{value}"'


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text
