"""Read `meta: {llmpipe: {resources: {...}, executor: ...}}` of a dvc.yaml stage.

dvc keeps `meta` free-form, so the file stays a valid dvc.yaml; llmpipe checks its
own part strictly at load time: unknown keys and values without a unit are errors.
Units follow Slurm's reading where a bare letter is given (`64G` = 64 GiB); `GB`
is decimal and `GiB` binary, as written.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ..errors import SpecError
from ..stage import Resources

EXECUTORS = ("local", "ray", "slurm")
# `checkpoints` is read and checked by `ckpt.spec` (docs/checkpoints.md).
META_KEYS = ("resources", "executor", "checkpoints")
RESOURCE_KEYS = ("cpus", "gpus", "memory", "time")

_MEMORY_UNITS = {
    "b": 1,
    "k": 1 << 10,
    "m": 1 << 20,
    "g": 1 << 30,
    "t": 1 << 40,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 1 << 10,
    "mib": 1 << 20,
    "gib": 1 << 30,
    "tib": 1 << 40,
}
_MEMORY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*$")
_TIME_PART = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_TIME_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_CLOCK = re.compile(r"^(?:(\d+)-)?(\d+):(\d{2})(?::(\d{2}))?$")


def read_placement(meta: Any) -> tuple[Resources, str | None]:
    """The resources and executor a stage's `meta` asks for; SpecError (no location)."""
    if not isinstance(meta, dict) or meta.get("llmpipe") is None:
        return Resources(), None
    own = meta["llmpipe"]
    if not isinstance(own, dict):
        raise SpecError(f"'meta.llmpipe' must be a mapping of {_keys(META_KEYS)}")
    _check_keys(own, META_KEYS, "meta.llmpipe")
    return _resources(own.get("resources")), _executor(own.get("executor"))


def _executor(value: Any) -> str | None:
    if value is None or value in EXECUTORS:
        return value
    raise SpecError(
        f"'meta.llmpipe.executor' is {value!r}; use one of {_keys(EXECUTORS)}"
        f"{_suggest(str(value), EXECUTORS)}"
    )


def _resources(raw: Any) -> Resources:
    if raw is None:
        return Resources()
    if not isinstance(raw, dict):
        raise SpecError(f"'meta.llmpipe.resources' must be a mapping of {_keys(RESOURCE_KEYS)}")
    _check_keys(raw, RESOURCE_KEYS, "meta.llmpipe.resources")
    return Resources(
        cpus=_cpus(raw.get("cpus")),
        gpus=_gpus(raw.get("gpus")),
        memory=None if raw.get("memory") is None else parse_memory(raw["memory"]),
        time=None if raw.get("time") is None else parse_time(raw["time"]),
    )


def _cpus(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise SpecError(f"'resources.cpus' must be a positive number, got {value!r}")
    return value


def _gpus(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise SpecError(f"'resources.gpus' must be a whole number (0 or more), got {value!r}")
    return value


def parse_memory(value: Any) -> int:
    """`64GB`, `512MiB`, `8G` → bytes; a number without a unit is refused as ambiguous."""
    match = _MEMORY.match(value) if isinstance(value, str) else None
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _MEMORY_UNITS:
        raise SpecError(
            f"'resources.memory' is {value!r}: write a size with a unit, such as 64GB,"
            " 512MiB or 8G (units: B, KB, MB, GB, TB, KiB, MiB, GiB, TiB; K, M, G, T"
            " are binary, as in Slurm)"
        )
    return math.ceil(float(match.group(1)) * _MEMORY_UNITS[unit])


def parse_time(value: Any) -> int:
    """`4h`, `1h30m`, `90s`, `2d`, `HH:MM[:SS]` or `D-HH:MM[:SS]` → whole seconds (> 0)."""
    text = value.strip().lower() if isinstance(value, str) else ""
    seconds = _clock_seconds(text)
    if seconds is None and text and _TIME_PART.sub("", text) == "":
        seconds = sum(float(n) * _TIME_UNITS[u] for n, u in _TIME_PART.findall(text))
    if not seconds or seconds <= 0:
        raise SpecError(
            f"'resources.time' is {value!r}: write a duration with a unit, such as 4h,"
            " 1h30m, 90s or 2d, or a clock time HH:MM:SS"
        )
    return math.ceil(seconds)


def _clock_seconds(text: str) -> float | None:
    match = _CLOCK.match(text)
    if match is None:
        return None
    days, hours, minutes, secs = (int(g) if g else 0 for g in match.groups())
    return days * 86400 + hours * 3600 + minutes * 60 + secs


def _check_keys(mapping: dict, allowed: tuple[str, ...], where: str) -> None:
    for key in mapping:
        if key not in allowed:
            raise SpecError(
                f"unknown key '{key}' in '{where}'{_suggest(str(key), allowed)};"
                f" allowed: {_keys(allowed)}"
            )


def _keys(names: tuple[str, ...]) -> str:
    return ", ".join(names)


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    import difflib  # only for this message

    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""
