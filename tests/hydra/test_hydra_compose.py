"""Composition in `repro`: Hydra configs and -S overrides into params.yaml."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.conftest import llmpipe_env, needs_dvc


def _lineage(project):  # noqa: ANN001, ANN202
    from llmpipe.repo import Repo

    with Repo(str(project.path)) as repo:
        return repo.lineage.read()


def test_repro_composes_conf_and_overrides(hydra_project) -> None:  # noqa: ANN001
    hydra_project.ok("repro")
    assert "lr: 0.1" in hydra_project.read("params.yaml")
    assert json.loads(hydra_project.read("metrics.json"))["acc"] == pytest.approx(0.1)

    result = hydra_project.ok("repro", "-S", "train.lr=0.5", "-S", "model=small")
    params = hydra_project.read("params.yaml")
    assert "lr: 0.5" in params and "layers: 4" in params
    assert json.loads(hydra_project.read("metrics.json"))["acc"] == pytest.approx(2.0)
    assert "Running stage 'train'" in result.out
    assert "Running stage 'prepare'" not in result.out  # its params did not change
    trains = [r for r in _lineage(hydra_project) if r.stage == "train"]
    assert {r.overrides for r in trains} == {(), ("train.lr=0.5", "model=small")}


def test_repro_follows_edited_conf(hydra_project) -> None:  # noqa: ANN001
    hydra_project.ok("repro")
    hydra_project.write("conf/model/tiny.yaml", "layers: 2\n")
    hydra_project.ok("repro")
    assert "layers: 2" in hydra_project.read("params.yaml")
    assert json.loads(hydra_project.read("metrics.json"))["acc"] == pytest.approx(0.2)
    mtime = os.stat(hydra_project.path / "params.yaml").st_mtime_ns
    assert "up to date" in hydra_project.ok("repro").out
    assert os.stat(hydra_project.path / "params.yaml").st_mtime_ns == mtime  # not rewritten


def test_add_and_delete_keys(hydra_project) -> None:  # noqa: ANN001
    hydra_project.ok("repro", "-S", "+train.warmup=100", "-S", "~train.epochs")
    params = hydra_project.read("params.yaml")
    assert "warmup: 100" in params and "epochs" not in params


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        (
            "train.lrr=1",
            "no key 'train.lrr' in the composed config (conf/config.yaml) (did you mean 'train.lr'",
        ),
        ("model=smal", "config group 'model' has no option 'smal' (did you mean 'small'?)"),
        ("train.lr=(", "bad override 'train.lr=('"),
        ("+train.lr=1", "'train.lr' already exists"),
        ("~train.nope", "no key 'train.nope'"),
        ("train.lr=1,2", "is a sweep; run it with 'llmpipe sweep'"),
    ],
)
def test_bad_overrides_refused_before_anything_runs(hydra_project, override, expected) -> None:  # noqa: ANN001
    hydra_project.ok("repro")
    before = hydra_project.read("params.yaml")
    mtime = os.stat(hydra_project.path / "params.yaml").st_mtime_ns
    result = hydra_project.cli("repro", "-S", "train.lr=0.7", "-S", override)
    assert result.code == 1
    assert expected in result.err
    assert hydra_project.read("params.yaml") == before
    assert os.stat(hydra_project.path / "params.yaml").st_mtime_ns == mtime
    assert "Running stage" not in result.out


def test_hand_edited_params_yaml_is_not_overwritten_without_force(hydra_project) -> None:  # noqa: ANN001
    hydra_project.ok("repro")
    edited = hydra_project.read("params.yaml").replace("lr: 0.1", "lr: 0.3")
    hydra_project.write("params.yaml", edited)
    refused = hydra_project.cli("repro")
    assert refused.code == 1
    assert "params.yaml was edited by hand since llmpipe last composed it" in refused.err
    assert "(train.lr)" in refused.err and "llmpipe repro --force" in refused.err
    assert hydra_project.read("params.yaml") == edited  # the edit is kept
    status = hydra_project.ok("status")
    assert "WARNING: params.yaml was edited by hand" in status.err
    assert "param 'train' changed" in status.out  # judged by the file as it is
    hydra_project.ok("repro", "--force")
    assert "lr: 0.1" in hydra_project.read("params.yaml")
    hydra_project.write("conf/config.yaml", hydra_project.read("conf/config.yaml") + "extra: 1\n")
    hydra_project.ok("repro")
    assert "extra: 1" in hydra_project.read("params.yaml")  # llmpipe's own text: no refusal


def test_status_composes_as_repro_does(hydra_project) -> None:  # noqa: ANN001
    hydra_project.ok("repro")
    hydra_project.ok("repro", "-S", "train.lr=0.2")
    assert "lr: 0.2" in hydra_project.read("params.yaml")
    # the next plain repro composes conf/ again (lr 0.1): status must say train would run
    status = hydra_project.ok("status")
    assert "train:" in status.out and "param 'train' changed" in status.out
    assert "prepare" not in status.out
    assert "lr: 0.2" in hydra_project.read("params.yaml")  # status writes nothing
    hydra_project.ok("repro")
    assert "lr: 0.1" in hydra_project.read("params.yaml")
    assert "up to date" in hydra_project.ok("status").out
    hydra_project.write("conf/config.yaml", hydra_project.read("conf/config.yaml").replace(
        "n: 3", "n: 4"))  # fmt: skip
    assert "param 'prep.n' changed" in hydra_project.ok("status").out


def test_status_sees_composed_params_in_interpolation_and_file_deps(hydra_project) -> None:  # noqa: ANN001
    hydra_project.write(
        "dvc.yaml",
        hydra_project.read("dvc.yaml")
        + "  snapshot:\n    cmd: cp params.yaml snap-${train.epochs}.yaml\n"
        "    deps: [params.yaml]\n    outs: ['snap-${train.epochs}.yaml']\n",
    )
    hydra_project.ok("repro")
    hydra_project.write("conf/config.yaml", hydra_project.read("conf/config.yaml").replace(
        "epochs: 2", "epochs: 3"))  # fmt: skip
    status = hydra_project.ok("status").out
    assert "snapshot:" in status and "dep 'params.yaml' modified" in status
    assert "snap-3.yaml" in status  # the stage as repro will load it: outs changed
    hydra_project.ok("repro")
    assert (hydra_project.path / "snap-3.yaml").exists()
    assert "up to date" in hydra_project.ok("status").out


def test_init_hydra_in_an_existing_project_scaffolds_conf_from_params(plain_project) -> None:  # noqa: ANN001
    plain_project.ok("repro")
    params = plain_project.read("params.yaml")
    result = plain_project.ok("init", "--hydra")
    assert "nothing to do" not in result.out
    assert "Created conf/config.yaml from params.yaml" in result.out
    assert plain_project.read("conf/config.yaml") == params  # comments and all
    assert "up to date" in plain_project.ok("status").out
    assert "up to date" in plain_project.ok("repro").out  # same values: nothing re-runs
    plain_project.ok("repro", "-S", "train.lr=0.4")
    assert json.loads(plain_project.read("metrics.json"))["acc"] == pytest.approx(0.4)
    again = plain_project.ok("init", "--hydra")
    assert "conf/config.yaml exists; kept as it is" in again.out
    assert plain_project.read("conf/config.yaml") == params


def test_missing_conf_is_a_clear_error(project) -> None:  # noqa: ANN001
    project.ok("init", "--hydra")
    result = project.cli("repro")
    assert result.code == 1 and "config directory 'conf' does not exist" in result.err


def test_plain_params_overrides_keep_comments(plain_project) -> None:  # noqa: ANN001
    plain_project.ok("repro", "-S", "train.lr=0.5")
    text = plain_project.read("params.yaml")
    assert "lr: 0.5  # learning rate" in text and text.startswith("# hand-written")
    assert json.loads(plain_project.read("metrics.json"))["acc"] == pytest.approx(0.5)
    result = plain_project.cli("repro", "-S", "train.lrr=1")
    assert result.code == 1 and "did you mean 'train.lr'" in result.err
    assert plain_project.read("params.yaml") == text


def test_dry_run_validates_but_writes_nothing(plain_project) -> None:  # noqa: ANN001
    before = plain_project.read("params.yaml")
    plain_project.ok("repro", "--dry", "-S", "train.lr=0.9")
    assert plain_project.read("params.yaml") == before
    assert plain_project.cli("repro", "--dry", "-S", "nope=1").code == 1


def test_repro_without_hydra_does_not_import_it(plain_project) -> None:  # noqa: ANN001
    plain_project.ok("repro")
    code = (
        "import sys; from llmpipe.cli.main import main; rc = main(['repro', '-q']); "
        "assert rc == 0, rc; bad = [m for m in ('hydra', 'omegaconf') if m in sys.modules]; "
        "assert not bad, bad"
    )
    env = llmpipe_env()
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=plain_project.path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.dvc
@needs_dvc
def test_params_yaml_matches_dvc_exp_run(hydra_project, tmp_path) -> None:  # noqa: ANN001
    overrides = ["train.lr=3e-4", "model=small", "+train.tag=x y", "prep.n=7"]
    twin = tmp_path / "twin"
    shutil.copytree(hydra_project.path, twin)
    hydra_project.ok("repro", *[a for o in overrides for a in ("-S", o)])
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}  # the twin is already DVC-readable
    args = ["dvc", "exp", "run", "-q", *[a for o in overrides for a in ("-S", o)]]
    subprocess.run(args, cwd=twin, check=True, env=env, capture_output=True)
    assert (twin / "params.yaml").read_bytes() == (hydra_project.path / "params.yaml").read_bytes()


@pytest.mark.dvc
@needs_dvc
@pytest.mark.parametrize(
    "existing", ["", "[core]\n    remote = origin\n['remote \"origin\"']\n    url = /tmp/x\n"]
)
def test_init_hydra_writes_config_like_dvc(tmp_path, existing: str) -> None:
    from llmpipe.config import set_value

    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    for path in (ours, theirs):
        path.mkdir()
        (path / "config").write_text(existing)
    set_value(str(ours / "config"), "hydra", "enabled", "True")
    subprocess.run(["git", "init", "-q"], cwd=theirs, check=True)
    subprocess.run(["dvc", "init", "-q"], cwd=theirs, check=True)
    (theirs / ".dvc" / "config").write_text(existing)
    subprocess.run(["dvc", "config", "hydra.enabled", "True"], cwd=theirs, check=True)
    assert (ours / "config").read_text() == (theirs / ".dvc" / "config").read_text()
