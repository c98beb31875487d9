"""The policy's files: paths, reading the signed log, the YAML copy, appending a version."""

from __future__ import annotations

import os
from contextlib import AbstractContextManager
from typing import Any

from ...errors import PolicyError
from ...fsutil import append_durably, atomic_write_text, locked
from ..canonical import canonical_json, load_json

POLICY_FILE = "policy.yaml"
POLICY_LOG = "policy.log"
FORMAT = 1
_YAML_HEADER = (
    "# llmpipe access policy (version {version}). Do not edit by hand: change it with\n"
    "# 'llmpipe policy ...'; every version is signed by an admin and chained in policy.log.\n"
)


def policy_paths(root: str) -> tuple[str, str]:
    base = os.path.join(root, ".llmpipe")
    return os.path.join(base, POLICY_FILE), os.path.join(base, POLICY_LOG)


def has_policy(root: str) -> bool:
    """Whether policy files exist (see `policy_in_force` for whether one must)."""
    return any(os.path.exists(p) for p in policy_paths(root))


def read_log(log_path: str) -> list[dict[str, Any]]:
    """The envelopes of `log_path`, oldest first (unverified); PolicyError naming a bad line."""
    envelopes = []
    with open(log_path, "rb") as handle:
        for number, raw in enumerate(handle, 1):
            try:
                text = raw.decode("utf-8").rstrip("\n")
                envelope = load_json(text)
            except ValueError:  # not UTF-8, not JSON, or a number too long to read
                raise PolicyError(f"{log_path}:{number}: not a JSON policy version") from None
            if not isinstance(envelope, dict) or canonical_json(envelope).decode() != text:
                raise PolicyError(f"{log_path}:{number}: the line was edited (not canonical JSON)")
            envelopes.append(envelope)
    if not envelopes:
        raise PolicyError(f"{log_path} is empty: restore it from git")
    return envelopes


def check_yaml_matches(yaml_path: str, last: dict[str, Any]) -> None:
    """PolicyError unless the YAML copy holds exactly the last envelope of the log."""
    from ...yamlio import load_yaml_file

    try:
        current = load_yaml_file(yaml_path, error=PolicyError)
    except FileNotFoundError:
        raise PolicyError(f"{yaml_path} is missing: restore it from git") from None
    if current != last:
        current = current if isinstance(current, dict) else {}  # edited into a non-mapping
        fields = sorted(k for k in set(last) | set(current) if current.get(k) != last.get(k))
        raise PolicyError(
            f"{yaml_path} differs from signed version {last['version']} in policy.log "
            f"(fields: {', '.join(fields)}): it was edited by hand. Undo the edit "
            "(git checkout -- .llmpipe/policy.yaml) and use 'llmpipe policy ...' instead"
        )


def append_version(root: str, envelope: dict[str, Any]) -> None:
    """Append a signed, verified `envelope` to the log and make it the YAML copy."""
    yaml_path, log_path = policy_paths(root)
    append_durably(log_path, canonical_json(envelope) + b"\n")
    write_yaml(yaml_path, envelope)


def write_yaml(path: str, envelope: dict[str, Any]) -> None:
    from ...yamlio import dump_yaml

    text = _YAML_HEADER.format(version=envelope["version"]) + dump_yaml(envelope, width=1000)
    atomic_write_text(path, text)


def policy_lock(root: str) -> AbstractContextManager[None]:
    # Serializes read-verify-append, so two admins changing the policy at once
    # make versions n+1 and n+2 instead of two conflicting n+1.
    return locked(os.path.join(root, ".llmpipe", "tmp", "policy.lock"))
