"""Attacks on trust in history (issue #12, items 3, 4, 6 and 11), and the paths that stay open.

Each attack runs through the CLI against a real git repository: deleting the
policy, rolling back `policy.log`, cutting the audit chain and re-heading it,
dropping the last registry events (in git and in a shared store), replacing
the whole policy history with one rooted at another key, and borrowing the
admin's `.pub` file. The legitimate paths beside them: normal growth, a fresh
clone pinning on first sight, root rotation, accepting a reviewed rollback,
and concurrent writers.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from security_helpers import chain_file, lines_of, use_key_file

from llmpipe.errors import AccessError, PolicyError
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


def events_log(project: Project) -> Path:
    return project.path / ".llmpipe" / "registry" / "events.jsonl"


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

    # This clone keeps the newest policy it verified: it stays in force.
    check = project.cli("policy", "check", "promote:production")
    assert check.code != 0, check.out
    assert "bob (contributor) lacks the permission 'promote:production'" in check.err
    promoted = project.cli("registry", "promote", "llm", "0.1.0", "--to", "production")
    assert promoted.code != 0 and "lacks the permission" in promoted.err
    assert [e["type"] for e in made.events()] == ["register"]
    with pytest.raises(AccessError, match="lacks the permission 'deploy'"):
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

    # The old files are the beginning of the history this clone verified: the newest
    # version it kept (4, bob revoked) stays in force.
    check = project.cli("policy", "check", "promote:production")
    assert check.code != 0, check.out
    assert "bob (contributor) lacks the permission 'promote:production'" in check.err
    with pytest.raises(AccessError, match="lacks the permission"):
        policy.require(str(project.path), "promote:production")
    # A fresh clone has no memory of version 4; the committed root pin is the same, so
    # it sees version 3 (review of the commit is what catches that; see the docs).


def test_an_older_commit_is_still_governed_by_the_newest_policy(
    team, tmp_path, monkeypatch
) -> None:  # noqa: ANN001
    """Rebuilding an old model: checking out an old commit is not a rollback attack."""
    project, alice, bob = team
    project.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    project.write("data.txt", "v1\n")
    project.ok("add", "data.txt")
    project.ok("push")
    project.commit("data v1")
    project.ok("policy", "revoke", "bob", "contributor")  # bob may no longer pull
    project.commit("bob leaves")
    project.git("checkout", "-q", "HEAD~1")  # the old commit: bob still a contributor there
    (project.path / "data.txt").chmod(0o644)
    (project.path / "data.txt").unlink()
    assert project.ok("pull").code == 0  # alice pulls the old commit's data
    assert project.read("data.txt") == "v1\n"
    use_key_file(monkeypatch, bob.path)
    refused = project.cli("pull")
    assert refused.code != 0 and "lacks the permission 'pull'" in refused.err
    use_key_file(monkeypatch, alice.path)  # the admin, again
    changed = project.cli("policy", "grant", "bob", "maintainer")
    assert changed.code != 0 and "the policy's history would fork" in changed.err


def test_cut_audit_chain_with_a_new_signed_head_fails_verify(project, monkeypatch) -> None:  # noqa: ANN001
    alice = keys.generate_key("alice")
    use_key_file(monkeypatch, alice.path)
    for n in range(4):
        project.write(f"f{n}.txt", f"{n}\n")
        project.ok("add", f"f{n}.txt")
    chain = chain_file(project.path)
    chain.write_bytes(b"".join(lines_of(chain)[:2]))  # the last two records cut off
    project.write("g.txt", "g\n")
    project.ok("add", "g.txt")  # appends record 2 and signs a new head for it

    result = project.cli("audit", "verify")
    assert result.code == 1, result.out
    assert "has 3 record(s), but this clone has seen 4" in result.err
    assert "llmpipe trust accept audit:" in result.err
    project.write("h.txt", "h\n")
    project.ok("add", "h.txt")  # as long as before again, but record 3 is another one
    result = project.cli("audit", "verify")
    assert result.code == 1 and "record 3 differs from the one this clone saw" in result.err


def test_audit_chain_cut_on_the_remote_and_here_is_refused_by_pull(
    project, tmp_path: Path, monkeypatch
) -> None:  # noqa: ANN001
    alice = keys.generate_key("alice")
    use_key_file(monkeypatch, alice.path)
    remote = tmp_path / "remote"
    project.ok("remote", "add", "-d", "shared", str(remote))
    for n in range(3):
        project.write(f"f{n}.txt", f"{n}\n")
        project.ok("add", f"f{n}.txt")
        if n == 0:  # a copy of the head as it was after the first record
            old_head = chain_file(project.path).with_suffix(".head").read_bytes()
    project.commit("data")
    project.ok("push")
    other = clone(project, tmp_path / "other")
    other.ok("pull")  # other sees alice's chain (and its own)
    chain = chain_file(project.path)
    seen = len(lines_of(other.path / ".llmpipe" / "audit" / chain.name))
    # whoever can write both copies cuts the chain in each, and puts the old head back
    for copy in (remote / "llmpipe" / "audit", other.path / ".llmpipe" / "audit"):
        (copy / chain.name).write_bytes(b"".join(lines_of(copy / chain.name)[:1]))
        (copy / chain.with_suffix(".head").name).write_bytes(old_head)
    result = other.cli("pull")
    assert result.code != 0
    assert f"has 1 record(s), but this clone has seen {seen}" in result.err


def test_dropping_the_last_registry_events_is_refused(models, tmp_path: Path) -> None:  # noqa: ANN001
    made, _, _ = models
    project = made.project
    made.register()  # 0.1.0
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    made.train(0.8)
    made.register()  # 0.1.1
    project.ok("registry", "promote", "llm", "0.1.1", "--to", "production")
    project.ok("registry", "rollback", "llm", "--alias", "production")  # back to 0.1.0
    project.ok("registry", "deprecate", "llm", "0.1.1")
    project.commit("registry")
    log = events_log(project)
    log.write_bytes(b"".join(log.read_bytes().splitlines(keepends=True)[:-2]))
    project.commit("drop the rollback and the deprecation")

    verify = project.cli("registry", "verify")
    assert verify.code == 1
    assert "has 4 event(s), but this clone has seen 6" in verify.err
    assert "llmpipe trust accept registry" in verify.err
    out = tmp_path / "deployed"
    deployed = project.cli("deploy", "llm@production", "--to", str(out))
    assert deployed.code != 0 and "this clone has seen 6" in deployed.err
    assert not out.exists()
    shown = project.cli("registry", "show", "llm@production")
    assert shown.code != 0 and "this clone has seen 6" in shown.err


def test_dropping_events_from_a_shared_registry_is_refused(models) -> None:  # noqa: ANN001
    import fsspec

    made, _, _ = models
    project = made.project
    made.gates("url: memory://trust-attack-registry\n")
    made.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    project.ok("registry", "deprecate", "llm", "0.1.0")
    fs = fsspec.filesystem("memory")
    try:
        fs.rm(sorted(fs.find("/trust-attack-registry/events"))[-1])  # the deprecation
        verify = project.cli("registry", "verify")
        assert verify.code == 1 and "has 2 event(s), but this clone has seen 3" in verify.err
        listed = project.cli("registry", "list")
        assert listed.code != 0 and "memory://trust-attack-registry" in listed.err
    finally:
        fs.rm("/trust-attack-registry", recursive=True)


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
    with pytest.raises(PolicyError, match="not by the current root"):
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


def test_logs_grow_normally_and_the_marks_follow(models) -> None:  # noqa: ANN001
    made, _, _ = models
    project = made.project
    made.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "staging")
    project.ok("policy", "grant", "bob", "reader")
    project.ok("audit", "verify")
    logs = trust_state(project)["logs"]
    assert logs["policy"]["length"] == 3
    assert logs["registry"]["length"] == 2
    (audit_log,) = (name for name in logs if name.startswith("audit:"))
    first = logs[audit_log]["length"]
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    project.ok("audit", "verify")
    logs = trust_state(project)["logs"]
    assert logs["registry"]["length"] == 3 and logs[audit_log]["length"] > first
    assert project.ok("registry", "verify").out.startswith("registry OK: 3 event(s)")


def test_a_reviewed_rollback_is_accepted_and_audited(team) -> None:  # noqa: ANN001
    project, _, _ = team
    project.ok("policy", "grant", "bob", "reader")
    project.commit("bob reads")
    project.git("checkout", "-q", "HEAD~1")  # an older commit, on purpose
    assert project.ok("policy", "show").out.startswith("policy version 3")  # the newest seen
    accepted = project.ok("trust", "accept", "policy")  # the older policy, deliberately
    assert "version 2" in accepted.out
    records = json.loads(project.ok("audit", "log", "--json").out)
    assert records[-1]["command"] == "trust accept" and records[-1]["args"] == ["policy"]
    assert project.ok("policy", "show").out.startswith("policy version 2")
    unknown = project.cli("trust", "accept", "everything")
    assert unknown.code != 0 and "policy, root, registry" in unknown.err


def test_concurrent_writers_and_readers_keep_the_marks_consistent(models) -> None:  # noqa: ANN001
    made, _, _ = models
    project = made.project
    made.register()
    commands = [("registry", "register", "llm", "model")] * 4 + [("registry", "verify")] * 3
    commands += [("policy", "show")] * 2 + [("audit", "verify")] * 2
    procs = [project.spawn_llmpipe(*command) for command in commands]
    for command, proc in zip(commands, procs, strict=True):
        _, err = proc.communicate(timeout=180)
        assert proc.returncode == 0, f"{command}: {err.decode()}"
    assert project.ok("registry", "verify").out.startswith("registry OK: 5 event(s)")
    assert project.ok("audit", "verify").code == 0
    assert trust_state(project)["logs"]["registry"]["length"] == 5


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
    for name in ("policy.log", "policy.yaml", "root.yaml"):
        (path / ".llmpipe" / name).unlink()
    assert policy.load_policy(str(path)).version == 1  # this clone's kept copy governs
    with pytest.raises(AccessError, match="is not a member of the policy"):
        policy.require(str(path), "deploy", keys.generate_key("mallory"))
