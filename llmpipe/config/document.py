"""Edit one settings file as `dvc config` and `dvc remote` do, keeping its comments.

dvc 3 rewrites the whole file on every edit: names and keys lower-cased, the
sections it had in file order, new ones after them in the order of dvc's
schema, every `remote "x"` (then `machine`, then `db`) section last, empty
plain sections dropped, values quoted by configobj, path options re-stored
relative to the file's folder, four-space indents. `ConfigDocument.save` writes
the same sections and values byte for byte, and in addition keeps what dvc
drops: comments (they travel with the section or key they precede) and
sections dvc does not know (left as they were, where they were).
"""

from __future__ import annotations

import os
from typing import Any

from ..fsutil import atomic_write_text, new_file_mode
from .dialect import (
    NAMED_KINDS,
    PLAIN_SECTIONS,
    as_text,
    is_known,
    is_path_key,
    named_kind,
    parse,
    stored_path,
    value_of,
)

_INDENT = "    "


class ConfigDocument:
    """One config file, loaded for editing; `save()` writes it back."""

    def __init__(self, path: str, conf: Any, existing: frozenset[str]) -> None:
        self.path = path
        self._conf = conf
        # Sections the file had when loaded; new ones are placed as dvc places them.
        self._existing = existing

    @classmethod
    def load(cls, path: str) -> ConfigDocument:
        """The file at `path` (a missing file is empty); ConfigError if it is malformed."""
        from configobj import ConfigObj

        conf = ConfigObj(interpolation=False, indent_type=_INDENT)
        parsed = parse(path)
        if parsed is not None:
            _copy_normalized(parsed, conf, path)
        return cls(path, conf, frozenset(conf.sections))

    @property
    def conf_dir(self) -> str:
        return os.path.dirname(os.path.abspath(self.path))

    def section_names(self) -> list[str]:
        """The file's sections, in file order."""
        return list(self._conf.sections)

    def get_section(self, section: str) -> dict[str, str]:
        """The options of `section` (empty when it is missing)."""
        if section not in self._conf.sections:
            return {}
        values = self._conf[section]
        return {key: as_text(values[key]) for key in values.scalars}

    def get(self, section: str, key: str) -> str | None:
        if section not in self._conf.sections or key not in self._conf[section]:
            return None
        return as_text(self._conf[section][key])

    def set(self, section: str, key: str, value: str, cwd: str | None = None) -> None:
        """Set `section.key`; a relative path option is taken relative to `cwd`, as dvc does."""
        if is_path_key(section, key):
            value = stored_path(self.conf_dir, value, cwd or os.getcwd())
        if section not in self._conf.sections:
            self._conf[section] = {}
        self._conf[section][key] = value

    def unset(self, section: str, key: str) -> bool:
        """Remove `section.key`; True if it was there. Its comment lines stay."""
        values = self._conf.get(section)
        if values is None or key not in values.scalars:
            return False
        _carry_comments(values, key, self._following_section(section))
        del values[key]
        return True

    def remove_section(self, section: str) -> bool:
        """Remove a whole section; True if it was there. Its comment lines stay."""
        if section not in self._conf.sections:
            return False
        _carry_comments(self._conf, section, None)
        del self._conf[section]
        return True

    def clear_section(self, section: str) -> None:
        """Empty `section` (created if missing), keeping its place and the comment above it."""
        if section not in self._conf.sections:
            self._conf[section] = {}
            return
        for key in list(self._conf[section].scalars):
            self.unset(section, key)

    def render(self) -> str:
        """The file's text as `save` writes it."""
        self._drop_empty_plain_sections()
        self._conf.sections = _dvc_order(self._conf.sections, self._existing)
        for name in self._conf.sections:
            _restore_paths(self._conf[name], name, self.conf_dir)
        lines = [line if line.strip() else "" for line in self._conf.write()]
        # configobj ends every file, even an empty one, with a newline; so does dvc.
        return "".join(line + "\n" for line in lines) or "\n"

    def save(self, mode: int | None = None) -> None:
        """Write the file atomically; a new file gets `mode` (default: the umask's, as dvc)."""
        existing = _mode_of(self.path)
        chosen = existing if existing is not None else (mode or new_file_mode())
        atomic_write_text(self.path, self.render(), chosen)

    def _following_section(self, section: str) -> Any | None:
        names = self._conf.sections
        index = names.index(section)
        return self._conf[names[index + 1]] if index + 1 < len(names) else None

    def _drop_empty_plain_sections(self) -> None:
        # dvc drops empty sections, except named ones (`['remote "x"']` stays, bare).
        for name in list(self._conf.sections):
            values = self._conf[name]
            if not values and named_kind(name) is None and is_known(name):
                self.remove_section(name)


def set_value(path: str, section: str, key: str, value: str) -> None:
    """Set one option in the file at `path` as `dvc config SECTION.KEY VALUE` does."""
    document = ConfigDocument.load(path)
    document.set(section, key, value)
    document.save()


def _copy_normalized(parsed: Any, conf: Any, path: str) -> None:
    """Copy `parsed` into `conf` as dvc would hold it, with every comment attached."""
    conf.initial_comment = list(parsed.initial_comment)
    conf.final_comment = list(parsed.final_comment)
    for key in parsed.scalars:
        conf[key] = value_of(parsed, key, path)
        _copy_comments(parsed, key, conf, key)
    for name in parsed.sections:
        # dvc lower-cases what it knows; a section it does not know is left as written.
        known = is_known(name.lower())
        section = name.lower() if known else name
        if section in conf.sections:
            conf[section].clear()
        else:
            conf[section] = {}
        _copy_comments(parsed, name, conf, section)
        _copy_section(parsed[name], conf[section], path, lower=known)


def _copy_section(source: Any, target: Any, path: str, lower: bool) -> None:
    for key in source.scalars:
        name = key.lower() if lower else key
        # dvc writes back what it read: interpolated values, lists as lists.
        target[name] = value_of(source, key, path)
        _copy_comments(source, key, target, name)
    for sub in source.sections:
        target[sub] = source[sub].dict()
        _copy_comments(source, sub, target, sub)


def _copy_comments(source: Any, key: str, target: Any, name: str) -> None:
    target.comments[name] = list(source.comments.get(key, []))
    target.inline_comments[name] = source.inline_comments.get(key)


def _carry_comments(container: Any, key: str, fallback: Any | None) -> None:
    """Move the comment lines above `key` to the entry after it, so that none is lost.

    After the last entry they go above the next section (`fallback`), or to the
    end of the file.
    """
    lines = container.comments.get(key) or []
    if not lines:
        return
    order = container.scalars + container.sections
    index = order.index(key)
    if index + 1 < len(order):
        following = order[index + 1]
        container.comments[following] = lines + container.comments.get(following, [])
    elif fallback is not None:
        _prepend_to_section(fallback, lines)
    else:
        # configobj writes the file's last comments as they are, unindented here.
        container.main.final_comment = [line.lstrip() for line in lines] + (
            container.main.final_comment
        )


def _prepend_to_section(section: Any, lines: list[str]) -> None:
    parent = section.parent
    parent.comments[section.name] = lines + parent.comments.get(section.name, [])


def _dvc_order(names: list[str], existing: frozenset[str]) -> list[str]:
    """Section names in the order dvc writes them (see the module docstring)."""
    plain = [n for n in names if named_kind(n) is None]
    old = [n for n in plain if n in existing]
    new = [n for n in plain if n not in existing]
    schema = {name: index for index, name in enumerate(PLAIN_SECTIONS)}
    new.sort(key=lambda n: schema.get(n, len(schema)))
    named = [n for kind in NAMED_KINDS for n in names if named_kind(n) == kind]
    return old + new + named


def _restore_paths(section: Any, name: str, conf_dir: str) -> None:
    """Re-store path options relative to the file's folder, normalized as dvc writes them."""
    for key in section.scalars:
        value = section[key]
        if isinstance(value, str) and is_path_key(name, key):
            section[key] = stored_path(conf_dir, value, conf_dir)


def _mode_of(path: str) -> int | None:
    try:
        return os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        return None
