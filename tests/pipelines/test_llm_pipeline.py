"""The reference pipeline under `llmpipe repro`: full run, no-op, selective re-runs, lineage."""

from __future__ import annotations

import json
import re
import shlex

import yaml

from tests.conftest import ROOT
from tests.pipelines.conftest import needs_torch, ran_stages

needs_torch()

STAGES = {"prepare", "train", "checkpoint", "evaluate"}


def test_full_repro_runs_every_stage_and_the_model_learns(built):
    repo, stdout = built
    assert ran_stages(stdout) == STAGES
    # Every long stage says how far it is, how fast it goes and when it will be done.
    assert re.search(r"train: step 60/60 loss .* ms/step, ETA 0s\)", stdout)
    assert re.search(r"evaluate: scoring 1/\d+ batches, [\d.e+]+ batches/s, ETA \d+s", stdout)
    assert "evaluate: sampling 40/40 tokens" in stdout
    metrics = json.loads((repo.path / "reports/metrics.json").read_text())
    assert metrics["uniform_perplexity"] == 257.0
    assert metrics["test_perplexity"] < metrics["uniform_perplexity"] / 5
    release = repo.path / "models/release"
    names = {p.name for p in release.iterdir()}
    assert {"model.safetensors", "config.json", "tokenizer.json", "MODEL_CARD.md"} <= names


def test_release_records_its_lineage(built):
    repo, _ = built
    card = json.loads((repo.path / "data/prepared/dataset_card.json").read_text())
    lineage = json.loads((repo.path / "models/release/lineage.json").read_text())
    model_card = (repo.path / "models/release/MODEL_CARD.md").read_text()
    assert lineage["dataset"]["dataset_hash"] == card["dataset_hash"]
    assert lineage["dataset"]["source_hash"] == card["source"]["hash"]
    assert lineage["git"]["commit"] == repo.run("git", "rev-parse", "HEAD").stdout.strip()
    assert lineage["trained_steps"] == 60 and lineage["step"] in (20, 40, 60)
    assert lineage["params"]["model"] == repo.params()["model"]
    for text in (card["dataset_hash"], card["source"]["hash"], lineage["git"]["commit"]):
        assert text in model_card


def test_dataset_card_counts_match_the_shards(built):
    import pyarrow.parquet as pq

    repo, _ = built
    prepared = repo.path / "data/prepared"
    card = json.loads((prepared / "dataset_card.json").read_text())
    for split, info in card["splits"].items():
        tables = [pq.read_table(prepared / split / shard) for shard in info["shards"]]
        assert sum(t.num_rows for t in tables) == info["documents"] >= 1
        assert sum(sum(t.column("n_tokens").to_pylist()) for t in tables) == info["tokens"]
    assert card["total_tokens"] == sum(i["tokens"] for i in card["splits"].values())


def test_outputs_are_gitignored_and_only_the_lock_and_metrics_are_left_to_commit(built):
    repo, _ = built
    status = repo.run("git", "status", "--porcelain", "--untracked-files=all").stdout.split("\n")
    left = sorted(line[3:] for line in status if line)
    assert left == ["dvc.lock", "reports/metrics.json"]


def test_second_repro_runs_nothing(built_copy):
    result = built_copy.repro()
    assert ran_stages(result.stdout) == set()
    assert "Data and pipelines are up to date." in result.stdout


def test_train_param_change_reruns_train_checkpoint_and_evaluate(built_copy):
    built_copy.update_params("train", lr=0.02)
    result = built_copy.repro()
    assert ran_stages(result.stdout) == {"train", "checkpoint", "evaluate"}
    assert "discarding old checkpoints" in result.stdout  # not resumed under other settings
    assert "Stage 'prepare' is up to date" in result.stdout


def test_prepare_param_change_reruns_everything(built_copy):
    built_copy.update_params("data", max_documents=11)
    result = built_copy.repro()
    assert ran_stages(result.stdout) == STAGES


def test_lineage_of_the_release_leads_back_to_the_corpus(built):
    repo, _ = built
    result = repo.llmpipe("lineage", "models/release", "--json")
    assert result.returncode == 0, result.stderr
    runs = {run["stage"]: run for run in json.loads(result.stdout)["runs"]}
    assert set(runs) == {"prepare", "train", "checkpoint"}
    corpus = runs["prepare"]["params"]["params.yaml"]["data"]
    assert corpus["source"] == "stdlib" and corpus["include"] == ["*.py"]
    text = repo.llmpipe("lineage", "models/release/model.safetensors").stdout
    assert "prepare" in text and "pipelines/llm/corpus.py" in text


def readme_quick_run() -> list[str]:
    """The `-S` settings of the README's "run of about a minute"."""
    readme = (ROOT / "README.md").read_text()
    (command,) = re.findall(r"^llmpipe repro -S .*$", readme, flags=re.M)
    return shlex.split(command)[2:]


def test_the_readme_one_minute_settings_apply_to_the_default_params(built_copy):
    """The settings are accepted by `repro -S` and valid for every stage (not run here:
    the default model trains for a minute)."""
    from pipelines.llm import evaluate, train

    (built_copy.path / "params.yaml").write_text((ROOT / "params.yaml").read_text())
    built_copy.repro(*readme_quick_run(), "prepare")
    params = yaml.safe_load((built_copy.path / "params.yaml").read_text())
    assert params["train"]["max_steps"] < 600 and params["train"]["threads"] == 1
    train.validate_params(params["model"], params["train"])
    evaluate.validate_params(params["evaluate"])
