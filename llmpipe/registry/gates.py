"""Promotion gates: which checks judge a promotion, and re-judging recorded promotions.

With an access policy, the gates are part of it (`llmpipe policy set-gates ALIAS
CHECK...`): signed by an admin and versioned with the policy chain, so editing
a file passes no gate. `.llmpipe/registry.yaml` may then hold no `gates:`
(an error says how to move them). Without a policy (an open project, where
anyone with a key may do anything) the gates come from registry.yaml as before.

Each promotion records the checks it was judged by and `gates_version`, the
policy version that defined them (None in an open project). `registry verify`
re-judges every promotion that names a version: the recorded checks must be
that version's gates for the alias, must pass on the replayed state unless an
admin forced them, and a promotion may not name an older policy version than
an earlier promotion did (nor none at all after one did).
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, LlmpipeError, RegistryError
from .expr import CheckResult, evaluate
from .state import RegistryState, apply

if TYPE_CHECKING:
    from ..security.policy.model import Policy


@dataclass(frozen=True)
class Gates:
    checks: tuple[str, ...]
    version: int | None = None  # the policy version defining them; None: registry.yaml


def gates_for(root: str, alias: str) -> Gates:
    """The gates of promotions to `alias` in the project at `root`.

    ConfigError when the project has a policy and registry.yaml still holds gates.
    """
    from ..security.policy.load import load_policy, policy_in_force
    from .config import CONFIG_FILE, load_config

    config = load_config(root)
    if not policy_in_force(root):
        return Gates(config.gates_for(alias))
    if config.gates:
        raise ConfigError(_move_gates_message(f".llmpipe/{CONFIG_FILE}", config.gates))
    policy = load_policy(root)
    return Gates(policy.gates_for(alias), policy.version)


def _move_gates_message(path: str, gates: Mapping[str, tuple[str, ...]]) -> str:
    commands = [
        "  llmpipe policy set-gates " + " ".join(shlex.quote(w) for w in (alias, *checks))
        for alias, checks in gates.items()
    ]
    return (
        f"{path} has 'gates:', but in a project with an access policy the gates are part "
        "of the signed access policy (so that editing a file cannot pass a failed gate). "
        "An admin moves them with:\n"
        + "\n".join(commands)
        + f"\nthen deletes the 'gates:' section of {path} ('url' and 'monitor' stay there)"
    )


def gate_checks(
    state: RegistryState, name: str, version: str, alias: str, gates: Sequence[str]
) -> list[CheckResult]:
    """Each gate evaluated for promoting `version` of `name` to `alias` in `state`."""
    model = state.model(name)
    candidate = model.resolve(version)
    holder = model.aliases.get(alias)
    current = model.versions[holder].metrics if holder else None
    scopes = {"metrics": candidate.metrics, "current": current, "registered": candidate.metrics}
    return [evaluate(gate, scopes) for gate in gates]


def judged_by(state: RegistryState) -> int | None:
    """The highest policy version whose gates judged a promotion in `state` (None: none did)."""
    found = [
        event["data"].get("gates_version")
        for model in state.models.values()
        for event in model.of_type("promote")
    ]
    versions = [v for v in found if _is_version(v)]
    return max(versions) if versions else None


def check_not_older(state: RegistryState, gates: Gates) -> None:
    """RegistryError when the log was judged by a newer policy than the one at hand."""
    newest = judged_by(state)
    if newest is None or (gates.version is not None and gates.version >= newest):
        return
    here = f"version {gates.version}" if gates.version else "missing"
    raise RegistryError(
        f"an earlier promotion was judged by the gates of policy version {newest}, but the "
        f"access policy here is {here}: update .llmpipe/policy.yaml and policy.log "
        "(git pull) and try again"
    )


def promotion_faults(
    events: Sequence[Mapping[str, Any]], history: Sequence[Policy], where: str
) -> list[str]:
    """What is wrong with each promotion's gates, re-judged on the replayed log.

    `history` is every version of the policy, oldest first. The events must
    replay (verify checks that first).
    """
    state, newest, faults = RegistryState(), None, []
    for event in events:
        if event.get("type") == "promote":
            fault = _promotion_fault(state, event, history, newest)
            if fault:
                faults.append(f"event {event.get('seq')} (promote {event.get('model')}): {fault}")
            recorded = event["data"].get("gates_version")
            if _is_version(recorded):
                newest = max(newest or 0, recorded)
        apply(state, event, where)
    return faults


def _promotion_fault(
    state: RegistryState,
    event: Mapping[str, Any],
    history: Sequence[Policy],
    newest: int | None,
) -> str:
    data = event["data"]
    version = data.get("gates_version")
    if version is None:
        if newest is None:
            return ""  # before gates were signed (an open project, or an older llmpipe)
        return (
            "records no gates_version, but an earlier promotion was judged by the gates "
            f"of policy version {newest}"
        )
    if not _is_version(version) or version > len(history):
        return (
            f"names the gates of policy version {version!r}, which this clone's policy does "
            "not have (update .llmpipe/policy.* with git pull)"
        )
    if newest is not None and version < newest:
        return (
            f"judged by the gates of policy version {version}, older than policy version "
            f"{newest} that judged an earlier promotion"
        )
    return _judgement_fault(state, event, history[version - 1])


def _judgement_fault(state: RegistryState, event: Mapping[str, Any], policy: Policy) -> str:
    data, alias = event["data"], str(event["data"]["alias"])
    expected = policy.gates_for(alias)
    recorded = data.get("gates")
    if not isinstance(recorded, list) or not all(isinstance(g, Mapping) for g in recorded):
        return "its 'gates' are malformed"
    if tuple(str(g.get("check")) for g in recorded) != expected:
        return (
            f"records gates {[g.get('check') for g in recorded]}, not the gates of policy "
            f"version {policy.version} for '{alias}' {list(expected)}"
        )
    if data.get("forced"):
        return ""  # past failed gates by an admin: verify checks the 'admin' permission
    try:
        checks = gate_checks(state, str(event["model"]), str(data["version"]), alias, expected)
    except LlmpipeError as exc:
        return f"its gates cannot be evaluated: {exc}"
    failed = [c for c in checks if not c.passed]
    return f"promoted without --force, but a gate failed: {failed[0].describe()}" if failed else ""


def _is_version(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1
