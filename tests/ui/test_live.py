"""The pipeline page while a `repro` runs in another process: polled, no websockets."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import llmpipe_env
from tests.ui.experiments_project import TRAIN
from tests.ui.pagetext import rows


def wait_for(condition, timeout: float = 60.0):  # noqa: ANN001, ANN201
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def held_train(project: Path, gate: Path) -> subprocess.Popen[str]:
    """`llmpipe repro` with `train` held until `gate` exists, after `prepare` re-runs."""
    hold = f"import os, time\nwhile not os.path.exists({str(gate)!r}):\n    time.sleep(0.05)\n"
    (project / "train.py").write_text(hold + TRAIN)
    (project / "raw.txt").write_text("new raw data\n")
    return subprocess.Popen(
        [sys.executable, "-m", "llmpipe", "repro"],
        cwd=project,
        env=llmpipe_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_live_state_follows_a_repro_in_another_process(experiments_copy, client, tmp_path) -> None:  # noqa: ANN001
    web = client(experiments_copy)
    assert web.get("/api/live").json()["running"] is False
    gate = tmp_path / "go"
    repro = held_train(experiments_copy, gate)
    try:
        live = wait_for(lambda: (s := web.get("/api/live").json())["stages"].get("train") and s)
        assert live["running"] is True and live["pid"] == repro.pid
        assert live["stages"] == {"prepare": "ran", "train": "running"}
        states = {r["stage"]: r["state"] for r in rows(web.get("/pipeline").text, "stages")}
        assert states == {"prepare": "ran", "train": "running"}
        assert "A run holds the repository lock" in web.get("/pipeline/graph").text
    finally:
        gate.touch()
        out, err = repro.communicate(timeout=120)
    assert repro.returncode == 0, out + err
    after = web.get("/api/live").json()
    assert after["running"] is False and after["stages"] == {}
    states = {r["stage"]: r["state"] for r in rows(web.get("/pipeline").text, "stages")}
    assert states == {"prepare": "up-to-date", "train": "up-to-date"}
