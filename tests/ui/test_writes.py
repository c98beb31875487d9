"""Writes from the page: only with --allow-writes, only a same-origin POST with the CSRF
token, and always through the ops verbs: gates, the access policy and the audit record
apply as they do to `llmpipe registry promote`. And the registry page shows a forged event."""

from __future__ import annotations

import json
import re

import pytest

from llmpipe.registry.ops import Writer
from llmpipe.security import keys
from llmpipe.security.audit.log import AuditLog, audit_dir
from llmpipe.security.canonical import canonical_json
from tests.registry.conftest import Models
from tests.registry.conftest import models as trained  # noqa: F401 - a fixture
from tests.ui.pagetext import rows, text


@pytest.fixture
def models(key_home, trained: Models) -> Models:  # noqa: ANN001, F811
    """The registry tests' model (alice's key in use) registered as 0.1.0 and 0.1.1."""
    trained.register()
    trained.train(0.8)
    trained.register()
    return trained


def writer_of(name: str) -> Writer:
    return Writer(keys.load_key(keys.key_paths(name)[0]), name)


def dashboard(client, models, name: str = "alice", **options):  # noqa: ANN001, ANN201
    return client(models.project.path, allow_writes=True, writer=writer_of(name), **options)


def token_of(page_html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page_html)
    assert found, "no CSRF token in the page"
    return found.group(1)


def promote_form(web, version: str = "0.1.1", alias: str = "production") -> dict[str, str]:  # noqa: ANN001
    """The fields the page's promote form posts, its CSRF token included."""
    token = token_of(web.get("/registry").text)
    return {"csrf": token, "model": "llm", "version": version, "alias": alias}


def audit_records(models: Models) -> list[dict]:
    return AuditLog(audit_dir(str(models.project.path))).records()


def test_a_read_only_dashboard_refuses_every_write(models, client) -> None:  # noqa: ANN001
    web = client(models.project.path)
    page = web.get("/registry").text
    assert 'action="/registry/promote"' not in page and "read-only" in page
    refused = web.post(
        "/registry/promote", data={"model": "llm", "version": "0.1.0", "alias": "production"}
    )
    assert refused.status_code == 403 and "read-only" in refused.text
    assert [e["type"] for e in models.events()] == ["register", "register"]


@pytest.mark.parametrize(
    ("token", "origin", "why"),
    [
        (None, None, "CSRF"),
        ("forged", None, "CSRF"),
        ("right", "http://attacker.example", "another origin"),
    ],
)
def test_a_write_needs_the_token_and_the_same_origin(models, client, token, origin, why) -> None:  # noqa: ANN001
    web = dashboard(client, models)
    fields = promote_form(web, "0.1.0")
    if token != "right":
        fields.pop("csrf") if token is None else fields.update(csrf=token)
    headers = {"origin": origin} if origin else {}
    refused = web.post("/registry/promote", data=fields, headers=headers)
    assert refused.status_code == 403 and why in refused.text
    assert [e["type"] for e in models.events()] == ["register", "register"]
    assert not [r for r in audit_records(models) if r["command"] == "registry promote"]


def test_promote_and_roll_back_from_the_page_are_signed_and_audited(models, client) -> None:  # noqa: ANN001
    web = dashboard(client, models)
    page = web.get("/registry").text
    assert "writes enabled" in page
    for version in ("0.1.0", "0.1.1"):
        fields = promote_form(web, version)
        done = web.post("/registry/promote", data=fields, headers={"origin": "http://testserver"})
        assert done.status_code == 200 and f"Promoted llm {version} to 'production'" in text(
            done.text
        )
    assert (
        json.loads(models.project.ok("registry", "show", "llm@production", "--json").out)["version"]
        == "0.1.1"
    )
    back = web.post(
        "/registry/rollback", data={"csrf": token_of(page), "model": "llm", "alias": "production"}
    )
    assert "Rolled back 'production' of llm from 0.1.1 to 0.1.0" in text(back.text)
    events = models.events()
    assert [e["type"] for e in events] == ["register", "register", "promote", "promote", "rollback"]
    alice = keys.load_key(keys.key_paths("alice")[0]).fingerprint
    assert {e["actor"] for e in events} == {alice}
    # One audit record per write, as the CLI's: the command, its arguments, signed by alice.
    written = [
        r
        for r in audit_records(models)
        if r["command"] in ("registry promote", "registry rollback")
    ]
    assert [(r["command"], r["args"], r["result"]) for r in written] == [
        ("registry promote", ["llm", "0.1.0", "--to", "production"], "ok"),
        ("registry promote", ["llm", "0.1.1", "--to", "production"], "ok"),
        ("registry rollback", ["llm", "--alias", "production"], "ok"),
    ]
    assert {r["actor"] for r in written} == {alice}
    assert models.project.ok("registry", "verify").code == 0
    audit = web.get("/audit?text=registry+promote").text
    assert len(rows(audit, "audit-records")) == 2 and "Verified:" in audit


def test_failed_gates_are_shown_and_audited(models, client) -> None:  # noqa: ANN001
    models.gates("gates:\n  production:\n    - metrics.accuracy >= 0.95\n")
    web = dashboard(client, models)
    shown = text(web.post("/registry/promote", data=promote_form(web)).text)
    assert "llm 0.1.1 not promoted to 'production': 1 gate(s) failed" in shown
    assert "FAIL metrics.accuracy >= 0.95: 0.8 >= 0.95" in shown
    assert [e["type"] for e in models.events()] == ["register", "register"]
    assert audit_records(models)[-1]["result"] == "failed"
    gates = text(web.get("/registry").text)
    assert "metrics.accuracy >= 0.95" in gates


def test_the_access_policy_decides_and_a_refusal_is_audited(models, client) -> None:  # noqa: ANN001
    bob = keys.generate_key("bob")
    models.project.ok("policy", "init", "--name", "alice")
    models.project.ok("policy", "add-member", "bob", bob.public_key, "--role", "contributor")
    web = dashboard(client, models, name="bob")
    shown = text(web.post("/registry/promote", data=promote_form(web)).text)
    assert "registry promote refused" in shown and "promote:production" in shown
    assert [e["type"] for e in models.events()] == ["register", "register"]
    refusal = audit_records(models)[-1]
    assert (
        refusal["result"] == "refused" and refusal["refused"][0]["action"] == "promote:production"
    )


def test_a_forged_event_is_marked_and_verification_fails(models, client) -> None:  # noqa: ANN001
    log = models.project.path / ".llmpipe" / "registry" / "events.jsonl"
    events = [json.loads(line) for line in log.read_bytes().splitlines()]
    events[1]["data"]["metrics"]["accuracy"] = 0.99  # still canonical, no longer signed
    log.write_bytes(b"".join(canonical_json(e) + b"\n" for e in events))
    page = client(models.project.path).get("/registry").text
    assert 'class="verify bad" id="registry-verify"' in page
    assert "bad signature" in text(page)
    history = rows(page, "registry-history")
    assert [("✗" in r["signature"], r["#"]) for r in history] == [(True, "1"), (False, "0")]
