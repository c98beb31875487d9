"""Attacks on trust in history and identity (issue #12, items 3, 4, 6 and 11).

Each attack runs through the CLI against a real git repository and fails on
the code before its fix; the legitimate paths beside them stay open.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from security_helpers import use_key_file

from llmpipe.security import keys
from tests.conftest import Project

# fixtures


@pytest.fixture
def team(project: Project, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """alice (admin, first key: the root) and bob (contributor), committed; alice's key in use."""
    alice, bob = keys.generate_key("alice"), keys.generate_key("bob")
    use_key_file(monkeypatch, alice.path)
    project.ok("policy", "init", "--name", "alice")
    project.ok("policy", "add-member", "bob", bob.public_key, "--role", "contributor")
    project.commit("access policy")
    return project, alice, bob


# item 11: the identity comes from the private key


def test_policy_check_ignores_a_copied_pub_file(team, monkeypatch) -> None:  # noqa: ANN001
    project, alice, bob = team
    Path(bob.path).with_suffix(".pub").write_text(alice.public_key + "\n")
    use_key_file(monkeypatch, bob.path)
    denied = project.cli("policy", "check", "promote:production")
    assert denied.code == 1, denied.out
    assert "bob (contributor) lacks the permission" in denied.err
    assert bob.fingerprint in project.ok("keys", "show").out
