"""`meta.llmpipe.resources` and `executor`: checked at load time, still a valid dvc.yaml."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from llmpipe.errors import SpecError
from llmpipe.spec import load_dvcyaml
from llmpipe.spec.resources import parse_memory, parse_time
from llmpipe.stage import Resources
from tests.conftest import llmpipe_env

TRAIN = """\
stages:
  train:
    cmd: echo hi > out.txt
    outs: [out.txt]
    meta:
      owner: me
      llmpipe:
        {body}
"""


def load(project, body: str):
    root = project({"dvc.yaml": TRAIN.format(body=body)})
    return load_dvcyaml(str(root), "dvc.yaml")[0]


def test_resources_and_executor_are_read(project):
    stage = load(
        project, "resources: {cpus: 8, gpus: 1, memory: 64GB, time: 4h}\n        executor: slurm"
    )
    assert stage.resources == Resources(cpus=8, gpus=1, memory=64 * 10**9, time=4 * 3600)
    assert stage.executor == "slurm"
    assert stage.meta["owner"] == "me"


def test_checkpoints_is_a_known_key(project):
    stage = load(project, "checkpoints: ckpt\n        resources: {gpus: 1}")
    assert stage.resources == Resources(gpus=1)


def test_a_stage_without_meta_asks_for_nothing(project):
    root = project({"dvc.yaml": "stages:\n  a: {cmd: echo, meta: {x: 1}}\n"})
    stage = load_dvcyaml(str(root), "dvc.yaml")[0]
    assert stage.resources.empty and stage.executor is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (
            "resources: {cpu: 2}",
            "unknown key 'cpu' in 'meta.llmpipe.resources' (did you mean 'cpus'?)",
        ),
        (
            "resource: {cpus: 2}",
            "unknown key 'resource' in 'meta.llmpipe' (did you mean 'resources'?)",
        ),
        ("resources: {memory: 64}", "'resources.memory' is 64: write a size with a unit"),
        ("resources: {memory: 64XB}", "'resources.memory' is '64XB'"),
        ("resources: {time: 4}", "'resources.time' is 4: write a duration with a unit"),
        ("resources: {time: 4 hours}", "'resources.time' is '4 hours'"),
        ("resources: {cpus: 0}", "'resources.cpus' must be a positive number, got 0"),
        ("resources: {gpus: 0.5}", "'resources.gpus' must be a whole number"),
        ("executor: slrum", "'meta.llmpipe.executor' is 'slrum'; use one of local, ray, slurm"),
        ("resources: [1, 2]", "'meta.llmpipe.resources' must be a mapping"),
    ],
)
def test_bad_values_name_the_file_stage_and_fix(project, body, words):
    with pytest.raises(SpecError) as caught:
        load(project, body)
    message = str(caught.value)
    assert message.startswith("dvc.yaml:") and "stage 'train'" in message
    assert words in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("64GB", 64 * 10**9),
        ("512MiB", 512 << 20),
        ("8G", 8 << 30),
        ("1.5 GiB", 3 << 29),
        ("100b", 100),
    ],
)
def test_memory_units(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4h", 14400),
        ("1h30m", 5400),
        ("90s", 90),
        ("2d", 172800),
        ("01:30:00", 5400),
        ("1-00:00", 86400),
        ("0.5h", 1800),
    ],
)
def test_time_units(text, expected):
    assert parse_time(text) == expected


def test_resources_come_through_interpolation(project):
    root = project(
        {
            "params.yaml": "mem: 2GiB\n",
            "dvc.yaml": "stages:\n  a:\n    cmd: echo\n"
            "    meta: {llmpipe: {resources: {memory: '${mem}'}}}\n",
        }
    )
    assert load_dvcyaml(str(root), "dvc.yaml")[0].resources.memory == 2 << 30


@pytest.mark.dvc
@pytest.mark.skipif(shutil.which("dvc") is None, reason="dvc is not installed")
def test_dvc_reads_and_runs_a_stage_with_resources(tmp_path):
    """The real dvc 3 keeps `meta` free-form: it runs the stage and writes the same lock."""
    # `executor: local`: a stage naming ray or slurm would go there (docs/cluster.md).
    body = "resources: {cpus: 2, memory: 1GiB, time: 10m}\n        executor: local"
    for tool in ("dvc", "llmpipe"):
        root = tmp_path / tool
        root.mkdir()
        (root / "dvc.yaml").write_text(TRAIN.format(body=body))
        subprocess.run(["git", "init", "-q"], cwd=root, check=True)
        init = ["dvc", "init", "-q"] if tool == "dvc" else [sys.executable, "-m", "llmpipe", "init"]
        subprocess.run(init, cwd=root, check=True, capture_output=True, env=llmpipe_env())
        command = ["dvc"] if tool == "dvc" else [sys.executable, "-m", "llmpipe"]
        done = subprocess.run(
            [*command, "repro"], cwd=root, capture_output=True, text=True, env=llmpipe_env()
        )
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "dvc" / "dvc.lock").read_text() == (
        tmp_path / "llmpipe" / "dvc.lock"
    ).read_text()
    status = subprocess.run(
        ["dvc", "status"], cwd=tmp_path / "llmpipe", capture_output=True, text=True, check=True
    )
    assert "up to date" in status.stdout
