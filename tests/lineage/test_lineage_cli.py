from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys

import pytest

from llmpipe.cli.lineage import format_duration
from llmpipe.cli.main import main
from llmpipe.lineage.record import ArtifactRef
from llmpipe.lineage.store import LineageStore

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = b"weights"
MODEL_MD5 = hashlib.md5(MODEL).hexdigest()


@pytest.fixture
def project(tmp_path, monkeypatch, make_run):
    """A project (hand-made `.dvc/`) whose lineage store holds a 3-stage history."""
    (tmp_path / ".dvc").mkdir()
    prepare = make_run(
        "prepare",
        0,
        deps=[("data/raw.csv", "1" * 32)],
        outs=[ArtifactRef("data/prepared", "4" * 32 + ".dir", 300, 2)],
        params={"params.yaml": {"prepare.seed": 42}},
        git_commit="abcdef1234" + "0" * 30,
        git_dirty=True,
    )
    train = make_run(
        "train",
        1,
        deps=[("data/prepared/train.parquet", "6" * 32)],
        outs=[("models/model.pt", MODEL_MD5)],
        from_run_cache=True,
        status="restored",
    )
    failed = make_run("evaluate", 2, status="failed", exit_status=2, error="bad")
    LineageStore(str(tmp_path / ".llmpipe" / "lineage")).append([prepare, train, failed])
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "model.pt").write_bytes(MODEL)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_lineage_renders_each_run_upstream_first(project, capsys):
    assert main(["lineage", "models/model.pt"]) == 0
    out = capsys.readouterr().out
    assert out.index("prepare") < out.index("train  restored (run-cache)")
    assert "data/raw.csv  11111111" in out  # raw input with short hash
    assert "commit abcdef1+dirty" in out
    assert "params.yaml: prepare.seed=42" in out
    assert "data/prepared (44444444.dir, 2 files)" in out
    assert "python train.py" in out


def test_lineage_path_is_relative_to_the_current_directory(project, capsys, monkeypatch):
    monkeypatch.chdir(project / "models")
    assert main(["lineage", "model.pt", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["path"] == "models/model.pt"
    assert [run["stage"] for run in payload["runs"]] == ["prepare", "train"]
    assert payload["runs"][0]["started_at"] == "2026-11-27T09:00:00.123456+00:00"
    assert payload["raw_inputs"][0]["path"] == "data/raw.csv"


def test_lineage_of_an_unproduced_path_is_a_clear_error(project, capsys):
    assert main(["lineage", "data/raw.csv"]) == 1
    err = capsys.readouterr().err
    assert "no recorded run produced 'data/raw.csv'" in err and "llmpipe repro" in err


def test_lineage_outside_the_project_is_refused(project, capsys):
    assert main(["lineage", "../elsewhere.txt"]) == 1
    assert "outside the project" in capsys.readouterr().err


def test_log_lists_newest_first_as_a_table(project, capsys):
    assert main(["log"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["TIME", "STAGE", "STATUS", "DURATION", "COMMIT", "RUN"]
    assert [line.split()[2] for line in lines[1:]] == ["evaluate", "train", "prepare"]
    assert lines[3].split()[3:6] == ["ran", "30.0s", "abcdef1+dirty"]


def test_log_filters_limits_and_prints_json(project, capsys):
    assert main(["log", "--stage", "train", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [run["stage"] for run in runs] == ["train"] and runs[0]["from_run_cache"] is True
    assert main(["log", "-n", "1", "--json"]) == 0
    assert [run["stage"] for run in json.loads(capsys.readouterr().out)] == ["evaluate"]


def test_log_on_an_empty_store_says_so(tmp_path, monkeypatch, capsys):
    (tmp_path / ".dvc").mkdir()
    monkeypatch.chdir(tmp_path)
    assert main(["log"]) == 0
    assert "No runs recorded yet" in capsys.readouterr().out
    assert main(["log", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_cli_runs_as_a_module_outside_a_project(tmp_path):
    env = {**os.environ, "PYTHONPATH": REPO_ROOT}
    result = subprocess.run(
        [sys.executable, "-m", "llmpipe", "log"], cwd=tmp_path, env=env,
        capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 1 and "llmpipe init" in result.stderr


def test_format_duration():
    assert [format_duration(s) for s in (0.04, 59.9, 61, 3725)] == [
        "0.0s",
        "59.9s",
        "1m01s",
        "1h02m",
    ]
