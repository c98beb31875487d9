"""Differences between two revisions' flattened values, as DVC reports them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Change:
    """One key of one file: its value at the old and the new revision (None if absent)."""

    path: str
    key: str
    old: Any
    new: Any

    @property
    def changed(self) -> bool:
        """As dvc decides: the values differ (so 1 and 1.0, or 1 and true, do not)."""
        return bool(self.old != self.new)

    @property
    def diff(self) -> float | int | None:
        """new - old when both are numbers, booleans counted as 0 and 1 (as dvc); else None."""
        if isinstance(self.old, int | float) and isinstance(self.new, int | float):
            return self.new - self.old
        return None

    @property
    def relative(self) -> float | None:
        """diff / |old| for numbers (not booleans), or None when undefined."""
        diff = self.diff
        if diff is None or not self.old or isinstance(self.old, bool):
            return None
        return diff / abs(self.old)


def diff_values(
    old: dict[str, dict[str, Any]], new: dict[str, dict[str, Any]], include_all: bool = False
) -> list[Change]:
    """Changes between {path: {key: value}} snapshots, sorted by path and key.

    Unchanged keys are left out unless `include_all`.
    """
    changes = []
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path, {}), new.get(path, {})
        for key in sorted(set(before) | set(after)):
            change = Change(path, key, before.get(key), after.get(key))
            if include_all or change.changed:
                changes.append(change)
    return changes


def changes_to_json(changes: list[Change], stringify_lists: bool = False) -> dict[str, Any]:
    """DVC's `metrics diff --json` / `params diff --json` shape:

    {path: {key: {"old": x, "new": y, "diff": d}}}, "diff" only for numbers and booleans.
    """
    out: dict[str, dict[str, Any]] = {}
    for change in changes:
        entry = {
            "old": _json_value(change.old, stringify_lists),
            "new": _json_value(change.new, stringify_lists),
        }
        if change.diff is not None:
            entry["diff"] = change.diff
        out.setdefault(change.path, {})[change.key] = entry
    return out


def _json_value(value: Any, stringify_lists: bool) -> Any:
    # DVC prints list-valued params as their Python text ("[1, 2]").
    return str(value) if stringify_lists and isinstance(value, list) else value
