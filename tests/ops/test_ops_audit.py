"""`ops.audit`: one record per audited verb call, built from its result or its error."""

from __future__ import annotations

import os

import pytest

from llmpipe.errors import AccessError, LlmpipeError
from llmpipe.ops.audit import Invocation, Outcome, audited
from llmpipe.project import Project
from llmpipe.security import keys


def _records(project: Project) -> list[dict]:
    from llmpipe.security.audit import AuditLog, audit_dir

    return AuditLog(audit_dir(project.root)).records()


def _touched(result: list[str]) -> tuple[list[dict], Outcome]:
    return [{"path": p, "hash": None} for p in result], Outcome()


@audited("demo", describe=_touched, only_if_targets=True)
def demo(project: Project, paths: list[str]) -> list[str]:
    return paths


@audited("refusing")
def refusing(project: Project) -> None:
    raise AccessError("'deploy' refused: bob lacks it", "deploy", "bob lacks it")


@audited("failing")
def failing(project: Project) -> None:
    raise LlmpipeError("it broke")


@pytest.fixture
def plain(project) -> Project:  # noqa: ANN001
    with Project(str(project.path)) as opened:
        yield opened


def test_a_verb_that_touched_nothing_writes_no_record_when_marked_so(plain) -> None:  # noqa: ANN001
    assert demo(plain, []) == []
    assert _records(plain) == []


def test_the_record_names_the_invocation_and_the_targets_of_the_result(plain) -> None:  # noqa: ANN001
    demo(plain, ["model.bin"], invocation=Invocation("repro", ("train",)))
    (record,) = _records(plain)
    assert record["command"] == "repro" and record["args"] == ["train"]
    assert record["targets"] == [{"path": "model.bin", "hash": None}]
    assert record["result"] == "ok" and record["exit"] == 0


def test_without_an_invocation_the_verb_is_recorded_under_its_own_name(plain) -> None:  # noqa: ANN001
    demo(plain, ["a"])
    assert _records(plain)[0]["command"] == "demo"


def test_a_refusal_is_recorded_with_the_action_and_reason(plain) -> None:  # noqa: ANN001
    with pytest.raises(AccessError):
        refusing(plain)
    (record,) = _records(plain)
    assert record["result"] == "refused" and record["exit"] == 1
    assert record["refused"] == [{"action": "deploy", "reason": "bob lacks it"}]


def test_a_user_error_is_recorded_as_failed_and_raised(plain) -> None:  # noqa: ANN001
    with pytest.raises(LlmpipeError, match="it broke"):
        failing(plain)
    (record,) = _records(plain)
    assert record["result"] == "failed" and record["error"] == "it broke"


def test_audit_false_writes_nothing(plain) -> None:  # noqa: ANN001
    demo(plain, ["a"], audit=False)
    assert _records(plain) == []


def test_records_are_signed_with_the_current_key(plain, key_home, monkeypatch) -> None:  # noqa: ANN001
    alice = keys.generate_key("alice")
    monkeypatch.setenv("LLMPIPE_KEY_FILE", alice.path)
    demo(plain, ["a"])
    assert _records(plain)[0]["actor"] == alice.fingerprint


def test_a_log_that_cannot_be_written_becomes_a_notice_not_an_error(plain) -> None:  # noqa: ANN001
    os.makedirs(plain.llmpipe_dir, exist_ok=True)
    with open(os.path.join(plain.llmpipe_dir, "audit"), "w") as handle:
        handle.write("a file where the audit folder must be")
    assert demo(plain, ["a"]) == ["a"]
    assert len(plain.notices) == 1 and "could not write the audit record" in plain.notices[0]
