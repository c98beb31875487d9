"""Register, list, semantic versions, promotion gates, rollback, deprecation, history."""

from __future__ import annotations

import json

import pytest


def test_register_records_hash_digest_lineage_and_metrics(models) -> None:  # noqa: ANN001
    shown = models.register("-m", "first")
    project = models.project
    lock = project.read("dvc.lock")
    assert shown["version"] == "0.1.0" and shown["message"] == "first"
    assert shown["hash"]["md5"].endswith(".dir") and shown["hash"]["md5"] in lock
    assert shown["digest"].startswith("sha256:") and len(shown["digest"]) == 71
    assert sorted(rel for rel, _ in shown["files"]) == ["config.json", "weights.bin"]
    assert shown["metrics"] == {"accuracy": 0.7, "perplexity": pytest.approx(14.285714)}
    lineage = shown["lineage"]
    assert lineage["stage"] == "train" and lineage["run_id"]
    assert lineage["params"] == {"params.yaml": {"quality": 0.7}}
    assert [d["path"] for d in lineage["deps"]] == ["train.py"]
    from llmpipe.security import keys

    assert shown["actor"] == keys.load_key().fingerprint
    listed = project.ok("registry", "list").out
    assert "llm  1 version(s), latest 0.1.0" in listed


def test_semantic_versions_increment_and_explicit_versions(models) -> None:  # noqa: ANN001
    project = models.project
    assert models.register()["version"] == "0.1.0"
    assert models.register()["version"] == "0.1.1"
    assert models.register("--bump", "minor")["version"] == "0.2.0"
    assert models.register("--bump", "major")["version"] == "1.0.0"
    assert models.register("--version", "v2.3.4")["version"] == "2.3.4"
    assert models.register()["version"] == "2.3.5"
    dup = project.cli("registry", "register", "llm", "model", "--version", "2.3.4")
    assert dup.code != 0 and "already exists" in dup.err
    bad = project.cli("registry", "register", "llm", "model", "--version", "1.2")
    assert bad.code != 0 and "not a semantic version" in bad.err


def test_registering_the_same_files_again_warns(models) -> None:  # noqa: ANN001
    project = models.project
    first = project.ok("registry", "register", "llm", "model")
    assert "WARNING" not in first.err
    again = project.ok("registry", "register", "llm", "model")
    assert "WARNING: llm 0.1.1 has exactly the files of 0.1.0 (sha256:" in again.err
    models.train(0.9)
    assert "WARNING" not in project.ok("registry", "register", "llm", "model").err


def test_show_keeps_the_dirty_flag_of_the_run(models) -> None:  # noqa: ANN001
    from llmpipe import scm

    project = models.project
    project.commit("quality 0.7")
    scm.clear_cache()  # the CLI runs in this process: forget the unborn HEAD it saw
    models.train(0.8)  # params.yaml edited, not committed: the run is dirty
    shown = models.register()
    assert shown["lineage"]["git_dirty"] is True
    commit = shown["lineage"]["git_commit"][:12]
    assert f"commit {commit}+dirty)" in project.ok("registry", "show", "llm").out


def test_register_refuses_what_is_not_a_cached_output(models) -> None:  # noqa: ANN001
    project = models.project
    result = project.cli("registry", "register", "llm", "train.py")
    assert result.code != 0 and "not a cached output" in result.err
    import shutil

    shutil.rmtree(project.path / ".dvc" / "cache")
    result = project.cli("registry", "register", "llm", "model")
    assert result.code != 0 and "not (completely) in the cache" in result.err


def test_register_pushes_to_the_default_remote(models, tmp_path) -> None:  # noqa: ANN001
    project = models.project
    remote = tmp_path / "remote"
    project.ok("remote", "add", "-d", "storage", str(remote))
    shown = models.register()
    assert shown["remote"] == "storage"
    stored = {p.name for p in remote.rglob("*") if p.is_file()}
    assert shown["hash"]["md5"][2:] in stored  # the .dir object (and its files) are there


GATES = """\
gates:
  production:
    - metrics.perplexity <= current * 1.02
    - metrics.accuracy >= 0.6
"""


def test_promote_with_passing_and_failing_gates(models) -> None:  # noqa: ANN001
    project = models.project
    models.gates(GATES)
    models.register()  # 0.1.0: accuracy 0.7
    first = project.ok("registry", "promote", "llm", "0.1.0", "--to", "production").out
    assert "gate PASS  metrics.perplexity <= current * 1.02: passed (no current" in first
    assert "gate PASS  metrics.accuracy >= 0.6: 0.7 >= 0.6" in first
    models.train(0.65)
    models.register()  # 0.1.1: worse perplexity
    refused = project.cli("registry", "promote", "llm", "0.1.1", "--to", "production")
    assert refused.code == 1
    assert "gate FAIL  metrics.perplexity <= current * 1.02: 15.3846 <= 14.5714" in refused.out
    assert "not promoted to 'production'" in refused.err and "--force" in refused.err
    assert (
        json.loads(project.ok("registry", "show", "llm@production", "--json").out)["version"]
        == "0.1.0"
    )
    models.train(0.9)
    models.register()  # 0.1.2: better
    project.ok("registry", "promote", "llm", "0.1.2", "--to", "production")
    # staging has no gates
    project.ok("registry", "promote", "llm", "0.1.1", "--to", "staging")
    listed = project.ok("registry", "list", "--json").out
    assert json.loads(listed)[0]["aliases"] == {"production": "0.1.2", "staging": "0.1.1"}


def test_force_past_failed_gates_by_an_admin_is_recorded(models) -> None:  # noqa: ANN001
    project = models.project
    project.ok("policy", "init", "--name", "alice")
    checks = ("metrics.perplexity <= current * 1.02", "metrics.accuracy >= 0.6")
    project.ok("policy", "set-gates", "production", *checks)  # policy version 2
    models.train(0.5)
    models.register()
    out = project.ok("registry", "promote", "llm", "0.1.0", "--to", "production", "--force").out
    assert "despite failed gates" in out
    promoted = models.events()[-1]
    assert promoted["data"]["forced"] is True and promoted["data"]["gates_version"] == 2
    from llmpipe.security.audit import AuditLog, audit_dir

    records = AuditLog(audit_dir(str(project.path))).records()
    assert records[-1]["command"] == "registry promote" and "--force" in records[-1]["args"]
    assert "registry OK" in project.ok("registry", "verify").out  # forced by an admin


def test_rollback_walks_back_through_the_alias_history(models) -> None:  # noqa: ANN001
    project = models.project
    for quality in (0.7, 0.8, 0.9):
        models.train(quality)
        models.register()
    for version in ("0.1.0", "0.1.1", "0.1.2"):
        project.ok("registry", "promote", "llm", version, "--to", "production")
    out = project.ok("registry", "rollback", "llm", "--alias", "production").out
    assert "from 0.1.2 to 0.1.1" in out
    project.ok("registry", "deprecate", "llm", "0.1.0")
    none_left = project.cli("registry", "rollback", "llm", "--alias", "production")
    assert none_left.code != 0 and "no earlier version" in none_left.err
    refused = project.cli("registry", "promote", "llm", "0.1.0", "--to", "staging")
    assert refused.code != 0 and "deprecated" in refused.err
    history = project.ok("registry", "history", "llm").out
    for text in (
        "registered 0.1.0",
        "promoted 0.1.1 to production (demoted 0.1.0)",
        "rolled back production from 0.1.2 to 0.1.1",
        "deprecated 0.1.0",
    ):
        assert text in history
    assert project.ok("registry", "verify").out.startswith("registry OK: 8 event(s)")


def test_show_metrics_table_and_html_plot(models, tmp_path) -> None:  # noqa: ANN001
    project = models.project
    models.register()
    models.train(0.8)
    models.register()
    table = project.ok("registry", "show", "llm", "--metrics", "--plot", "plot.html").out
    assert "registered" in table and "0.8" in table and "accuracy" in table
    html = project.read("plot.html")
    assert html.count("<svg") == 2  # accuracy and perplexity
    assert "<title>versions</title>" in html


def test_gate_expressions_are_validated_not_evaluated(models) -> None:  # noqa: ANN001
    project = models.project
    models.register()
    models.gates('gates:\n  production: [\'__import__("os").system("x") > 1\']\n')
    bad = project.cli("registry", "promote", "llm", "0.1.0", "--to", "production")
    assert bad.code != 0 and "cannot read" in bad.err
