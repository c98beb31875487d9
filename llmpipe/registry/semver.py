"""Semantic versions `MAJOR.MINOR.PATCH` (an optional leading `v` is accepted)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import RegistryError

_SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)$")
BUMPS = ("major", "minor", "patch")


def parse(text: str) -> tuple[int, int, int]:
    """(major, minor, patch) of `text`; RegistryError when it is not a semantic version."""
    match = _SEMVER.match(text.strip())
    if not match:
        raise RegistryError(f"'{text}' is not a semantic version (MAJOR.MINOR.PATCH, e.g. 1.2.0)")
    major, minor, patch = (int(g) for g in match.groups())
    return major, minor, patch


def normalize(text: str) -> str:
    return "{}.{}.{}".format(*parse(text))


def next_version(existing: Iterable[str], bump: str = "patch") -> str:
    """The version after the highest of `existing` (0.1.0 for the first one)."""
    versions = [parse(v) for v in existing]
    if not versions:
        return "0.1.0"
    major, minor, patch = max(versions)
    if bump == "major":
        return f"{major + 1}.0.0"
    if bump == "minor":
        return f"{major}.{minor + 1}.0"
    if bump == "patch":
        return f"{major}.{minor}.{patch + 1}"
    raise RegistryError(f"unknown bump '{bump}': use major, minor or patch")
