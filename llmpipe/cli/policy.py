"""`llmpipe policy`: the signed access policy of the project (.llmpipe/policy.yaml)."""

from __future__ import annotations

import re
import sys

import click

from .render import emit_json, verbose_option
from .session import prompt_passphrase, run_verb


def _signing_key():  # noqa: ANN202
    from ..security.keys import load_key

    return load_key(passphrase=prompt_passphrase)


def _change(edit, done: str) -> None:  # noqa: ANN001
    from ..ops.policy import change

    policy = run_verb(change, _signing_key(), edit)
    click.echo(f"{done} (policy version {policy.version}). {_COMMIT}")


_COMMIT = "Commit .llmpipe/policy.yaml, .llmpipe/policy.log and .llmpipe/root.yaml."


def _default_member_name() -> str:
    import getpass

    try:
        name = getpass.getuser()
    except (KeyError, OSError):
        name = "admin"
    return re.sub(r"[^A-Za-z0-9_.@-]", "-", name).strip("-") or "admin"


@click.group()
def policy() -> None:
    """Who may register, promote, roll back, deploy, push, decrypt; gates (signed by admins)."""


@policy.command()
@click.option("--name", help="Your member name (default: your login name).")
@verbose_option
def init(name: str | None, verbose: bool) -> None:
    """Create the policy with the current key as its first admin."""
    from ..ops.policy import init as init_policy

    key = _signing_key()
    created = run_verb(init_policy, key, name or _default_member_name())
    member = next(iter(created.members))
    click.echo(f"Created .llmpipe/policy.yaml: '{member}' ({key.fingerprint}) is admin.")
    click.echo(f"Its key is the policy's root (pinned in .llmpipe/root.yaml). {_COMMIT}")


@policy.command(name="add-member")
@click.argument("name")
@click.argument("public_key")
@click.option("--role", "roles", multiple=True, help="Role(s) to grant at once.")
@verbose_option
def add_member(name: str, public_key: str, roles: tuple[str, ...], verbose: bool) -> None:
    """Add member NAME with PUBLIC_KEY (ed25519:..., from their 'llmpipe keys show')."""
    from ..security.policy.edits import add_member as edit

    _change(edit(name, public_key, roles), f"Added member '{name}'")


@policy.command(name="remove-member")
@click.argument("name")
@verbose_option
def remove_member(name: str, verbose: bool) -> None:
    """Remove member NAME and all their roles."""
    from ..security.policy.edits import remove_member as edit

    _change(edit(name), f"Removed member '{name}'")


@policy.command()
@click.argument("member")
@click.argument("role")
@verbose_option
def grant(member: str, role: str, verbose: bool) -> None:
    """Give MEMBER the role ROLE."""
    from ..security.policy.edits import grant as edit

    _change(edit(member, role), f"Granted '{role}' to {member}")


@policy.command()
@click.argument("member")
@click.argument("role")
@verbose_option
def revoke(member: str, role: str, verbose: bool) -> None:
    """Take the role ROLE from MEMBER."""
    from ..security.policy.edits import revoke as edit

    _change(edit(member, role), f"Revoked '{role}' from {member}")


@policy.command(name="set-role")
@click.argument("role")
@click.argument("permissions", nargs=-1)
@verbose_option
def set_role(role: str, permissions: tuple[str, ...], verbose: bool) -> None:
    """Define ROLE as exactly PERMISSIONS (e.g. register promote:staging push)."""
    from ..security.policy.edits import set_role as edit

    _change(
        edit(role, permissions),
        f"Role '{role}' now has: {' '.join(sorted(set(permissions))) or 'nothing'}",
    )


@policy.command(name="set-gates")
@click.argument("alias")
@click.argument("checks", nargs=-1)
@verbose_option
def set_gates(alias: str, checks: tuple[str, ...], verbose: bool) -> None:
    """Make CHECKS the gates of promotions to ALIAS (no CHECKS: remove its gates).

    Each check is one argument, e.g. 'metrics.accuracy >= current - 0.01'.
    """
    from ..registry.expr import validate
    from ..registry.names import check_alias
    from ..security.policy.edits import set_gates as edit

    check_alias(alias)
    for check in checks:
        validate(check)
    done = (
        f"Gates of '{alias}': {'; '.join(checks)}" if checks else f"Removed the gates of '{alias}'"
    )
    _change(edit(alias, checks), done)


@policy.command(name="require-signatures")
@click.option("--off", is_flag=True, help="Allow unsigned audit records again.")
@verbose_option
def require_signatures(off: bool, verbose: bool) -> None:
    """Make 'audit verify' fail on unsigned audit records."""
    from ..security.policy.edits import set_setting

    _change(
        set_setting("audit_requires_signature", not off),
        "Unsigned audit records are " + ("allowed" if off else "now refused by verify"),
    )


@policy.command(name="rotate-root")
@click.argument("new_root")
@verbose_option
def rotate_root(new_root: str, verbose: bool) -> None:
    """Move the policy's root to the admin NEW_ROOT (member name, key or fingerprint).

    Signed by the current root key; clones that pinned the old root follow it.
    """
    from ..ops.policy import rotate_root as rotate

    policy = run_verb(rotate, _signing_key(), new_root)
    holder = policy.member_for(policy.root)
    name = holder.name if holder else policy.root
    click.echo(
        f"The policy is now rooted at {name} ({policy.root}) "
        f"(policy version {policy.version}). {_COMMIT}"
    )


@policy.command()
@click.option("--json", "as_json", is_flag=True)
@verbose_option
def show(as_json: bool, verbose: bool) -> None:
    """Verify the policy and print members, roles and permissions."""
    from ..ops.policy import show as show_policy

    current = run_verb(show_policy)
    if as_json:
        emit_json(
            {
                "version": current.version,
                "hash": current.hash,
                "root": current.root,
                **current.to_body(),
            }
        )
        return
    click.echo(f"policy version {current.version} (signed by {current.signed_by})")
    click.echo(f"root: {current.root}")
    click.echo("members:")
    for member in current.members.values():
        click.echo(f"  {member.name}\t{', '.join(member.roles) or '-'}\t{member.fingerprint}")
    click.echo("roles:")
    for role, perms in current.roles.items():
        click.echo(f"  {role}\t{' '.join(perms)}")
    for name, value in current.settings.items():
        click.echo(f"setting {name}: {value}")
    if current.gates:
        click.echo("gates (checked by 'registry promote --to ALIAS'):")
    for alias, checks in current.gates.items():
        for check in checks:
            click.echo(f"  {alias}: {check}")


@policy.command()
@click.argument("action")
@click.option("--as", "who", help="Check another member (name, public key or fingerprint).")
@verbose_option
def check(action: str, who: str | None, verbose: bool) -> None:
    """Tell whether the current key may do ACTION (exit 0 allowed, 1 denied)."""
    from ..ops.policy import check as check_access

    decision = run_verb(check_access, action, who, prompt_passphrase)
    if decision.allowed:
        click.echo(f"allowed: {decision.reason}")
        return
    click.secho(f"denied: {decision.reason}", fg="red", err=True)
    sys.exit(1)
