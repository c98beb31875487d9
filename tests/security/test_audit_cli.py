"""Commands leave audit records; `audit log` filters them and `audit verify` checks them."""

from __future__ import annotations

import hashlib
import json

import pytest
from security_helpers import chain_file, lines_of, use_key_file

from llmpipe.security import keys

PIPELINE = """\
stages:
  upper:
    cmd: python3 -c "open('out.txt','w').write(open('in.txt').read().upper())"
    deps: [in.txt]
    outs: [out.txt]
  broken:
    cmd: python3 -c "raise SystemExit(3)"
    deps: [in.txt]
    outs: [never.txt]
"""


def records(project) -> list[dict]:  # noqa: ANN001
    path = project.path / ".llmpipe" / "audit"
    if not path.exists():
        return []
    return json.loads(project.ok("audit", "log", "--json").out)


@pytest.fixture
def signed(project, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    alice = keys.generate_key("alice")
    use_key_file(monkeypatch, alice.path)
    return project, alice


def test_repro_records_stages_run_with_output_hashes(signed) -> None:  # noqa: ANN001
    project, alice = signed
    project.write("in.txt", "hello\n")
    project.write("dvc.yaml", PIPELINE)
    project.ok("repro", "upper")
    (record,) = records(project)
    assert record["command"] == "repro" and record["args"] == ["upper"]
    assert record["result"] == "ok" and record["actor"] == alice.fingerprint
    md5 = hashlib.md5(b"HELLO\n").hexdigest()
    assert record["targets"] == [{"path": "out.txt", "hash": md5, "stage": "upper"}]
    project.ok("repro", "upper")  # nothing to do: no record
    assert len(records(project)) == 1


def test_failed_repro_is_recorded_as_failed(signed) -> None:  # noqa: ANN001
    project, _ = signed
    project.write("in.txt", "hello\n")
    project.write("dvc.yaml", PIPELINE)
    assert project.cli("repro", "broken").code != 0
    (record,) = records(project)
    assert record["result"] == "failed" and record["exit"] == 1
    assert record["targets"][0]["failed"] is True


def test_add_checkout_and_errors_are_recorded(signed) -> None:  # noqa: ANN001
    project, _ = signed
    project.write("data.txt", "abc\n")
    project.ok("add", "data.txt")
    (project.path / "data.txt").unlink()
    project.ok("checkout")
    assert project.cli("add", "missing.txt").code != 0
    add, checkout, failed = records(project)
    md5 = hashlib.md5(b"abc\n").hexdigest()
    assert add["command"] == "add" and add["targets"] == [{"path": "data.txt", "hash": md5}]
    assert checkout["command"] == "checkout" and checkout["targets"] == [
        {"path": "data.txt", "hash": md5}
    ]
    assert failed["result"] == "failed" and "does not exist" in failed["error"]
    assert project.ok("audit", "verify").out.startswith("audit log OK: 3 record(s)")


def test_unaudited_commands_leave_no_record(signed) -> None:  # noqa: ANN001
    project, _ = signed
    project.ok("status")
    project.ok("keys", "show")
    project.ok("policy", "--help")
    project.ok("add", "--help")
    assert records(project) == []


def test_without_a_key_records_are_unsigned_and_flagged(project) -> None:  # noqa: ANN001
    project.write("data.txt", "abc\n")
    project.ok("add", "data.txt")
    (record,) = records(project)
    assert record["actor"] == "unsigned" and record["sig"] is None
    assert "1 unsigned" in project.ok("audit", "verify").out
    assert project.cli("audit", "verify", "--require-signed").code == 1


def test_policy_can_require_signed_records(signed, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    project, _ = signed
    project.ok("policy", "init", "--name", "alice")
    project.ok("policy", "require-signatures")
    monkeypatch.setenv("LLMPIPE_KEY_FILE", str(project.path / "no-such-key"))
    project.write("data.txt", "abc\n")
    project.ok("add", "data.txt")
    result = project.cli("audit", "verify")
    assert result.code == 1 and "unsigned, and signatures are required" in result.err


def test_refused_check_is_audited_with_the_actor(signed, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: ANN001
    project, alice = signed
    bob = keys.generate_key("bob")
    project.ok("policy", "init", "--name", "alice")
    project.ok("policy", "add-member", "bob", bob.public_key, "--role", "contributor")
    use_key_file(monkeypatch, bob.path)
    assert project.cli("policy", "check", "promote:production").code == 1
    last = records(project)[-1]
    assert last["command"] == "policy check" and last["args"] == ["promote:production"]
    assert last["actor"] == bob.fingerprint and last["result"] == "failed"
    by_bob = json.loads(project.ok("audit", "log", "--actor", bob.fingerprint[:12], "--json").out)
    assert [r["command"] for r in by_bob] == ["policy check"]
    grants = json.loads(project.ok("audit", "log", "--action", "policy add-member", "--json").out)
    assert len(grants) == 1 and grants[0]["actor"] == alice.fingerprint


def test_audit_log_since_and_text(signed) -> None:  # noqa: ANN001
    project, _ = signed
    project.write("data.txt", "abc\n")
    project.ok("add", "data.txt")
    assert "add data.txt  -> ok" in project.ok("audit", "log").out
    assert project.ok("audit", "log", "--since", "1h", "--json").out.count('"command"') == 1
    assert json.loads(project.ok("audit", "log", "--since", "2999-01-01", "--json").out) == []
    assert project.cli("audit", "log", "--since", "yesterday").code != 0


def test_audit_verify_cli_names_the_tampered_record(signed) -> None:  # noqa: ANN001
    project, _ = signed
    for name in ("a", "b", "c"):
        project.write(f"{name}.txt", name)
        project.ok("add", f"{name}.txt")
    path = chain_file(project.path)
    lines = lines_of(path)
    lines[1] = lines[1].replace(b'"b.txt"', b'"B.txt"')
    path.write_bytes(b"".join(lines))
    result = project.cli("audit", "verify")
    assert result.code == 1
    assert "record 1 (line 2): bad signature" in result.err
    report = json.loads(project.cli("audit", "verify", "--json").out)
    assert report["ok"] is False and "record 1" in report["problems"][0]


def test_audit_verify_in_a_subprocess_exit_code(signed) -> None:  # noqa: ANN001
    project, _ = signed
    project.write("a.txt", "a")
    assert project.llmpipe("add", "a.txt").returncode == 0
    assert project.llmpipe("audit", "verify").returncode == 0
    path = chain_file(project.path)
    path.write_bytes(b"")
    broken = project.llmpipe("audit", "verify")
    assert broken.returncode == 1 and "truncated" in broken.stderr


def test_records_name_the_policy_member_and_filter_by_member_and_action(
    signed, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    project, alice = signed
    bob = keys.generate_key("bob")
    project.ok("policy", "init", "--name", "alice")
    project.ok("policy", "add-member", "bob", bob.public_key, "--role", "contributor")
    project.write("model.bin", "weights")
    project.ok("add", "model.bin")
    project.ok("registry", "register", "llm", "model.bin")
    use_key_file(monkeypatch, bob.path)
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "staging")
    assert project.cli("registry", "promote", "llm", "0.1.0", "--to", "production").code == 1

    promoted = records(project)[-2]
    assert promoted["actor_member"] == "bob" and promoted["actor"] == bob.fingerprint
    by_bob = json.loads(project.ok("audit", "log", "--actor", "bob", "--json").out)
    assert [r["command"] for r in by_bob] == ["registry promote"] * 2
    assert all(r["actor"] == bob.fingerprint for r in by_bob)
    assert "bob" in project.ok("audit", "log", "--actor", "bob").out.splitlines()[0]

    def actions(action: str) -> list[str]:
        chosen = json.loads(project.ok("audit", "log", "--action", action, "--json").out)
        return [r["result"] for r in chosen]

    assert actions("promote") == ["ok", "refused"]
    assert actions("promote:staging") == ["ok"]
    assert actions("promote:production") == ["refused"]
    assert actions("register") == ["ok"]

    history = project.ok("registry", "history", "llm").out.splitlines()
    assert history[0].split()[1] == "alice" and history[1].split()[1] == "bob"
    only_bob = json.loads(project.ok("registry", "history", "llm", "--actor", "bob", "--json").out)
    assert [(e["type"], e["actor_member"]) for e in only_bob] == [("promote", "bob")]
    shown = project.ok("registry", "show", "llm").out
    assert f"by alice ({alice.fingerprint})" in shown
    assert project.ok("registry", "verify").code == 0


def test_require_signed_says_which_records_are_unsigned_and_how_many(project) -> None:  # noqa: ANN001
    for name in ("a", "b", "c"):
        project.write(f"{name}.txt", name)
        project.ok("add", f"{name}.txt")
    result = project.cli("audit", "verify", "--require-signed")
    assert result.code == 1
    assert "3 unsigned record(s) in this chain (records 0, 1, 2)" in result.err
    assert "FAILED: 3 record(s) in 1 chain(s), 3 unsigned" in result.out
