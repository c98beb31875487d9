"""`llmpipe metrics` and `params` show/diff across the branches of a real git repository."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from tests.compare.experiments import build, metrics_of


@pytest.fixture
def experiments(project):
    build(project)
    return project


def test_metrics_show_all_branches_reads_git_and_cache(experiments):
    shown = json.loads(experiments.ok("metrics", "show", "-a", "--json").out)
    # As dvc: the workspace is left out when it shows what the checked-out branch shows.
    assert list(shown) == ["exp-a", "exp-b", "main"]
    for branch in ("main", "exp-a", "exp-b"):
        files = {path: v["data"] for path, v in shown[branch]["data"].items()}
        assert files == metrics_of(branch), branch
    experiments.write("metrics.json", '{"acc": 0.25}')
    shown = json.loads(experiments.ok("metrics", "show", "-a", "--json").out)
    assert list(shown) == ["workspace", "exp-a", "exp-b", "main"]


def test_metrics_show_without_revisions_is_the_workspace(experiments):
    shown = json.loads(experiments.ok("metrics", "show", "--json").out)
    assert list(shown) == [""]
    table = experiments.ok("metrics", "show").out.splitlines()
    assert table[0].split() == ["Path", "acc", "better", "f1", "loss.val", "name"]
    assert table[1].split() == ["metrics.json", "0.2", "False", "-", "0.9", "m"]


def test_metrics_show_table_flattens_keys(experiments):
    out = experiments.ok("metrics", "show", "--rev", "exp-b").out.splitlines()
    assert out[0].split() == ["Revision", "Path", "acc", "better", "f1", "loss.val", "name"]
    rows = {tuple(line.split()[:2]): line.split()[2:] for line in out[1:]}
    assert rows[("exp-b", "metrics.json")] == ["0.8", "True", "-", "0.6", "m"]
    assert rows[("exp-b", "eval.json")] == ["-", "-", "1.2", "-", "-"]
    assert rows[("workspace", "eval.json")] == ["-", "-", "0.3", "-", "-"]


def test_metrics_show_tags_and_commits(experiments):
    tags = json.loads(experiments.ok("metrics", "show", "-T", "--json").out)
    assert list(tags) == ["workspace", "v1"]
    commits = json.loads(experiments.ok("metrics", "show", "-A", "--json").out)
    shas = experiments.git("rev-list", "--all").split()
    # Full shas, as dvc names them (commits of equal time may come in another order).
    assert list(commits)[0] == "workspace" and sorted(list(commits)[1:]) == sorted(shas)


def test_metrics_diff_between_branches(experiments):
    diff = json.loads(experiments.ok("metrics", "diff", "main", "exp-b", "--json").out)
    assert diff == {
        "eval.json": {"f1": {"old": 0.3, "new": 1.2, "diff": pytest.approx(0.9)}},
        "metrics.json": {
            "acc": {"old": 0.2, "new": 0.8, "diff": pytest.approx(0.6)},
            "better": {"old": False, "new": True, "diff": 1},
            "loss.val": {"old": 0.9, "new": 0.6, "diff": pytest.approx(-0.3)},
        },
    }
    every = json.loads(experiments.ok("metrics", "diff", "main", "exp-b", "--all", "--json").out)
    assert every["metrics.json"]["name"] == {"old": "m", "new": "m"}


def test_metrics_diff_defaults_to_head_vs_workspace(experiments):
    assert experiments.ok("metrics", "diff", "--json").out.strip() == "{}"
    experiments.write(
        "metrics.json", '{"acc": 0.25, "loss": {"val": 0.9}, "name": "m", "better": false}'
    )
    diff = json.loads(experiments.ok("metrics", "diff", "--json").out)
    assert diff == {"metrics.json": {"acc": {"old": 0.2, "new": 0.25, "diff": pytest.approx(0.05)}}}
    table = experiments.ok("metrics", "diff").out.splitlines()
    assert table[0].split() == ["Path", "Metric", "HEAD", "workspace", "Change", "Relative"]
    assert table[1].split() == ["metrics.json", "acc", "0.2", "0.25", "0.05", "+25.00%"]


def test_metrics_diff_only_precision_and_markdown(experiments):
    result = experiments.ok(
        "metrics", "diff", "main", "exp-a", "--only", "loss.*", "--precision", "2", "--md"
    )
    assert result.out.splitlines() == [
        "| Path         | Metric   | main   | exp-a   | Change   | Relative   |",
        "|--------------|----------|--------|---------|----------|------------|",
        "| metrics.json | loss.val | 0.9    | 0.8     | -0.1     | -11.11%    |",
        "",
    ]
    no_path = experiments.ok("metrics", "diff", "main", "exp-a", "--only", "acc", "--no-path")
    assert no_path.out.splitlines()[0].split() == ["Metric", "main", "exp-a", "Change", "Relative"]


def test_params_show_and_diff(experiments):
    shown = json.loads(experiments.ok("params", "show", "-a", "--json").out)
    assert shown["exp-b"]["data"]["params.yaml"]["data"] == {
        "train": {"lr": 0.4, "epochs": 4, "layers": [1, 2]},
        "seed": 7,
    }
    diff = json.loads(experiments.ok("params", "diff", "main", "exp-b", "--json").out)
    assert diff == {
        "params.yaml": {
            "train.epochs": {"old": 3, "new": 4, "diff": 1},
            "train.lr": {"old": 0.1, "new": 0.4, "diff": pytest.approx(0.3)},
        }
    }
    every = json.loads(experiments.ok("params", "diff", "main", "exp-b", "--all", "--json").out)
    assert every["params.yaml"]["train.layers"] == {"old": "[1, 2]", "new": "[1, 2]"}
    assert every["params.yaml"]["seed"] == {"old": 7, "new": 7, "diff": 0}
    deps = json.loads(experiments.ok("params", "show", "--deps", "--json").out)
    assert deps[""]["data"]["params.yaml"]["data"] == {"train": {"lr": 0.1, "epochs": 3}}
    table = experiments.ok("params", "diff", "main", "exp-b").out.splitlines()
    assert table[0].split() == ["Path", "Param", "main", "exp-b"]  # no Change column, as dvc


def test_unknown_revision_suggests_branches(experiments):
    result = experiments.cli("metrics", "diff", "main", "exp-c")
    assert result.code == 1
    assert "unknown revision 'exp-c'" in result.err and "'exp-a'" in result.err


def test_revision_without_dvc_yaml_has_no_metrics(project):
    project.write("README", "start\n")
    project.commit("before the pipeline")
    first = project.git("rev-parse", "HEAD").strip()
    build(project)
    result = project.ok("metrics", "show", "--rev", first, "--rev", "exp-a", "--json")
    shown = json.loads(result.out)
    assert shown[first] == {"data": {}}  # as dvc: nothing declared, nothing to read
    assert shown["exp-a"]["data"]["metrics.json"]["data"]["acc"] == 0.4


def test_invalid_metrics_file_at_one_revision_fails_after_showing_the_rest(experiments):
    experiments.git("checkout", "-q", "-b", "broken", "main")
    experiments.write("metrics.json", "{not json")
    experiments.commit("broken metrics")
    experiments.git("checkout", "-q", "main")
    result = experiments.cli("metrics", "show", "-a", "--json")
    assert result.code == 1 and "could not read metrics of 'broken'" in result.err
    shown = json.loads(result.out)
    assert "invalid JSON" in shown["broken"]["data"]["metrics.json"]["error"]["msg"]
    assert shown["broken"]["data"]["eval.json"]["data"] == {"f1": 0.3}
    assert shown["exp-a"]["data"]["metrics.json"]["data"]["acc"] == 0.4
    assert "'metrics.json' at broken: invalid JSON" in result.err
    diff = experiments.cli("metrics", "diff", "main", "broken", "--json")
    assert diff.code == 1  # never a quiet "changed to nothing"
    assert json.loads(diff.out)["metrics.json"]["acc"] == {"old": 0.2, "new": None}


def test_cached_metric_missing_from_cache_says_fetch(experiments):
    lock = experiments.git("show", "exp-b:dvc.lock")
    digest = lock.split("path: eval.json")[1].split("md5: ")[1].split()[0]
    cache_file = experiments.path / ".dvc/cache/files/md5" / digest[:2] / digest[2:]
    os.chmod(cache_file, 0o644)
    cache_file.unlink()
    result = experiments.cli("metrics", "show", "--rev", "exp-b", "--json")
    assert result.code == 1
    error = json.loads(result.out)["exp-b"]["data"]["eval.json"]["error"]["msg"]
    assert "not in the cache" in error and "llmpipe fetch" in error


def test_shallow_clone_names_missing_history(experiments, tmp_path):
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", f"file://{experiments.path}", str(clone)],
        check=True,
    )
    from llmpipe.cli.main import main

    previous = os.getcwd()
    os.chdir(clone)
    try:
        code = main(["metrics", "diff", "HEAD~1", "--json"])
    finally:
        os.chdir(previous)
    assert code == 1
    assert "shallow clone" in experiments._capsys.readouterr().err


def test_metrics_show_with_params_is_one_row_per_revision(experiments):
    shown = json.loads(
        experiments.ok("metrics", "show", "--rev", "exp-a", "--params", "--json").out
    )
    files = shown["exp-a"]["data"]
    assert files["params.yaml"]["data"]["train"]["lr"] == 0.2
    assert files["metrics.json"]["data"]["acc"] == 0.4
    table = experiments.ok("metrics", "show", "-a", "--params", "--md").out.splitlines()
    header, *rows = ([c.strip() for c in line.strip("|").split("|")] for line in table if line)
    assert header[0] == "Revision" and {"acc", "f1", "train.lr", "seed"} <= set(header)
    rows = [row for row in rows if not row[0].startswith("-")]
    assert [row[0] for row in rows] == ["exp-a", "exp-b", "main"]
    row = dict(zip(header, rows[1], strict=True))
    assert row["acc"] == "0.8" and row["f1"] == "1.2" and row["train.lr"] == "0.4"
    assert row["train.layers"] == "[1, 2]"
