"""Attacks on the model registry (issue #12), each run through the CLI.

- 5: a contributor signs events whose names (version, model, digest) climb out of the
  deploy folder; verify names the event and an admin's deploy writes nothing outside.
- 8: promotion gates are part of the signed policy; editing `.llmpipe/registry.yaml`
  passes no gate, and a promotion signed past a failing signed gate fails verify.
- 13: redeploying over a damaged release records the folder it actually published.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from llmpipe.registry.events import make_event
from llmpipe.security import keys
from llmpipe.security.canonical import canonical_json
from tests.registry.conftest import DVC_YAML, TRAIN, Models


@pytest.fixture
def team(project, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN001, ANN201
    """alice (admin, key in use) and bob (contributor), a trained model (accuracy 0.7)."""
    alice, bob = keys.generate_key("alice"), keys.generate_key("bob")
    monkeypatch.setenv("LLMPIPE_KEY_FILE", os.fspath(alice.path))
    project.write("train.py", TRAIN)
    project.write("dvc.yaml", DVC_YAML)
    models = Models(project)
    models.train(0.7)
    project.ok("policy", "init", "--name", "alice")
    project.ok("policy", "add-member", "bob", bob.public_key, "--role", "contributor")
    return models, keys.load_key(bob.path)


def _append(project, *events: dict[str, Any]) -> None:  # noqa: ANN001
    """What an attacker who can write the log (a commit, a shared bucket) does."""
    log = project.path / ".llmpipe" / "registry" / "events.jsonl"
    with open(log, "ab") as handle:
        for event in events:
            handle.write(canonical_json(event) + b"\n")


def _files_under(folder: Path) -> set[str]:
    return {os.fspath(p.relative_to(folder)) for p in folder.rglob("*")}


# 5. names that become paths


def test_signed_version_climbing_out_of_the_deploy_folder_is_refused(team, tmp_path) -> None:  # noqa: ANN001
    models, bob = team
    project = models.project
    site = tmp_path / "site"
    serving = site / "serving"
    models.register()  # alice: 0.1.0
    project.ok("deploy", "llm@0.1.0", "--to", str(serving))
    first_release = (serving / "CURRENT").read_text().strip()  # llm-0.1.0-<digest 12>
    before = _files_under(site)
    registered = models.events()[0]
    # bob (contributor: register, promote:staging) signs with his own key, through the
    # library, a version whose release folder resolves beside the deploy folder
    evil = f"{first_release.removeprefix('llm-')}/../../../ESCAPED"
    register = make_event(
        models.events()[-1], "register", "llm", {**registered["data"], "version": evil}, bob, "bob"
    )
    promote = make_event(register, "promote", "llm", {"version": evil, "alias": "staging",
                         "previous": None, "gates": [], "forced": False}, bob, "bob")  # fmt: skip
    _append(project, register, promote)

    verify = project.cli("registry", "verify")
    assert verify.code == 1
    assert "event 2 (register llm)" in verify.err and "not a semantic version" in verify.err
    deploy = project.cli("deploy", "llm@staging", "--to", str(serving))  # alice, an admin
    assert deploy.code != 0 and "does not verify, deploy refused" in deploy.err
    assert _files_under(site) == before
    assert (serving / "CURRENT").read_text().strip() == first_release
    assert [e["type"] for e in models.events()] == ["register", "deploy", "register", "promote"]


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("model", "../../ESCAPED", "not a valid model name"),
        ("version", "0.1.0/../../x", "not a semantic version"),
        ("version", "v0.1.0", "not a semantic version"),
        ("digest", "sha256:../../../ESCAPED", "not a sha256 digest"),
        ("path", "model/..", "not a safe path"),
    ],
)
def test_a_signed_register_event_with_an_unsafe_name_fails_verify(
    team,  # noqa: ANN001
    field: str,
    value: str,
    message: str,
) -> None:
    models, bob = team
    project = models.project
    models.register()
    registered = models.events()[0]
    data = {**registered["data"], "version": "0.2.0"}
    model = value if field == "model" else "llm"
    if field != "model":
        data[field] = value
    _append(project, make_event(registered, "register", model, data, bob, "bob"))
    verify = project.cli("registry", "verify")
    assert verify.code == 1
    assert f"event 1 (register {model})" in verify.err and message in verify.err
    listed = project.cli("registry", "list")  # reading the state replays the same rule
    assert listed.code != 0 and "event 1" in listed.err and message in listed.err


def test_deploy_writes_no_release_folder_outside_its_destination(tmp_path) -> None:
    from llmpipe.errors import RegistryError
    from llmpipe.registry.deploy import publish

    serving = tmp_path / "serving"
    for release in ("../ESCAPED", "a/../../ESCAPED", "..", ""):
        with pytest.raises(RegistryError, match="outside"):
            publish(str(serving), release, [("weights.bin", b"x")])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["serving"]


# 8. gates are signed policy


def test_a_contributor_editing_registry_yaml_passes_no_failed_gate(team, monkeypatch) -> None:  # noqa: ANN001
    models, bob = team
    project = models.project
    models.gates("gates:\n  staging: ['metrics.accuracy >= 0.8']\n")  # the committed gates
    monkeypatch.setenv("LLMPIPE_KEY_FILE", str(bob.path))
    models.register()  # accuracy 0.7: fails the gate
    models.gates("gates:\n  staging: ['metrics.accuracy >= 0.5']\n")  # bob's local edit
    edited = project.cli("registry", "promote", "llm", "0.1.0", "--to", "staging")
    assert edited.code != 0
    assert "gates are part of the signed access policy" in edited.err
    assert [e["type"] for e in models.events()] == ["register"]


def test_signed_gates_bind_a_contributor(team, monkeypatch) -> None:  # noqa: ANN001
    models, bob = team
    project = models.project
    shown = project.ok("policy", "set-gates", "staging", "metrics.accuracy >= 0.8").out
    assert "Gates of 'staging'" in shown and "policy version 3" in shown
    assert "staging: metrics.accuracy >= 0.8" in project.ok("policy", "show").out
    monkeypatch.setenv("LLMPIPE_KEY_FILE", str(bob.path))
    models.register()  # accuracy 0.7

    models.gates("gates:\n  staging: ['metrics.accuracy >= 0.5']\n")  # bob's local edit
    edited = project.cli("registry", "promote", "llm", "0.1.0", "--to", "staging")
    assert edited.code != 0
    assert "gates are part of the signed access policy" in edited.err
    assert "llmpipe policy set-gates staging 'metrics.accuracy >= 0.5'" in edited.err
    (project.path / ".llmpipe" / "registry.yaml").unlink()
    refused = project.cli("registry", "promote", "llm", "0.1.0", "--to", "staging")
    assert refused.code == 1 and "gate FAIL  metrics.accuracy >= 0.8: 0.7 >= 0.8" in refused.out
    forced = project.cli("registry", "promote", "llm", "0.1.0", "--to", "staging", "--force")
    assert forced.code != 0 and "needs 'admin'" in forced.err
    unset = project.cli("policy", "set-gates", "staging")
    assert unset.code != 0 and "changing the policy needs 'admin'" in unset.err
    assert [e["type"] for e in models.events()] == ["register"]


def test_a_promotion_records_the_policy_version_of_its_gates(team) -> None:  # noqa: ANN001
    models, _ = team
    project = models.project
    project.ok(
        "policy", "set-gates", "production", "metrics.accuracy >= 0.6", "metrics.perplexity < 20"
    )
    models.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    data = models.events()[-1]["data"]
    assert data["gates_version"] == 3 and data["forced"] is False
    assert [g["check"] for g in data["gates"]] == [
        "metrics.accuracy >= 0.6",
        "metrics.perplexity < 20",
    ]
    project.ok("policy", "set-gates", "production")  # removed: version 4, no gates
    shown = json.loads(project.ok("policy", "show", "--json").out)
    assert shown["version"] == 4 and "production" not in shown.get("gates", {})
    assert "registry OK" in project.ok("registry", "verify").out


def test_a_promotion_signed_past_a_failing_signed_gate_fails_verify(team, tmp_path) -> None:  # noqa: ANN001
    models, bob = team
    project = models.project
    project.ok("policy", "set-gates", "staging", "metrics.accuracy >= 0.8")
    models.register()  # accuracy 0.7
    last = models.events()[-1]
    # bob writes the promotion his key may sign, claiming the gates passed
    gates = [{"check": "metrics.accuracy >= 0.8", "passed": True, "detail": "0.8 >= 0.8"}]
    forged = make_event(last, "promote", "llm", {"version": "0.1.0", "alias": "staging",
                        "previous": None, "gates": gates, "gates_version": 3, "forced": False},
                        bob, "bob")  # fmt: skip
    _append(project, forged)
    verify = project.cli("registry", "verify")
    assert verify.code == 1
    assert "event 1 (promote llm)" in verify.err
    assert "gate failed: metrics.accuracy >= 0.8: 0.7 >= 0.8" in verify.err
    deploy = project.cli("deploy", "llm@staging", "--to", str(tmp_path / "out"))
    assert deploy.code != 0 and not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("claimed", "message"),
    [
        ({"gates": [], "gates_version": 2}, "older than policy version 3"),
        ({"gates": [], "gates_version": 3}, "gates of policy version 3"),
        ({"gates": []}, "records no gates_version"),
    ],
)
def test_a_promotion_cannot_claim_laxer_gates(team, claimed: dict, message: str) -> None:  # noqa: ANN001
    models, bob = team
    project = models.project
    project.ok("policy", "set-gates", "staging", "metrics.accuracy >= 0.5")
    models.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "staging")  # judged by version 3
    project.ok("policy", "set-gates", "staging", "metrics.accuracy >= 0.8")  # version 4
    models.train(0.75)
    models.register()  # 0.1.1, accuracy 0.75: fails the version 4 gate
    last = models.events()[-1]
    data = {"version": "0.1.1", "alias": "staging", "previous": "0.1.0", "forced": False}
    _append(project, make_event(last, "promote", "llm", {**data, **claimed}, bob, "bob"))
    verify = project.cli("registry", "verify")
    assert verify.code == 1 and "event 3 (promote llm)" in verify.err and message in verify.err


def test_set_gates_checks_what_it_signs(team) -> None:  # noqa: ANN001
    models, _ = team
    project = models.project
    code = project.cli("policy", "set-gates", "production", '__import__("os").system("x") > 1')
    assert code.code != 0 and "cannot read" in code.err
    path = project.cli("policy", "set-gates", "../production", "metrics.accuracy > 0")
    assert path.code != 0 and "not a valid alias name" in path.err
    nothing = project.cli("policy", "set-gates", "production")
    assert nothing.code != 0 and "has no gates to remove" in nothing.err
    assert json.loads(project.ok("policy", "show", "--json").out)["version"] == 2


# 13. republishing over a damaged release


def _damage(release: Path, how: str, outside: Path) -> None:
    weights = release / "weights.bin"
    if how == "edited":
        weights.write_bytes(b"damaged")
    elif how == "extra file":
        (release / "backdoor.py").write_text("import os\n")
    else:  # the same bytes, but through a link to a file anyone may change later
        outside.write_bytes(weights.read_bytes())
        weights.unlink()
        weights.symlink_to(outside)


@pytest.mark.parametrize("how", ["edited", "extra file", "symlinked"])
def test_redeploy_over_a_damaged_release_records_what_it_published(team, tmp_path, how) -> None:  # noqa: ANN001
    models, _ = team
    project = models.project
    serving = tmp_path / "serving"
    models.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    project.ok("deploy", "llm@production", "--to", str(serving))
    damaged = (serving / "CURRENT").read_text().strip()
    _damage(serving / "releases" / damaged, how, tmp_path / "outside.bin")

    out = project.ok("deploy", "llm@production", "--to", str(serving)).out
    event = models.events()[-1]
    current = (serving / "CURRENT").read_text().strip()
    assert event["type"] == "deploy" and event["data"]["release"] == current
    assert current != damaged and current.startswith(damaged + "-")
    assert f"CURRENT = {current}" in out
    assert os.readlink(serving / "current") == os.path.join("releases", current)
    published = serving / "releases" / current
    expected = project.path / "model"
    assert sorted(p.name for p in published.iterdir()) == sorted(
        ["weights.bin", "config.json", "MODEL_CARD.md", "deployment.json"]
    )
    for name in ("weights.bin", "config.json"):
        assert not (published / name).is_symlink()
        assert (published / name).read_bytes() == (expected / name).read_bytes()
    assert "registry OK" in project.ok("registry", "verify").out
