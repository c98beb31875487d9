"""The hash-chained, signed audit log: honest logs verify, every kind of tampering is named."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from security_helpers import lines_of

from llmpipe.errors import AuditError, LlmpipeError
from llmpipe.security import audit, keys
from llmpipe.security.canonical import canonical_json

ROOT = Path(__file__).resolve().parents[2]


def entry(n: int) -> dict:
    return {
        "command": "add",
        "args": [f"file{n}"],
        "targets": [{"path": f"file{n}", "hash": "ab" * 16}],
        "result": "ok",
        "exit": 0,
        "error": None,
    }


@pytest.fixture
def log(tmp_path: Path):  # noqa: ANN201
    """An audit log of five records signed by alice; returns (log, chain file, alice)."""
    alice = keys.generate_key("alice")
    directory = tmp_path / "audit"
    auditlog = audit.AuditLog(str(directory))
    for n in range(5):
        auditlog.append(entry(n), alice)
    (path,) = directory.glob("*.jsonl")
    return auditlog, path, alice


def only_problem(auditlog: audit.AuditLog) -> audit.Problem:
    report = audit.verify_log(auditlog)
    assert not report.ok
    assert len(report.problems) == 1
    return report.problems[0]


def test_honest_log_verifies(log) -> None:  # noqa: ANN001
    auditlog, path, alice = log
    report = audit.verify_log(auditlog)
    assert report.ok and report.records == 5 and report.unsigned == 0
    records = auditlog.read_chain(path.stem)
    assert [r["seq"] for r in records] == [0, 1, 2, 3, 4]
    assert records[0]["prev"] is None
    assert records[3]["prev"] == audit.record_hash(records[2])
    assert {r["actor"] for r in records} == {alice.fingerprint}


def test_edit_one_byte_names_the_record(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    lines = lines_of(path)
    lines[2] = lines[2].replace(b'"file2"', b'"filE2"')
    path.write_bytes(b"".join(lines))
    problem = only_problem(auditlog)
    assert problem.seq == 2 and "bad signature" in problem.message
    assert "record 2 (line 3)" in str(problem)


def test_edit_breaking_json_or_canonical_form(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    lines = lines_of(path)
    original = lines[1]
    lines[1] = original.replace(b"{", b"[", 1)
    path.write_bytes(b"".join(lines))
    assert "not valid JSON" in only_problem(auditlog).message
    lines[1] = original.replace(b'"args":', b'"args": ', 1)
    path.write_bytes(b"".join(lines))
    problem = only_problem(auditlog)
    assert problem.seq == 1 and "canonical" in problem.message


def test_deleted_record_is_named(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    lines = lines_of(path)
    del lines[2]
    path.write_bytes(b"".join(lines))
    problem = only_problem(auditlog)
    assert problem.line == 3 and problem.seq == 3
    assert "where 2 was expected" in problem.message


def test_swapped_records_are_named(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    lines = lines_of(path)
    lines[1], lines[3] = lines[3], lines[1]
    path.write_bytes(b"".join(lines))
    problem = only_problem(auditlog)
    assert problem.line == 2 and "reordered" in problem.message


def test_inserted_record_is_named(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    lines = lines_of(path)
    lines.insert(2, lines[1])
    path.write_bytes(b"".join(lines))
    problem = only_problem(auditlog)
    assert problem.line == 3 and "where 2 was expected" in problem.message


def test_truncated_records_are_detected(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    lines = lines_of(path)
    path.write_bytes(b"".join(lines[:3]))
    problem = only_problem(auditlog)
    assert problem.seq == 3 and "cut off the end" in problem.message and "says 4" in problem.message


def test_truncated_mid_record_is_detected(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    data = path.read_bytes()
    path.write_bytes(data[: len(data) - 40])
    problem = only_problem(auditlog)
    assert problem.line == 5 and "truncated" in problem.message


def test_missing_head_is_reported(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    path.with_suffix(".head").unlink()
    assert "head" in only_problem(auditlog).message


def test_forged_signature_with_another_key(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    mallory = keys.generate_key("mallory")
    lines = lines_of(path)
    record = json.loads(lines[4])
    record["args"] = ["innocent"]
    body = {k: v for k, v in record.items() if k != "sig"}
    record["sig"] = mallory.sign(canonical_json(body))
    lines[4] = canonical_json(record) + b"\n"
    path.write_bytes(b"".join(lines))
    problem = only_problem(auditlog)
    assert problem.seq == 4 and "bad signature" in problem.message


def test_record_re_signed_as_another_actor_breaks_the_chain(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    mallory = keys.generate_key("mallory")
    lines = lines_of(path)
    record = json.loads(lines[1])
    record.update(args=["innocent"], actor=mallory.fingerprint, actor_key=mallory.public_key)
    body = {k: v for k, v in record.items() if k != "sig"}
    record["sig"] = mallory.sign(canonical_json(body))
    lines[1] = canonical_json(record) + b"\n"
    path.write_bytes(b"".join(lines))
    problem = only_problem(auditlog)
    assert problem.seq == 2 and "record before it was changed" in problem.message
    report = audit.verify_log(
        auditlog, known_keys={keys.load_key(keys.key_paths("alice")[0]).fingerprint}
    )
    assert any("not a member" in w for w in report.warnings)


def test_head_forged_by_another_key_is_detected(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    mallory = keys.generate_key("mallory")
    lines = lines_of(path)
    path.write_bytes(b"".join(lines[:3]))
    last = json.loads(lines[2])
    head = {"chain": path.stem, "seq": 2, "hash": audit.record_hash(last), "actor": last["actor"]}
    head["sig"] = mallory.sign(canonical_json(head))
    path.with_suffix(".head").write_bytes(canonical_json(head) + b"\n")
    assert "head is not signed" in only_problem(auditlog).message


def test_unsigned_records_are_reported_and_can_be_required(tmp_path: Path) -> None:
    auditlog = audit.AuditLog(str(tmp_path / "audit"))
    auditlog.append(entry(0), None)
    auditlog.append(entry(1), None)
    report = audit.verify_log(auditlog)
    assert report.ok and report.unsigned == 2
    strict = audit.verify_log(auditlog, require_signed=True)
    assert not strict.ok and strict.problems[0].seq == 0
    assert "unsigned" in strict.problems[0].message


def test_interrupted_append_is_repaired_by_the_next_one(log) -> None:  # noqa: ANN001
    auditlog, path, alice = log
    with path.open("ab") as handle:
        handle.write(b'{"actor":"half a rec')
    auditlog.append(entry(5), alice)
    report = audit.verify_log(auditlog)
    assert report.ok and report.records == 6


APPENDER = """
import sys
from llmpipe.security import audit, keys
key = keys.load_key(sys.argv[2])
log = audit.AuditLog(sys.argv[1])
for n in range(int(sys.argv[3])):
    log.append({"command": "add", "args": [sys.argv[4], str(n)], "targets": [],
                "result": "ok", "exit": 0, "error": None}, key)
"""


def test_two_processes_appending_at_once_lose_nothing(tmp_path: Path) -> None:
    alice, bob = keys.generate_key("alice"), keys.generate_key("bob")
    directory = str(tmp_path / "audit")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", APPENDER, directory, key.path, "60", key.name],
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        for key in (alice, bob)
    ]
    assert [p.wait(timeout=60) for p in procs] == [0, 0]
    auditlog = audit.AuditLog(directory)
    report = audit.verify_log(auditlog)
    assert report.ok, report.problems
    assert report.records == 120 and report.chains == 1
    records = auditlog.records()
    assert sorted((r["args"][0], int(r["args"][1])) for r in records) == sorted(
        (name, n) for name in ("alice", "bob") for n in range(60)
    )
    # Both writers really interleaved, or the test proves nothing about the lock.
    order = [r["args"][0] for r in sorted(records, key=lambda r: r["seq"])]
    assert order != sorted(order) and order != sorted(order, reverse=True)


def test_an_append_between_reading_a_chain_and_its_head_is_not_a_truncation(
    log, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:  # noqa: ANN001
    """verify reads a chain, then its head. Another process appending in between wrote a
    head ahead of the chain verify had read: "records were cut off" about an honest log.
    verify holds the lock shared while it reads the two, so the append waits."""
    auditlog, path, alice = log
    done = tmp_path / "appended"
    read_head = audit.AuditLog.read_head

    def read_head_while_another_appends(self, chain):  # noqa: ANN001, ANN202
        script = APPENDER + f"open({str(done)!r}, 'w').close()\n"
        writer = subprocess.Popen(
            [sys.executable, "-c", script, str(path.parent), alice.path, "1", "late"],
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        )
        writers.append(writer)
        deadline = time.monotonic() + 3
        while not done.exists() and time.monotonic() < deadline:
            time.sleep(0.02)  # unlocked, the append is over in far less
        return read_head(self, chain)

    writers: list[subprocess.Popen] = []
    monkeypatch.setattr(audit.AuditLog, "read_head", read_head_while_another_appends)
    report = audit.verify_log(auditlog)
    monkeypatch.undo()
    assert [w.wait(timeout=60) for w in writers] == [0]
    assert report.ok, report.problems
    assert report.records == 5
    assert audit.verify_log(auditlog).records == 6  # the append went through after


# Merging


def chains_of(auditlog: audit.AuditLog) -> dict[str, list[dict]]:
    return {c: auditlog.read_chain(c) for c in auditlog.chain_ids()}


def test_merge_takes_the_longer_copy_and_keeps_other_chains(log, tmp_path: Path) -> None:  # noqa: ANN001
    auditlog, path, alice = log
    chain = path.stem
    full = auditlog.read_chain(chain)
    other_clone = audit.AuditLog(str(tmp_path / "other"))
    other_clone.append(entry(9), alice)
    local = {chain: full[:3]}
    other = {chain: full, **chains_of(other_clone)}
    result = audit.merge_logs(local, other)
    assert result.chains[chain] == full
    assert result.added[chain] == 2 and len(result.chains) == 2
    assert local[chain] == full[:3]  # pure: inputs untouched
    assert audit.merge_logs(other, local).chains == result.chains  # order does not matter
    assert audit.merge_logs(result.chains, other).added == {}  # idempotent


def test_merge_refuses_diverged_copies(log) -> None:  # noqa: ANN001
    auditlog, path, _ = log
    full = auditlog.read_chain(path.stem)
    changed = [dict(r) for r in full]
    changed[3] = {**changed[3], "args": ["other"]}
    with pytest.raises(AuditError, match=f"chain {path.stem} diverges at record 3"):
        audit.merge_logs({path.stem: full}, {path.stem: changed})


def test_merge_directory_appends_new_records(log, tmp_path: Path) -> None:  # noqa: ANN001
    import shutil

    auditlog, path, alice = log
    copy = tmp_path / "copy"
    shutil.copytree(path.parent, copy)
    auditlog.append(entry(5), alice)  # the original moves on
    added = audit.merge_directory(str(copy), str(path.parent))
    assert added == {path.stem: 1}
    merged = audit.AuditLog(str(copy))
    assert audit.verify_log(merged).ok and audit.verify_log(merged).records == 6
    lines = lines_of(path)
    path.write_bytes(b"".join(lines[:-1]) + lines[-1].replace(b"file5", b"fileX"))
    with pytest.raises(AuditError, match="fails verification"):
        audit.merge_directory(str(copy), str(path.parent))


def test_corrupt_last_record_blocks_append_with_a_clear_error(log) -> None:  # noqa: ANN001
    auditlog, path, alice = log
    lines = lines_of(path)
    path.write_bytes(b"".join(lines[:-1]) + b"{not json\n")
    with pytest.raises(LlmpipeError, match="audit verify"):
        auditlog.append(entry(6), alice)
