"""Attacks on trust in history (issue #12, items 3, 4, 6 and 11), and the paths that stay open.

Each attack runs through the CLI against a real git repository: deleting the
policy, rolling back `policy.log`, replacing the whole policy history with
one rooted at another key, and borrowing the admin's `.pub` file. The
legitimate paths beside them: a fresh clone pinning on first sight, root
rotation, accepting a reviewed rollback, projects without a policy.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from security_helpers import use_key_file

from llmpipe.errors import LlmpipeError
from llmpipe.security import keys, policy
from tests.conftest import Project
from tests.registry.conftest import DVC_YAML, TRAIN, Models

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


@pytest.fixture
def models(team):  # noqa: ANN001, ANN201
    """The team's project with the registry tests' synthetic pipeline, trained once."""
    project, alice, bob = team
    project.write("train.py", TRAIN)
    project.write("dvc.yaml", DVC_YAML)
    made = Models(project)
    made.train(0.7)
    return made, alice, bob


def clone(origin: Project, path: Path) -> Project:
    subprocess.run(["git", "clone", "-q", str(origin.path), str(path)], check=True)
    return Project(path, origin._capsys)


def trust_state(project: Project) -> dict:
    return json.loads(project.ok("trust", "show", "--json").out)


# item 3: deleting the policy


def test_deleting_the_policy_does_not_turn_access_control_off(
    models, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    made, _, bob = models
    project = made.project
    made.register()
    project.commit("model")
    project.git("rm", "-q", ".llmpipe/policy.yaml", ".llmpipe/policy.log")
    project.commit("tidy up")
    use_key_file(monkeypatch, bob.path)

    check = project.cli("policy", "check", "promote:production")
    assert check.code != 0, check.out
    assert "policy is missing" in check.err and "git checkout" in check.err
    promoted = project.cli("registry", "promote", "llm", "0.1.0", "--to", "production")
    assert promoted.code != 0 and "policy is missing" in promoted.err
    assert [e["type"] for e in made.events()] == ["register"]
    with pytest.raises(policy.PolicyError, match="policy is missing"):
        policy.require(str(project.path), "deploy")

    # A fresh clone has no local memory, but the committed root pin says there was a policy.
    fresh = clone(project, tmp_path / "fresh")
    refused = fresh.cli("policy", "check", "deploy")
    assert refused.code != 0 and "policy is missing" in refused.err


def test_policy_init_cannot_restart_a_deleted_policy(team, monkeypatch) -> None:  # noqa: ANN001
    project, _, bob = team
    project.git("rm", "-q", ".llmpipe/policy.yaml", ".llmpipe/policy.log")
    use_key_file(monkeypatch, bob.path)
    result = project.cli("policy", "init", "--name", "bob")
    assert result.code != 0 and "had an access policy" in result.err
    assert not (project.path / ".llmpipe" / "policy.log").exists()


# item 4: rolling logs back


def test_truncated_policy_log_does_not_restore_revoked_rights(team, monkeypatch) -> None:  # noqa: ANN001
    project, _, bob = team
    project.ok("policy", "grant", "bob", "maintainer")  # version 3
    project.commit("bob maintains")
    project.ok("policy", "revoke", "bob", "maintainer")  # version 4
    project.commit("bob no longer maintains")
    # bob's commit puts back the policy files from before the revocation
    project.git("checkout", "HEAD~1", "--", ".llmpipe/policy.log", ".llmpipe/policy.yaml")
    project.commit("innocent-looking change")
    use_key_file(monkeypatch, bob.path)

    check = project.cli("policy", "check", "promote:production")
    assert check.code != 0, check.out
    assert "policy.log has 3 version(s), but this clone has seen 4" in check.err
    assert "llmpipe trust accept policy" in check.err
    with pytest.raises(policy.PolicyError, match="this clone has seen 4"):
        policy.require(str(project.path), "promote:production")


# item 6: the pinned root


def _history_rooted_at(tmp_path: Path, mallory: keys.SigningKey, bob: keys.SigningKey) -> Path:
    """A whole policy history of three versions, first signed by mallory."""
    scratch = tmp_path / "scratch"
    (scratch / ".llmpipe").mkdir(parents=True)
    policy.init_policy(str(scratch), mallory, "alice")  # the same member name, another key
    policy.change_policy(str(scratch), mallory, policy.add_member("bob", bob.public_key))
    policy.change_policy(str(scratch), mallory, policy.grant("bob", "admin"))
    return scratch / ".llmpipe"


def test_policy_history_rooted_at_another_key_is_refused(team, tmp_path) -> None:  # noqa: ANN001
    project, alice, bob = team
    mallory = keys.generate_key("mallory")
    forged = _history_rooted_at(tmp_path, mallory, bob)
    for name in ("policy.log", "policy.yaml"):
        shutil.copy(forged / name, project.path / ".llmpipe" / name)
    project.commit("rewrite the policy")

    shown = project.cli("policy", "show")
    assert shown.code != 0
    assert f"rooted at {mallory.fingerprint}" in shown.err
    assert alice.fingerprint in shown.err and "policy rotate-root" in shown.err

    fresh = clone(project, tmp_path / "fresh")  # no local memory, but the committed pin
    assert fresh.cli("policy", "show").code != 0

    # Rewriting the committed pin as well still leaves this clone's own memory.
    shutil.copy(forged / "root.yaml", project.path / ".llmpipe" / "root.yaml")
    again = project.cli("policy", "show")
    assert again.code != 0 and f"rooted at {mallory.fingerprint}" in again.err


def test_rotate_root_moves_the_pin_through_the_signed_chain(
    team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    project, alice, _ = team
    carol = keys.generate_key("carol")
    project.ok("policy", "add-member", "carol", carol.public_key, "--role", "admin")
    project.commit("carol")
    other = clone(project, tmp_path / "other")
    assert other.ok("policy", "show")  # pins alice, the root, on first sight
    assert trust_state(other)["root"]["pinned"] == alice.fingerprint

    use_key_file(monkeypatch, carol.path)
    refused = project.cli("policy", "rotate-root", "carol")
    assert refused.code != 0 and "current root key" in refused.err
    with pytest.raises(policy.PolicyError, match="not by the current root"):
        # an admin who is not the root signs a rotation to herself
        policy.change_policy(
            str(project.path), carol, lambda body: body.update(root=carol.fingerprint)
        )
    kept = project.cli("policy", "remove-member", "alice")
    assert kept.code != 0 and "holds the policy's root key" in kept.err
    use_key_file(monkeypatch, alice.path)
    out = project.ok("policy", "rotate-root", "carol").out
    assert carol.fingerprint in out
    assert carol.fingerprint in project.read(".llmpipe/root.yaml")
    project.commit("rotate the root to carol")

    other.git("pull", "-q", "--ff-only")
    assert other.ok("policy", "show")  # accepted: the old root signed the rotation
    assert trust_state(other)["root"] == {
        "pinned": carol.fingerprint,
        "committed": carol.fingerprint,
    }
    assert project.cli("policy", "rotate-root", "alice").code != 0  # alice is no longer the root
    use_key_file(monkeypatch, carol.path)
    project.ok("policy", "remove-member", "alice")  # no longer the root: may leave
    other.git("pull", "-q", "--ff-only")  # (nothing new: the change is not committed)
    assert json.loads(project.ok("policy", "show", "--json").out)["root"] == carol.fingerprint


def test_fresh_clone_pins_on_first_sight(team, tmp_path: Path) -> None:  # noqa: ANN001
    project, alice, _ = team
    fresh = clone(project, tmp_path / "fresh")
    assert trust_state(fresh)["root"] == {"pinned": None, "committed": alice.fingerprint}
    fresh.ok("policy", "check", "deploy")
    state = trust_state(fresh)
    assert state["root"]["pinned"] == alice.fingerprint
    assert state["logs"]["policy"]["length"] == 2  # versions 1 and 2 seen
    stored = fresh.path / ".git" / "llmpipe" / "trust.json"
    assert alice.fingerprint in stored.read_text()
    assert "llmpipe" not in fresh.git("status", "--porcelain")


# item 11: the identity comes from the private key


def test_policy_check_ignores_a_copied_pub_file(team, monkeypatch) -> None:  # noqa: ANN001
    project, alice, bob = team
    Path(bob.path).with_suffix(".pub").write_text(alice.public_key + "\n")
    use_key_file(monkeypatch, bob.path)
    denied = project.cli("policy", "check", "promote:production")
    assert denied.code == 1, denied.out
    assert "bob (contributor) lacks the permission" in denied.err
    assert bob.fingerprint in project.ok("keys", "show").out


# legitimate paths


def test_a_reviewed_rollback_is_accepted_and_audited(team) -> None:  # noqa: ANN001
    project, _, _ = team
    project.ok("policy", "grant", "bob", "reader")
    project.commit("bob reads")
    project.git("checkout", "-q", "HEAD~1")  # an older commit, on purpose
    refused = project.cli("policy", "show")
    assert refused.code != 0 and "this clone has seen 3" in refused.err
    accepted = project.ok("trust", "accept", "policy")
    assert "version 2" in accepted.out
    records = json.loads(project.ok("audit", "log", "--json").out)
    assert records[-1]["command"] == "trust accept" and records[-1]["args"] == ["policy"]
    assert project.ok("policy", "show").code == 0
    unknown = project.cli("trust", "accept", "everything")
    assert unknown.code != 0 and "policy or root" in unknown.err


def test_a_project_that_never_had_a_policy_stays_open(project) -> None:  # noqa: ANN001
    assert policy.require(str(project.path), "deploy").allowed
    result = project.ok("policy", "check", "deploy")
    assert "no access policy" in result.out
    assert trust_state(project)["root"] == {"pinned": None, "committed": None}


def test_trust_state_outside_git_lives_in_an_ignored_local_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "plain"
    path.mkdir()
    plain = Project(path, capsys)
    plain.ok("init", "--no-scm")
    alice = keys.generate_key("alice")
    use_key_file(monkeypatch, alice.path)
    plain.ok("policy", "init", "--name", "alice")
    local = path / ".llmpipe" / "local"
    assert alice.fingerprint in (local / "trust.json").read_text()
    assert (local / ".gitignore").read_text() == "*\n"
    with pytest.raises(LlmpipeError, match="policy is missing"):
        (path / ".llmpipe" / "policy.log").unlink()
        (path / ".llmpipe" / "policy.yaml").unlink()
        (path / ".llmpipe" / "root.yaml").unlink()
        policy.require(str(path), "deploy")
