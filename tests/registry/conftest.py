"""Registry tests: keys in a temporary config directory, a small synthetic pipeline."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

TRAIN = """\
import json, os, yaml
params = yaml.safe_load(open("params.yaml"))
q = params["quality"]
os.makedirs("model", exist_ok=True)
with open("model/weights.bin", "wb") as f:
    f.write(bytes([int(q * 100) % 256]) * 4096)
with open("model/config.json", "w") as f:
    json.dump({"quality": q}, f)
json.dump({"accuracy": q, "perplexity": round(10 / q, 6)}, open("metrics.json", "w"))
"""

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [quality]
    outs: [model]
    metrics:
      - metrics.json:
          cache: false
"""


@pytest.fixture(autouse=True)
def _isolated_keys(key_home: Path) -> Path:
    """Keys in a temporary config directory (the `key_home` fixture of tests/conftest.py)."""
    return key_home


class Models:
    """The synthetic pipeline: `train(q)` makes a model whose accuracy is q."""

    def __init__(self, project) -> None:  # noqa: ANN001
        self.project = project

    def train(self, quality: float) -> None:
        self.project.write("params.yaml", f"quality: {quality}\n")
        self.project.ok("repro")

    def register(self, *extra: str) -> dict:
        self.project.ok("registry", "register", "llm", "model", *extra)
        return json.loads(self.project.ok("registry", "show", "llm", "--json").out)

    def gates(self, text: str) -> None:
        self.project.write(".llmpipe/registry.yaml", text)

    def events(self) -> list[dict]:
        path = self.project.path / ".llmpipe" / "registry" / "events.jsonl"
        return [json.loads(line) for line in path.read_bytes().splitlines()]


@pytest.fixture
def models(project, monkeypatch: pytest.MonkeyPatch) -> Models:  # noqa: ANN001
    from llmpipe.security import keys

    alice = keys.generate_key("alice")
    monkeypatch.setenv("LLMPIPE_KEY_FILE", os.fspath(alice.path))
    project.write("train.py", TRAIN)
    project.write("dvc.yaml", DVC_YAML)
    made = Models(project)
    made.train(0.7)
    return made
