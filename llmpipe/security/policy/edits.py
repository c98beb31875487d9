"""Edits of the policy body, each made by a function and applied by `change.change_policy`.

An edit's arguments are checked when it is made; what depends on the current
body (an existing member, a known role) when it is applied.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...errors import PolicyError
from ..keys import public_key_bytes
from .model import GATE_ALIAS, check_name, is_check_list

PolicyEdit = Callable[[dict[str, Any]], None]


def add_member(name: str, public_key: str, roles: tuple[str, ...] = ()) -> PolicyEdit:
    check_name(name, "member")
    public_key_bytes(public_key)

    def edit(body: dict[str, Any]) -> None:
        if name in body["members"]:
            raise PolicyError(f"'{name}' is already a member")
        for member, entry in body["members"].items():
            if entry["key"] == public_key:
                raise PolicyError(f"that key already belongs to member '{member}'")
        _check_roles_exist(body, roles)
        body["members"][name] = {"key": public_key, "roles": list(roles)}

    return edit


def remove_member(name: str) -> PolicyEdit:
    def edit(body: dict[str, Any]) -> None:
        _member(body, name)
        del body["members"][name]

    return edit


def grant(name: str, role: str) -> PolicyEdit:
    def edit(body: dict[str, Any]) -> None:
        member = _member(body, name)
        _check_roles_exist(body, (role,))
        if role in member["roles"]:
            raise PolicyError(f"{name} already has the role '{role}'")
        member["roles"] = [*member["roles"], role]

    return edit


def revoke(name: str, role: str) -> PolicyEdit:
    def edit(body: dict[str, Any]) -> None:
        member = _member(body, name)
        if role not in member["roles"]:
            raise PolicyError(
                f"{name} does not have the role '{role}' "
                f"(roles: {', '.join(member['roles']) or 'none'})"
            )
        member["roles"] = [r for r in member["roles"] if r != role]

    return edit


def set_role(role: str, permissions: tuple[str, ...]) -> PolicyEdit:
    check_name(role, "role")

    def edit(body: dict[str, Any]) -> None:
        body["roles"][role] = sorted(set(permissions))

    return edit


def set_setting(name: str, value: Any) -> PolicyEdit:
    def edit(body: dict[str, Any]) -> None:
        body["settings"][name] = value

    return edit


def set_gates(alias: str, checks: tuple[str, ...]) -> PolicyEdit:
    """Make `checks` the gates of promotions to `alias` (none: remove its gates).

    Only the form is checked here; the registry's expression parser checks
    each check's syntax before the edit (the CLI does).
    """
    if not GATE_ALIAS.fullmatch(alias):
        raise PolicyError(
            f"'{alias}' is not a valid alias name: a letter or digit, then letters, "
            "digits, '_', '-'"
        )
    if checks and not is_check_list(list(checks)):
        raise PolicyError("a gate must be a non-empty check, e.g. 'metrics.accuracy >= 0.8'")

    def edit(body: dict[str, Any]) -> None:
        gates = dict(body.get("gates") or {})
        if checks:
            gates[alias] = list(checks)
        elif alias not in gates:
            raise PolicyError(f"'{alias}' has no gates to remove")
        else:
            del gates[alias]
        body.pop("gates", None)
        if gates:
            body["gates"] = gates

    return edit


def _member(body: dict[str, Any], name: str) -> dict[str, Any]:
    if name not in body["members"]:
        known = ", ".join(sorted(body["members"])) or "none"
        raise PolicyError(f"no member named '{name}' (members: {known})")
    return body["members"][name]


def _check_roles_exist(body: dict[str, Any], roles: tuple[str, ...]) -> None:
    for role in roles:
        if role not in body["roles"]:
            raise PolicyError(f"no role named '{role}' (roles: {', '.join(sorted(body['roles']))})")
