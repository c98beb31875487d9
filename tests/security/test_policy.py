"""The signed, hash-chained access policy."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from security_helpers import use_key_file

from llmpipe.errors import AccessError, PolicyError
from llmpipe.security import keys, policy
from llmpipe.security.canonical import canonical_json, value_hash
from llmpipe.security.policy.store import write_yaml


@pytest.fixture
def team(project, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    """A project whose policy has alice (admin) and bob (contributor); alice's key in use."""
    alice, bob = keys.generate_key("alice"), keys.generate_key("bob")
    use_key_file(monkeypatch, alice.path)
    project.ok("policy", "init", "--name", "alice")
    project.ok("policy", "add-member", "bob", bob.public_key, "--role", "contributor")
    return project, alice, bob


def log_lines(root: Path) -> list[dict]:
    return [
        json.loads(line) for line in (root / ".llmpipe" / "policy.log").read_text().splitlines()
    ]


def test_init_makes_current_key_admin(team) -> None:  # noqa: ANN001
    project, alice, bob = team
    current = policy.load_policy(str(project.path))
    assert current.version == 2
    assert current.member_for(alice.fingerprint).roles == ("admin",)
    assert current.allows(alice.public_key, "promote:production")
    assert current.allows(bob.fingerprint, "promote:staging")
    assert not current.allows(bob.fingerprint, "promote:production")
    assert not current.allows(None, "push")


def test_every_change_is_signed_and_chained(team) -> None:  # noqa: ANN001
    project, alice, _ = team
    project.ok("policy", "grant", "bob", "maintainer")
    project.ok("policy", "revoke", "bob", "contributor")
    versions = log_lines(project.path)
    assert [v["version"] for v in versions] == [1, 2, 3, 4]
    assert versions[0]["previous"] is None
    for earlier, later in zip(versions, versions[1:], strict=False):
        assert later["previous"] == value_hash(earlier)
    for version in versions:
        unsigned = {k: v for k, v in version.items() if k != "signature"}
        assert version["signed_by"] == alice.fingerprint
        assert keys.verify_signature(
            alice.public_key, canonical_json(unsigned), version["signature"]
        )
    current = policy.load_policy(str(project.path))
    assert current.member_for("bob").roles == ("maintainer",)
    assert "version 4" in project.read(".llmpipe/policy.yaml")


def test_non_admin_cannot_change_the_policy(team, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    project, _, bob = team
    use_key_file(monkeypatch, bob.path)
    result = project.cli("policy", "grant", "bob", "admin")
    assert result.code != 0
    assert "needs 'admin'" in result.err and "bob" in result.err
    assert policy.load_policy(str(project.path)).version == 2


def test_hand_edited_yaml_is_detected(team) -> None:  # noqa: ANN001
    project, _, _ = team
    path = project.path / ".llmpipe" / "policy.yaml"
    path.write_text(path.read_text().replace("- contributor", "- admin"))
    result = project.cli("policy", "show")
    assert result.code != 0
    assert "edited by hand" in result.err and "members" in result.err
    with pytest.raises(PolicyError, match="edited by hand"):
        policy.load_policy(str(project.path))


def test_hand_edit_of_both_files_fails_the_signature(team) -> None:  # noqa: ANN001
    project, _, _ = team
    versions = log_lines(project.path)
    versions[-1]["members"]["bob"]["roles"] = ["admin"]
    write_policy(project.path, versions)
    with pytest.raises(PolicyError, match="version 2: the signature of alice does not match"):
        policy.load_policy(str(project.path))


def test_version_signed_by_a_non_admin_is_refused(team) -> None:  # noqa: ANN001
    project, _, bob = team
    versions = log_lines(project.path)
    forged = {
        **versions[-1],
        "version": 3,
        "previous": value_hash(versions[-1]),
        "signed_by": bob.fingerprint,
    }
    forged["members"] = {**forged["members"], "bob": {"key": bob.public_key, "roles": ["admin"]}}
    forged.pop("signature")
    forged["signature"] = bob.sign(canonical_json(forged))
    write_policy(project.path, [*versions, forged])
    with pytest.raises(PolicyError, match="version 3: signed by bob .* who is not an admin"):
        policy.load_policy(str(project.path))


def test_removed_or_reordered_versions_are_detected(team) -> None:  # noqa: ANN001
    project, _, _ = team
    project.ok("policy", "grant", "bob", "reader")
    versions = log_lines(project.path)
    write_policy(project.path, [versions[0], versions[2]])
    with pytest.raises(PolicyError, match="version 2: found version 3"):
        policy.load_policy(str(project.path))


def test_policy_log_line_edited_is_detected(team) -> None:  # noqa: ANN001
    project, _, _ = team
    path = project.path / ".llmpipe" / "policy.log"
    path.write_text(path.read_text().replace('{"format":1', '{ "format":1', 1))
    with pytest.raises(PolicyError, match=r"policy.log:1: the line was edited"):
        policy.load_policy(str(project.path))


def write_policy(root: Path, versions: list[dict]) -> None:
    log = "".join(canonical_json(v).decode() + "\n" for v in versions)
    (root / ".llmpipe" / "policy.log").write_text(log)
    write_yaml(str(root / ".llmpipe" / "policy.yaml"), versions[-1])


def test_last_admin_cannot_be_removed(team) -> None:  # noqa: ANN001
    project, _, _ = team
    result = project.cli("policy", "revoke", "alice", "admin")
    assert result.code != 0 and "without any admin" in result.err


def test_member_and_role_edits(team) -> None:  # noqa: ANN001
    project, _, _ = team
    project.ok("policy", "set-role", "deployer", "deploy", "rollback")
    project.ok("policy", "grant", "bob", "deployer")
    assert policy.load_policy(str(project.path)).allows("bob", "deploy")
    assert project.cli("policy", "set-role", "bad", "fly").code != 0
    assert project.cli("policy", "grant", "carol", "reader").code != 0
    assert project.cli("policy", "add-member", "carol", "ed25519:AAAA").code != 0
    project.ok("policy", "remove-member", "bob")
    assert policy.load_policy(str(project.path)).member_for("bob") is None
    shown = json.loads(project.ok("policy", "show", "--json").out)
    assert set(shown["members"]) == {"alice"} and shown["version"] == 5


def test_policy_check_exit_codes(team, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    project, _, bob = team
    assert "allowed" in project.ok("policy", "check", "promote:production").out
    use_key_file(monkeypatch, bob.path)
    denied = project.cli("policy", "check", "promote:production")
    assert denied.code == 1 and "lacks the permission 'promote:production'" in denied.err
    assert project.ok("policy", "check", "promote:staging").code == 0
    assert project.cli("policy", "check", "promote").code != 0
    assert project.cli("policy", "check", "fly").code != 0


def test_require_refuses_naming_the_action_and_reason(
    team, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    project, _, bob = team
    use_key_file(monkeypatch, bob.path)
    assert policy.require(str(project.path), "promote:staging").allowed
    with pytest.raises(AccessError, match="'promote:production' refused: bob") as refused:
        policy.require(str(project.path), "promote:production")
    assert refused.value.action == "promote:production" and "lacks" in refused.value.reason


def test_project_without_policy_allows_everything(project) -> None:  # noqa: ANN001
    assert policy.require(str(project.path), "deploy").allowed
    with pytest.raises(PolicyError, match="policy init"):
        policy.load_policy(str(project.path))
