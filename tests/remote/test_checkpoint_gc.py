"""`gc -c` and streamed checkpoints: pruned records and their objects go, nothing needed does.

Drives the real CLI against a folder remote, an encrypted one and S3 (moto), with
the training script of `test_checkpoint_stream`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.remote.test_checkpoint_stream import (
    DVC_YAML,
    clone,
    git,
    held_at_step_two,
    make_origin,
    run_cli,
)

KEEP_LAST_ONE = "checkpoints: {path: ckpts, keep_last: 1}"


def listed(repo: Path) -> list[dict]:
    return json.loads(run_cli(repo, "checkpoints", "list", "train", "--json").stdout)


def remote_files(site) -> set[str]:  # noqa: ANN001
    return set(site.listing())


def test_gc_cloud_removes_pruned_checkpoints_and_keeps_the_rest(tmp_path, remote_kind) -> None:
    _kind, site = remote_kind
    origin = make_origin(tmp_path)
    a = clone(origin, tmp_path / "a", site)
    run_cli(a, "repro", env={"SYNC": "1"})
    records = listed(a)
    assert [r["step"] for r in records] == [1, 2, 3, 4]

    # Without retention, gc -c keeps every record and every object they name.
    before = remote_files(site)
    report = run_cli(a, "gc", "-w", "-c", "-f")
    assert "checkpoint" not in report.stdout
    assert remote_files(site) == before

    # A branch whose lock records the directory exactly as checkpoint 2 left it.
    git(a, "checkout", "-q", "-b", "at-two")
    run_cli(a, "checkpoints", "restore", "train", records[1]["id"])
    run_cli(a, "commit", "-f", "train")
    git(a, "add", "dvc.lock")
    git(a, "commit", "-q", "-m", "the directory at step 2")
    git(a, "checkout", "-q", "main")
    run_cli(a, "checkout", "-f")

    # Retention now keeps the last one of each run: 1 and 3 go, 2 (the branch's lock
    # names it) and 4 (the latest) stay, with every object they need.
    (a / "dvc.yaml").write_text(DVC_YAML.replace("checkpoints: ckpts", KEEP_LAST_ONE))
    dry = run_cli(a, "gc", "-w", "-a", "-c", "-f", "--dry")
    assert dry.stdout.count("Would remove checkpoint") == 2
    assert [r["step"] for r in listed(a)] == [1, 2, 3, 4]
    swept = run_cli(a, "gc", "-w", "-a", "-c", "-f")
    for gone in (records[0], records[2]):
        assert f"Removed checkpoint {gone['id']} of stage 'train' (step {gone['step']})" in (
            swept.stdout
        )
    assert [r["step"] for r in listed(a)] == [2, 4]
    # Its lineage stays in the local store of the clone that pushed it.
    pruned = json.loads(run_cli(a, "checkpoints", "show", "train", records[0]["id"]).stdout)
    assert pruned["step"] == 1 and pruned["on_remote"] is False
    assert len(remote_files(site)) < len(before)  # the pruned snapshots' `.dir` objects

    # Both kept checkpoints restore, verified, on a fresh clone.
    b = clone(origin, tmp_path / "b", site)
    for record in (records[1], records[3]):
        run_cli(b, "checkpoints", "restore", "train", record["id"])
        step = record["step"]
        assert sorted(p.name for p in (b / "ckpts").iterdir())[-1] == f"step-{step:06d}"


@pytest.mark.parametrize("remote_kind", ["folder", "encrypted"], indirect=True)
def test_gc_cloud_keeps_what_a_running_or_resumable_stage_needs(tmp_path, remote_kind) -> None:
    kind, site = remote_kind
    encrypt = kind == "encrypted"
    origin = make_origin(tmp_path)
    a = clone(origin, tmp_path / "a", site, encrypt)
    # Clone B runs gc with a stricter retention than the running stage's.
    b = clone(origin, tmp_path / "b", site, encrypt)
    (b / "dvc.yaml").write_text(DVC_YAML.replace("checkpoints: ckpts", KEEP_LAST_ONE))

    with held_at_step_two(a, tmp_path / "gate", lambda: listed(b), SYNC="1"):
        running = run_cli(b, "gc", "-w", "-c", "-f")
        assert "checkpoint" not in running.stdout  # a running stage's records all stay
        assert [r["step"] for r in listed(b)] == [1, 2]

    # Finished now: B's retention lets 1 to 3 go; 4 stays and restores, verified.
    swept = run_cli(b, "gc", "-w", "-c", "-f")
    assert swept.stdout.count("Removed checkpoint") == 3
    (latest,) = listed(b)
    assert latest["step"] == 4
    run_cli(b, "checkpoints", "restore", "train", latest["id"])

    # A killed run is resumable: gc keeps its latest checkpoint, and B resumes from it.
    c = clone(origin, tmp_path / "c", site, encrypt)
    (c / "train.py").write_text((c / "train.py").read_text() + "\n# another key\n")
    run_cli(c, "repro", env={"DIE_AFTER": "2", "SYNC": "1"}, check=False)
    (b / "train.py").write_text((c / "train.py").read_text())
    run_cli(b, "gc", "-w", "-c", "-f")
    shutil.rmtree(b / "ckpts", ignore_errors=True)
    resumed = run_cli(b, "repro")
    assert "start 2" in resumed.stdout, resumed.stderr
