"""Pages from the Jinja2 templates shipped in the package, autoescaped, with the filters
they share (numbers as `metrics show` prints them, hashes, times, durations)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import cache
from typing import Any

import jinja2

from ..compare.render import format_value


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("llmpipe.ui", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        value=format_value,
        short=short_hash,
        when=when,
        duration=duration,
        compact=compact_json,
        flat=flat_items,
    )
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def short_hash(value: str | None, size: int = 8) -> str:
    """The first `size` hex digits (keeping `.dir`), or '-'."""
    if not value:
        return "-"
    text = str(value)
    return text[:size] + (".dir" if text.endswith(".dir") else "")


def when(moment: datetime | str | None) -> str:
    """A timestamp in UTC, to the second."""
    if not moment:
        return "-"
    if isinstance(moment, str):
        try:
            moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
        except ValueError:
            return moment
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def flat_items(values: Any) -> list[tuple[str, str]]:
    """A params or metrics mapping as (dotted key, value as JSON) pairs; lists kept whole."""
    from ..metrics import flatten

    if not isinstance(values, dict):
        return [("", compact_json(values))]
    return [(key, compact_json(value)) for key, value in flatten(values, keep_lists=True).items()]


def compact_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
