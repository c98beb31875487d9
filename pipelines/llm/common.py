"""Shared helpers of the reference LLM pipeline: params, validation, atomic writes, entry points.

The stage code deliberately depends only on PyYAML, pyarrow, numpy and (for the
model stages) torch, so that `dvc repro` runs it exactly as `llmpipe repro` does.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

EXIT_BAD_INPUT = 2


class PipelineError(Exception):
    """Bad input or an impossible request: reported as one line, exit status 2."""


@dataclass(frozen=True)
class Field:
    """One allowed param: its type(s), an inclusive numeric range and allowed choices."""

    types: tuple[type, ...]
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None


def load_params(path: str, section: str) -> dict[str, Any]:
    """Return `section` of the params file at `path` (a mapping) or raise PipelineError."""
    import yaml

    if not os.path.exists(path):
        raise PipelineError(f"params file '{path}' does not exist")
    try:
        with open(path, encoding="utf-8") as handle:
            document = yaml.safe_load(handle) or {}
    except yaml.YAMLError as exc:
        raise PipelineError(f"params file '{path}' is not valid YAML: {exc}") from None
    value = document.get(section) if isinstance(document, dict) else None
    if not isinstance(value, dict):
        raise PipelineError(f"params file '{path}' has no '{section}' section (a mapping)")
    return value


def validate(section: str, values: Mapping[str, Any], schema: Mapping[str, Field]) -> None:
    """Check every key of `values` against `schema`; PipelineError naming the first bad one."""
    for key in values:
        if key not in schema:
            raise PipelineError(
                f"params '{section}.{key}' is not a known setting; valid: {', '.join(schema)}"
            )
    for key, field in schema.items():
        if key not in values:
            raise PipelineError(f"params '{section}.{key}' is missing")
        _check_field(f"{section}.{key}", values[key], field)


def _check_field(name: str, value: Any, field: Field) -> None:
    # bool is an int subclass; a `true` where a number belongs is a typo, not a 1.
    wrong_bool = isinstance(value, bool) and bool not in field.types
    if wrong_bool or not isinstance(value, field.types):
        expected = " or ".join("null" if t is type(None) else t.__name__ for t in field.types)
        raise PipelineError(f"params '{name}' must be {expected}, got {value!r}")
    if field.choices is not None and value not in field.choices:
        allowed = ", ".join(repr(c) for c in field.choices)
        raise PipelineError(f"params '{name}' must be one of {allowed}, got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if field.low is not None and value < field.low:
            raise PipelineError(f"params '{name}' must be at least {field.low}, got {value!r}")
        if field.high is not None and value > field.high:
            raise PipelineError(f"params '{name}' must be at most {field.high}, got {value!r}")


def sha256_json(value: Any) -> str:
    """A stable hash of a JSON-serialisable value (keys sorted)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def atomic_write_bytes(path: str, data: bytes) -> None:
    """Write `data` to `path` through a temp file, fsync and rename: readers never see half."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would surprise readers of outputs
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def remove_stale_temps(path: str) -> None:
    """Delete temp files an interrupted `atomic_write_bytes(path, ...)` left beside `path`."""
    directory, name = os.path.split(path)
    for stale in glob.glob(
        os.path.join(glob.escape(directory or "."), f".{glob.escape(name)}.*.tmp")
    ):
        os.unlink(stale)


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current


def atomic_write_text(path: str, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str, value: Any) -> None:
    """Atomically write indented, key-sorted JSON (stable bytes for stable hashes)."""
    atomic_write_text(path, json.dumps(value, indent=2, sort_keys=True) + "\n")


def read_json(path: str, what: str) -> Any:
    """Read a JSON file the previous stage wrote; PipelineError naming `what` when unusable."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise PipelineError(
            f"{what} '{path}' does not exist; run the stage that writes it"
        ) from None
    except json.JSONDecodeError as exc:
        raise PipelineError(f"{what} '{path}' is not valid JSON: {exc}") from None


def git_commit() -> dict[str, Any]:
    """The current git commit and whether the work tree is dirty ('none' outside git)."""
    try:
        commit = _git("rev-parse", "HEAD")
        dirty = bool(_git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.CalledProcessError):
        return {"commit": "none", "dirty": False}
    return {"commit": commit, "dirty": dirty}


def _git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout.strip()


class Progress:
    """Progress lines of a long loop: `evaluate: scoring 12/64 batches, 3.1 batches/s, ETA 17s`.

    Printed for the first item, then at most every `every` seconds, and for the last
    one, so a slow (or busy) machine shows its stage is alive and how long it will take.
    """

    def __init__(self, label: str, total: int, unit: str, every: float = 5.0) -> None:
        self.label, self.total, self.unit, self.every = label, total, unit, every
        self.started = time.perf_counter()
        self.printed: float | None = None

    def step(self, done: int) -> None:
        """Report that `done` of `total` items are finished (prints when it is time)."""
        now = time.perf_counter()
        if done < self.total and self.printed is not None and now - self.printed < self.every:
            return
        self.printed = now
        line = progress_line(self.label, done, self.total, self.unit, now - self.started)
        print(line, flush=True)


def progress_line(label: str, done: int, total: int, unit: str, elapsed: float) -> str:
    """`label done/total unit, R unit/s, ETA Ns` (rate and ETA once something is done)."""
    line = f"{label} {done}/{total} {unit}"
    if done and elapsed > 0:
        rate = done / elapsed
        eta = (total - done) / rate
        line += f", {rate:.3g} {unit}/s, " + ("done" if done >= total else f"ETA {eta:.0f}s")
    return line


def stage_main(
    description: str,
    body: Callable[[argparse.Namespace], None],
    add_arguments: Callable[[argparse.ArgumentParser], None],
) -> None:
    """Parse arguments and run `body`; a PipelineError becomes one stderr line and exit 2."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--params", default="params.yaml", help="params file (default: %(default)s)"
    )
    add_arguments(parser)
    args = parser.parse_args()
    try:
        body(args)
    except PipelineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(EXIT_BAD_INPUT)
