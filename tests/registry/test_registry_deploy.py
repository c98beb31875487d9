"""Deploy (local and fsspec), rollback + redeploy byte for byte, monitoring."""

from __future__ import annotations

import json
from pathlib import Path


def _promote_two(models) -> None:  # noqa: ANN001
    project = models.project
    models.register()  # 0.1.0, quality 0.7
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    models.train(0.9)
    models.register()  # 0.1.1
    project.ok("registry", "promote", "llm", "0.1.1", "--to", "production")


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_deploy_rollback_deploy_restores_the_previous_bytes(models, tmp_path) -> None:  # noqa: ANN001
    project = models.project
    dest = tmp_path / "serving"
    models.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    out = project.ok("deploy", "llm@production", "--to", str(dest)).out
    assert "Deployed llm 0.1.0 (production): 2 file(s)" in out
    first = _files(dest / "current")
    assert first["weights.bin"] == (project.path / "model" / "weights.bin").read_bytes()
    card = first["MODEL_CARD.md"].decode()
    assert "# llm 0.1.0" in card and "accuracy | 0.7" in card and "promoted 0.1.0" in card
    assert json.loads(first["deployment.json"])["version"] == "0.1.0"

    models.train(0.9)
    models.register()
    project.ok("registry", "promote", "llm", "0.1.1", "--to", "production")
    project.ok("deploy", "llm@production", "--to", str(dest))
    second = _files(dest / "current")
    assert second["weights.bin"] != first["weights.bin"]
    assert (dest / "CURRENT").read_text().startswith("llm-0.1.1-")

    project.ok("registry", "rollback", "llm", "--alias", "production")
    project.ok("deploy", "llm@production", "--to", str(dest))
    again = _files(dest / "current")
    for name in ("weights.bin", "config.json"):
        assert again[name] == first[name]
    assert (dest / "CURRENT").read_text().startswith("llm-0.1.0-")
    assert not [p for p in (dest / "releases").iterdir() if p.name.startswith(".tmp")]
    history = project.ok("registry", "history", "llm").out
    assert history.count("deployed") == 3


def test_deploy_to_an_fsspec_url_writes_current_last(models) -> None:  # noqa: ANN001
    import fsspec

    project = models.project
    _promote_two(models)
    project.ok("deploy", "llm@production", "--to", "memory://serving/llm")
    fs = fsspec.filesystem("memory")
    release = fs.cat_file("/serving/llm/CURRENT").decode().strip()
    assert release.startswith("llm-0.1.1-")
    weights = fs.cat_file(f"/serving/llm/releases/{release}/weights.bin")
    assert weights == (project.path / "model" / "weights.bin").read_bytes()
    fs.rm("/serving", recursive=True)


def test_deploy_refuses_a_corrupt_cache_object(models, tmp_path) -> None:  # noqa: ANN001
    project = models.project
    shown = models.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    from llmpipe.repo import Repo

    odb = Repo(str(project.path)).odb
    for _, value in odb.read_manifest(shown["hash"]["md5"]):
        path = Path(odb.oid_path(value))
        path.chmod(0o644)
        path.write_bytes(b"tampered")
    result = project.cli("deploy", "llm@production", "--to", str(tmp_path / "out"))
    assert result.code != 0 and "do not match the registered digest" in result.err
    assert not (tmp_path / "out" / "CURRENT").exists()


MONITOR = """\
monitor:
  - metrics.accuracy >= registered - 0.05
  - metrics.perplexity <= registered * 1.1
"""


def test_monitor_passes_then_flags_degradation_and_rolls_back(models, tmp_path) -> None:  # noqa: ANN001
    project = models.project
    models.gates(MONITOR)
    _promote_two(models)  # production = 0.1.1 (accuracy 0.9), before it 0.1.0
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"accuracy": 0.88, "perplexity": 11.2}))
    ok = project.ok("monitor", "llm@production", "--metrics", str(good))
    assert "No degradation." in ok.out and "check PASS" in ok.out
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"accuracy": 0.6, "perplexity": 16.0}))
    flagged = project.cli("monitor", "llm@production", "--metrics", str(bad))
    assert flagged.code == 1
    assert "check FAIL  metrics.accuracy >= registered - 0.05: 0.6 >= 0.85" in flagged.out
    assert "DEGRADED: 2 check(s) failed" in flagged.err
    assert "accuracy" in flagged.out and "-0.3 (-33.3%)" in flagged.out
    shown = json.loads(project.ok("registry", "show", "llm@production", "--json").out)
    assert shown["version"] == "0.1.1"  # not rolled back unless asked
    rolled = project.cli(
        "monitor", "llm@production", "--metrics", str(bad), "--rollback-on-degradation"
    )
    assert rolled.code == 1
    assert "Rolled back 'production' of llm from 0.1.1 to 0.1.0." in rolled.out
    shown = json.loads(project.ok("registry", "show", "llm@production", "--json").out)
    assert shown["version"] == "0.1.0"
    kinds = [e["type"] for e in models.events()]
    assert kinds[-4:] == ["monitor", "monitor", "monitor", "rollback"]
    table = project.ok("registry", "show", "llm", "--metrics").out
    assert table.count("monitored") == 3


def test_monitor_rollback_refused_without_the_permission(models, tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from llmpipe.security import keys

    project = models.project
    project.ok("policy", "init", "--name", "alice")
    ops = keys.generate_key("ops")
    project.ok("policy", "set-role", "watcher", "deploy")
    project.ok("policy", "add-member", "ops", ops.public_key, "--role", "watcher")
    models.gates(MONITOR)
    _promote_two(models)
    monkeypatch.setenv("LLMPIPE_KEY_FILE", str(ops.path))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"accuracy": 0.1, "perplexity": 100}))
    result = project.cli(
        "monitor", "llm@production", "--metrics", str(bad), "--rollback-on-degradation"
    )
    assert result.code == 1
    assert "Not rolled back" in result.err and "lacks the permission 'rollback'" in result.err
    shown = json.loads(project.ok("registry", "show", "llm@production", "--json").out)
    assert shown["version"] == "0.1.1"


def test_monitor_rollback_refusal_names_every_version_the_alias_held(models, tmp_path) -> None:  # noqa: ANN001
    project = models.project
    models.gates(MONITOR)
    _promote_two(models)
    project.ok("registry", "rollback", "llm", "--alias", "production")  # back to 0.1.0
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"accuracy": 0.1, "perplexity": 100}))
    result = project.cli(
        "monitor", "llm@production", "--metrics", str(bad), "--rollback-on-degradation"
    )
    assert result.code == 1
    assert "has only held" not in result.err
    assert (
        "Not rolled back: 'production' of 'llm' has no earlier version to roll back to: it points"
        " at 0.1.0, the first version it held (it has held 0.1.0, 0.1.1, and was rolled back"
        " from 0.1.1)"
    ) in " ".join(result.err.split())


def test_monitor_runs_an_evaluation_stage(models) -> None:  # noqa: ANN001
    project = models.project
    project.write(
        "evaluate.py", "import json\njson.dump({'accuracy': 0.2}, open('eval.json', 'w'))\n"
    )
    project.write(
        "dvc.yaml",
        project.read("dvc.yaml")
        + "  evaluate:\n    cmd: python evaluate.py\n    deps: [model, evaluate.py]\n"
        "    metrics:\n      - eval.json:\n          cache: false\n",
    )
    models.gates("monitor:\n  production: ['metrics.accuracy >= registered - 0.1']\n")
    models.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    result = project.cli("monitor", "llm@production", "--stage", "evaluate")
    assert result.code == 1 and "0.2 >= 0.6" in result.out
    assert json.loads(project.read("eval.json")) == {"accuracy": 0.2}


def test_deployed_files_are_readable_by_the_serving_user(models, tmp_path) -> None:  # noqa: ANN001
    """A server running as another user reads CURRENT and the generated files."""
    import os

    project = models.project
    dest = tmp_path / "serving"
    models.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    previous = os.umask(0o022)
    try:
        project.ok("deploy", "llm@production", "--to", str(dest))
    finally:
        os.umask(previous)
    for path in (dest / "CURRENT", dest / "current" / "deployment.json"):
        assert path.stat().st_mode & 0o777 == 0o644, path
    assert (dest / "current" / "weights.bin").stat().st_mode & 0o004
