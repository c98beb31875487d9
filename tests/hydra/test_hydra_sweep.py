"""`llmpipe sweep`: expansion, isolated jobs on Hydra launchers, shared upstream, results."""

from __future__ import annotations

import json
import os

import pytest

from llmpipe.errors import ConfigError
from llmpipe.hydra.expand import expand
from tests.hydra.conftest import DVC_YAML


def _snapshot(project) -> dict[str, bytes]:  # noqa: ANN001
    """Every workspace file by content (not .git, .llmpipe, nor the cache, which grows)."""
    found = {}
    for dirpath, dirnames, filenames in os.walk(project.path):
        dirnames[:] = [d for d in dirnames if d not in (".git", ".llmpipe", "cache", "tmp")]
        for name in filenames:
            path = os.path.join(dirpath, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, project.path)] = handle.read()
    return found


def _records(project):  # noqa: ANN001, ANN202
    from llmpipe.repo import Repo

    with Repo(str(project.path)) as repo:
        return repo.lineage.read()


def test_expand_multirun_syntax() -> None:
    jobs = expand(["a=1,2", "b=range(0,3)", "c=choice(x,y)", "d=5", "hydra/launcher=joblib"])
    assert len(jobs.jobs) == 12
    assert jobs.jobs[0] == ("a=1", "b=0", "c=x", "d=5")
    assert jobs.launcher_overrides == ("hydra/launcher=joblib",)
    assert jobs.common == ("d=5",)
    with pytest.raises(ConfigError, match="glob"):
        expand(["model=glob(*)"])
    with pytest.raises(ConfigError, match="bad override"):
        expand(["a=1,,"])


def _run_sweep(project, *args: str):  # noqa: ANN001, ANN202
    result = project.cli("sweep", *args, "--json")
    record = json.loads(result.out)
    return result, record


def test_basic_sweep_isolated_and_shares_prepare(hydra_project) -> None:  # noqa: ANN001
    hydra_project.ok("repro")
    before = _snapshot(hydra_project)
    status_before = hydra_project.git("status", "--porcelain")
    assert hydra_project.prepare_runs() == 1
    result, record = _run_sweep(
        hydra_project, "train.lr=0.1,0.2", "model=tiny,small", "--launcher", "basic"
    )
    assert result.code == 0, result.err
    assert record["launcher"] == "basic"
    assert [j["status"] for j in record["jobs"]] == ["succeeded"] * 4
    accs = sorted(j["metrics"]["metrics.json:acc"] for j in record["jobs"])
    assert accs == pytest.approx([0.1, 0.2, 0.4, 0.8])
    assert hydra_project.prepare_runs() == 1  # restored from the run-cache in every job
    assert _snapshot(hydra_project) == before
    assert hydra_project.git("status", "--porcelain") == status_before
    trains = [r for r in _records(hydra_project) if r.stage == "train" and r.overrides]
    assert sorted(r.overrides for r in trains) == sorted(
        tuple(j["overrides"]) for j in record["jobs"]
    )
    assert all(r.git_commit for r in trains)
    assert not os.listdir(hydra_project.path / ".llmpipe" / "tmp" / "sweeps")


def test_joblib_sweep_runs_shared_stage_once(hydra_project) -> None:  # noqa: ANN001
    result, record = _run_sweep(hydra_project, "train.lr=0.1,0.2", "model=glob(*)", "-j", "2")
    assert result.code == 0, result.err
    assert record["launcher"] == "joblib"
    assert len(record["jobs"]) == 4 and record["shared_stages"] == ["prepare"]
    assert hydra_project.prepare_runs() == 1  # never run before: once for the whole sweep
    assert not (hydra_project.path / "params.yaml").exists()  # the user's workspace untouched
    assert (
        sorted(j["overrides"][1] for j in record["jobs"])
        == ["model=small"] * 2 + ["model=tiny"] * 2
    )


def test_failed_job_reported_others_finish(hydra_project) -> None:  # noqa: ANN001
    result, record = _run_sweep(hydra_project, "train.lr=0.1,0,0.3", "--launcher", "basic")
    assert result.code == 1
    statuses = [j["status"] for j in record["jobs"]]
    assert statuses == ["succeeded", "failed", "succeeded"]
    assert "evaluate" in record["jobs"][1]["error"]
    assert [j["job"] for j in record["jobs"] if j["metrics"]] == [0, 2]


def test_fail_fast_stops_later_jobs(hydra_project) -> None:  # noqa: ANN001
    result, record = _run_sweep(
        hydra_project, "train.lr=0,0.1,0.2", "--launcher", "basic", "--fail-fast"
    )
    assert result.code == 1
    assert [j["status"] for j in record["jobs"]] == ["failed", "not-run", "not-run"]


def test_bad_override_refused_before_any_job(hydra_project) -> None:  # noqa: ANN001
    result = hydra_project.cli("sweep", "train.lr=0.1,0.2", "model=tiny,smal")
    assert result.code == 1 and "did you mean 'small'" in result.err
    assert not (hydra_project.path / ".llmpipe" / "sweeps").exists()
    assert hydra_project.prepare_runs() == 0


def test_show_sort_and_apply_best(hydra_project) -> None:  # noqa: ANN001
    result, record = _run_sweep(hydra_project, "train.lr=0.1,0.3", "model=tiny,small")
    assert result.code == 0, result.err
    shown = hydra_project.ok("sweep", "show", "--sort-by", "loss").out.splitlines()
    assert shown[0].split() == ["job", "overrides", "acc", "loss", "duration", "status"]
    best = int(shown[1].split()[0])
    assert record["jobs"][best]["overrides"] == ["train.lr=0.3", "model=small"]
    by_acc = hydra_project.ok("sweep", "show", record["id"][:10], "--sort-by", "acc", "--desc")
    assert by_acc.out.splitlines()[1].split()[0] == str(best)
    bad = hydra_project.cli("sweep", "show", "--sort-by", "los")
    assert bad.code == 1 and "did you mean 'loss'" in bad.err

    hydra_project.ok("sweep", "apply", record["id"], str(best))
    config = hydra_project.read("conf/config.yaml")
    assert "model: small" in config and "lr: 0.3" in config
    hydra_project.ok("repro")
    metrics = json.loads(hydra_project.read("metrics.json"))
    assert metrics["acc"] == pytest.approx(record["jobs"][best]["metrics"]["metrics.json:acc"])
    assert hydra_project.cli("sweep", "apply", record["id"], "9").code == 1


def test_plain_params_sweep_and_apply(plain_project) -> None:  # noqa: ANN001
    result, record = _run_sweep(plain_project, "train.lr=0.2,0.4", "--launcher", "basic")
    assert result.code == 0, result.err
    assert [j["metrics"]["metrics.json:acc"] for j in record["jobs"]] == pytest.approx([0.2, 0.4])
    assert "lr: 0.1  # learning rate" in plain_project.read("params.yaml")
    plain_project.ok("sweep", "apply", record["id"], "1")
    assert "lr: 0.4  # learning rate" in plain_project.read("params.yaml")
    (audited,) = json.loads(plain_project.ok("audit", "log", "--json").out)
    assert audited["command"] == "sweep run" and audited["result"] == "ok"
    assert [t["overrides"] for t in audited["targets"]] == [["train.lr=0.2"], ["train.lr=0.4"]]


def test_show_without_sweeps(hydra_project) -> None:  # noqa: ANN001
    result = hydra_project.cli("sweep", "show")
    assert result.code == 1 and "no sweeps recorded yet" in result.err


# prepare also reads data tracked with `llmpipe add`
TRACKED_DVC_YAML = DVC_YAML.replace(
    "    params: [prep.n]\n", "    deps: [raw, prepare.py]\n    params: [prep.n]\n", 1
)


def _linked_from_cache(path, project) -> bool:  # noqa: ANN001
    """Whether the workspace file `path` is the cache object (a link), not a copy of it."""
    from llmpipe.cache.links import make_link

    if path.is_symlink() or path.stat().st_nlink > 1:
        return True
    probe = project.path / ".reflink-probe"
    try:  # a filesystem with reflinks may clone instead: that shares the blocks too
        make_link("reflink", str(path), str(probe))
    except OSError:
        return False
    probe.unlink()
    return True


def _track_raw_data(project) -> None:  # noqa: ANN001
    (project.path / "raw").mkdir()
    for index in range(3):
        (project.path / "raw" / f"part-{index}.txt").write_text(f"row {index}\n" * 100)
    project.ok("add", "raw")
    project.write("dvc.yaml", TRACKED_DVC_YAML)
    project.commit("tracked data")


def test_sweep_shares_stages_that_read_tracked_data(hydra_project) -> None:  # noqa: ANN001
    _track_raw_data(hydra_project)
    result, record = _run_sweep(hydra_project, "train.lr=0.1,0.2", "--launcher", "basic")
    assert result.code == 0, result.err
    assert record["shared_stages"] == ["prepare"]
    assert hydra_project.prepare_runs() == 1  # once for the sweep, restored in both jobs
    assert {j["stages"]["prepare"] for j in record["jobs"]} == {"restored"}


def test_job_workspaces_link_tracked_data_from_the_cache(hydra_project) -> None:  # noqa: ANN001
    _track_raw_data(hydra_project)
    result, _ = _run_sweep(
        hydra_project, "train.lr=0.1,0.2", "--launcher", "basic", "--keep-workspaces"
    )
    assert result.code == 0, result.err
    jobs = sorted((hydra_project.path / ".llmpipe" / "tmp" / "sweeps").glob("*/job-*"))
    assert len(jobs) == 2
    for job in jobs:
        for part in sorted((job / "raw").iterdir()):
            assert _linked_from_cache(part, hydra_project), f"{part} is a full copy"


def test_sweep_jobs_are_saved_as_experiments_named_after_their_overrides(hydra_project) -> None:  # noqa: ANN001
    result, record = _run_sweep(hydra_project, "train.lr=0.1,0.2", "--launcher", "basic")
    assert result.code == 0, result.err
    assert all(job["experiment"].startswith("refs/exps/") for job in record["jobs"])
    shown = json.loads(hydra_project.ok("exp", "show", "--json").out)
    by_name = {r["name"]: r["revs"][0]["data"] for r in shown[1]["experiments"]}
    assert set(by_name) == {"train.lr=0.1", "train.lr=0.2"}
    assert by_name["train.lr=0.2"]["params"]["params.yaml"]["data"]["train"]["lr"] == 0.2
    assert by_name["train.lr=0.2"]["metrics"]["metrics.json"]["data"]["acc"] == pytest.approx(0.2)
    head = hydra_project.git("rev-parse", "HEAD").strip()
    kept = hydra_project.git("ls-tree", "-r", "--name-only", head).split()
    ref = record["jobs"][0]["experiment"]
    # The job's copy has no .llmpipe/: its tracked files are kept, not taken for deleted.
    assert set(kept) <= set(hydra_project.git("ls-tree", "-r", "--name-only", ref).split())
