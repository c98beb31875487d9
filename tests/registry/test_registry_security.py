"""The event log: tampering and forgery detected, permissions enforced, no lost events."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmpipe.security import keys
from llmpipe.security.canonical import canonical_json


def _log(project) -> Path:  # noqa: ANN001
    return project.path / ".llmpipe" / "registry" / "events.jsonl"


def _promoted(models) -> None:  # noqa: ANN001
    models.register()
    models.project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")


def test_hand_edited_event_is_detected_by_verify_and_refused_by_deploy(models, tmp_path) -> None:  # noqa: ANN001
    project = models.project
    _promoted(models)
    events = models.events()
    events[0]["data"]["metrics"]["accuracy"] = 0.99  # a better-looking model
    _log(project).write_bytes(b"".join(canonical_json(e) + b"\n" for e in events))
    result = project.cli("registry", "verify")
    assert result.code == 1
    assert "BAD: event 0 (register llm): bad signature" in result.err
    refused = project.cli("deploy", "llm@production", "--to", str(tmp_path / "out"))
    assert refused.code != 0 and "does not verify, deploy refused" in refused.err
    assert not (tmp_path / "out").exists()


def test_non_canonical_edit_and_removed_event_are_detected(models) -> None:  # noqa: ANN001
    project = models.project
    _promoted(models)
    lines = _log(project).read_bytes().splitlines(keepends=True)
    _log(project).write_bytes(lines[0].replace(b'"seq":0', b'"seq": 0'))
    assert "not in canonical form" in project.cli("registry", "verify").err
    models.train(0.8)
    _log(project).write_bytes(lines[1])  # the first event deleted
    assert "event 0 (promote llm): sequence number 1" in project.cli("registry", "verify").err


def test_forged_signature_is_detected(models) -> None:  # noqa: ANN001
    project = models.project
    _promoted(models)
    events = models.events()
    mallory = keys.generate_key("mallory")
    forged = dict(events[1])
    forged["data"] = {**forged["data"], "version": "0.1.0", "alias": "staging"}
    unsigned = {k: v for k, v in forged.items() if k != "sig"}
    forged["sig"] = mallory.sign(canonical_json(unsigned))  # claims alice's key
    _log(project).write_bytes(canonical_json(events[0]) + b"\n" + canonical_json(forged) + b"\n")
    result = project.cli("registry", "verify")
    assert result.code == 1 and "event 1 (promote llm): bad signature" in result.err


@pytest.fixture
def team(models, monkeypatch):  # noqa: ANN001, ANN201
    """alice (admin, key in use) and bob (contributor: register, promote:staging)."""
    project = models.project
    bob = keys.generate_key("bob")
    project.ok("policy", "init", "--name", "alice")
    project.ok("policy", "add-member", "bob", bob.public_key, "--role", "contributor")
    return models, bob


def test_member_without_permission_is_refused_and_audited(team, monkeypatch) -> None:  # noqa: ANN001
    models, bob = team
    project = models.project
    models.register()
    monkeypatch.setenv("LLMPIPE_KEY_FILE", str(bob.path))
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "staging")
    refused = project.cli("registry", "promote", "llm", "0.1.0", "--to", "production")
    assert refused.code != 0
    assert "'promote:production' refused: bob (contributor) lacks" in refused.err
    forced = project.cli("registry", "rollback", "llm", "--alias", "staging")
    assert forced.code != 0 and "'rollback' refused" in forced.err
    assert [e["type"] for e in models.events()] == ["register", "promote"]
    from llmpipe.security.audit import AuditLog, audit_dir

    records = AuditLog(audit_dir(str(project.path))).records()
    refusals = [r for r in records if r["result"] == "refused"]
    assert [r["command"] for r in refusals] == ["registry promote", "registry rollback"]
    assert refusals[0]["refused"][0]["action"] == "promote:production"
    assert refusals[0]["actor"] == bob.fingerprint


def test_event_signed_by_a_key_without_the_permission_is_flagged(team) -> None:  # noqa: ANN001
    from llmpipe.registry.events import make_event

    models, bob = team
    project = models.project
    models.register()
    events = models.events()
    # bob signs a promotion to production himself and appends it by hand
    sneaked = make_event(events[-1], "promote", "llm", {"version": "0.1.0", "alias": "production",
                         "previous": None, "gates": [], "forced": False}, bob, "bob")  # fmt: skip
    with open(_log(project), "ab") as handle:
        handle.write(canonical_json(sneaked) + b"\n")
    result = project.cli("registry", "verify")
    assert result.code == 1
    assert "event 1 (promote llm): signed by" in result.err
    assert "lacks the permission 'promote:production'" in result.err


def test_event_naming_another_member_than_its_signer_is_flagged(team) -> None:  # noqa: ANN001
    from llmpipe.registry.events import make_event

    models, bob = team
    project = models.project
    registered = models.register()
    assert registered["actor_member"] == "alice"  # recorded from the policy, not git
    events = models.events()
    # bob signs a promotion to staging (he may) but names alice as its author
    posing = make_event(events[-1], "promote", "llm", {"version": "0.1.0", "alias": "staging",
                        "previous": None, "gates": [], "forced": False}, bob, "bob", "alice")  # fmt: skip
    with open(_log(project), "ab") as handle:
        handle.write(canonical_json(posing) + b"\n")
    result = project.cli("registry", "verify")
    assert result.code == 1
    assert "names member 'alice', but its key" in result.err and "is bob's" in result.err


def test_register_without_a_key_says_how_to_make_one(project) -> None:  # noqa: ANN001
    result = project.cli("registry", "register", "llm", "model")
    assert result.code != 0 and "llmpipe keys generate" in result.err


def test_concurrent_registrations_keep_every_event(models) -> None:  # noqa: ANN001
    project = models.project
    procs = [project.spawn_llmpipe("registry", "register", "llm", "model") for _ in range(6)]
    for proc in procs:
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err.decode()
    events = models.events()
    assert sorted(e["data"]["version"] for e in events) == [f"0.1.{i}" for i in range(6)]
    assert [e["seq"] for e in events] == list(range(6))
    assert "registry OK: 6 event(s)" in project.ok("registry", "verify").out


WRITER = """
import sys
from llmpipe.registry.events import make_event
from llmpipe.registry.storage import SharedStore
from llmpipe.security.keys import load_key
from llmpipe.storage import LocalBackend
key = load_key(sys.argv[2])
store = SharedStore(LocalBackend(sys.argv[1]), "file-test")
for i in range(5):
    store.append(lambda events: make_event(events[-1] if events else None, "register", "m",
                 {"version": f"{sys.argv[3]}.{i}.0"}, key, None))
"""


def test_shared_store_loses_nothing_under_concurrent_writers(tmp_path) -> None:  # noqa: ANN001
    from tests.conftest import llmpipe_env

    key = keys.generate_key("writer")
    shared = tmp_path / "shared"
    env = llmpipe_env()
    procs = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(shared), key.path, str(n)], env=env)
        for n in range(1, 5)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs)
    from llmpipe.registry.storage import SharedStore
    from llmpipe.registry.verify import verify_log
    from llmpipe.storage import LocalBackend

    store = SharedStore(LocalBackend(str(shared)), "shared")
    events = store.events()
    assert len(events) == 20 and [e["seq"] for e in events] == list(range(20))
    report = verify_log(str(tmp_path), store)
    assert report.ok, report.problems


def test_an_event_still_being_written_is_not_read(tmp_path) -> None:  # noqa: ANN001
    from llmpipe.registry.events import make_event
    from llmpipe.registry.storage import SharedStore
    from llmpipe.storage import LocalBackend

    key = keys.load_key(keys.generate_key("writer").path)
    store = SharedStore(LocalBackend(str(tmp_path / "log")), "file-test")
    first = store.append(
        lambda events: make_event(None, "register", "m", {"version": "0.1.0"}, key, None)
    )
    in_progress = tmp_path / "log" / "events" / "0000000001.json"
    in_progress.write_bytes(b'{"seq": 1, "kind": "regis')  # the object exists, its bytes don't
    assert store.events() == [first]
    in_progress.write_bytes(canonical_json({**first, "seq": 1}))  # complete but no newline yet
    assert store.events() == [first]


def test_shared_registry_at_a_url(models) -> None:  # noqa: ANN001
    import fsspec

    project = models.project
    models.gates("url: memory://team-registry\n")
    models.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "staging")
    assert not _log(project).exists()
    fs = fsspec.filesystem("memory")
    assert len(fs.find("/team-registry/events")) == 2
    assert (
        "registry OK: 2 event(s) verified in memory://team-registry"
        in project.ok("registry", "verify").out
    )
    fs.rm("/team-registry", recursive=True)
