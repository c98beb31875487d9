"""Canonical JSON: the one byte form of a value that is hashed and signed.

Keys sorted, no insignificant whitespace, UTF-8, no NaN. Two equal values
always give the same bytes, so a signature over them survives a round trip
through YAML or JSON.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> bytes:
    """The canonical bytes of a JSON-compatible value (raises ValueError on NaN)."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def load_json(raw: bytes | str) -> Any:
    """`json.loads`, refusing `NaN`/`Infinity` (not JSON; Python's reader takes them, and
    no canonical form holds them): ValueError, as for any text that is not JSON."""
    return json.loads(raw, parse_constant=_not_json)


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON value")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def value_hash(value: Any) -> str:
    """`sha256:<hex>` of the canonical JSON of `value`."""
    return "sha256:" + sha256_hex(canonical_json(value))
