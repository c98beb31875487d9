"""Choosing audit records by action: `promote`, `registry promote`, `promote:staging`.

A record names the command typed (`registry promote`); people think in the
policy's actions (`promote:staging`). An action matches a record whose command
is it, starts with it (`policy` finds `policy grant`) or ends with it (`promote`
finds `registry promote`). `X:Y` also needs the qualifier: a target with alias
`Y` (what a promotion touched) or a refusal of exactly `X:Y`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def action_matches(record: Mapping[str, Any], action: str) -> bool:
    """Whether `record` is of `action` (see the module's rules)."""
    refused = {str(r.get("action")) for r in record.get("refused") or [] if isinstance(r, Mapping)}
    if action in refused:
        return True
    base, _, qualifier = action.partition(":")
    command = str(record.get("command") or "")
    words = command.split()
    named = command == base or command.startswith(base + " ") or (bool(words) and words[-1] == base)
    if not named or not qualifier:
        return named
    targets = [t for t in record.get("targets") or [] if isinstance(t, Mapping)]
    return any(str(t.get("alias")) == qualifier for t in targets)
