"""The reference pipeline's model through register -> promote -> deploy -> monitor."""

from __future__ import annotations

import json
import os

import pytest


@pytest.mark.slow
def test_reference_model_end_to_end(tmp_path, monkeypatch) -> None:  # noqa: ANN001
    from tests.pipelines.conftest import make_repo, needs_torch, tiny_params

    needs_torch()
    from llmpipe.security import keys

    key = keys.generate_key("ci")
    monkeypatch.setenv("LLMPIPE_KEY_FILE", os.fspath(key.path))
    repo = make_repo(tmp_path / "repo", tiny_params())
    repo.repro()
    (repo.path / ".llmpipe" / "registry.yaml").write_text(
        "gates:\n"
        "  production:\n"
        "    - metrics.test_perplexity <= current * 1.02\n"
        "    - metrics.test_perplexity < metrics.uniform_perplexity / 5\n"
        "monitor:\n"
        "  - metrics.test_perplexity <= registered * 1.05\n"
    )

    def ok(*args: str) -> str:
        result = repo.llmpipe(*args)
        assert result.returncode == 0, f"{args}:\n{result.stdout}\n{result.stderr}"
        return result.stdout

    registered = ok("registry", "register", "tiny-gpt", "models/release", "-m", "tiny")
    assert "Registered tiny-gpt 0.1.0" in registered and "test_perplexity=" in registered
    shown = json.loads(ok("registry", "show", "tiny-gpt", "--json"))
    assert shown["lineage"]["stage"] == "checkpoint"
    assert "data/prepared" in [d["path"] for d in shown["lineage"]["deps"]]
    promoted = ok("registry", "promote", "tiny-gpt", "0.1.0", "--to", "production")
    assert "gate PASS  metrics.test_perplexity < metrics.uniform_perplexity / 5" in promoted

    dest = tmp_path / "serving"
    ok("deploy", "tiny-gpt@production", "--to", str(dest))
    release = repo.path / "models" / "release"
    for name in ("model.safetensors", "config.json", "tokenizer.json", "MODEL_CARD.md"):
        assert (dest / "current" / name).read_bytes() == (release / name).read_bytes()
    card = (dest / "current" / "MODEL_CARD.registry.md").read_text()
    assert "# tiny-gpt 0.1.0" in card and shown["lineage"]["git_commit"] in card

    monitored = repo.llmpipe("monitor", "tiny-gpt@production", "--stage", "evaluate")
    assert monitored.returncode == 0, monitored.stdout + monitored.stderr
    assert "No degradation." in monitored.stdout
    worse = tmp_path / "worse.json"
    worse.write_text(json.dumps({"test_perplexity": shown["metrics"]["test_perplexity"] * 2}))
    flagged = repo.llmpipe("monitor", "tiny-gpt@production", "--metrics", str(worse))
    assert flagged.returncode == 1 and "DEGRADED" in flagged.stderr
    assert "registry OK: 5 event(s)" in ok("registry", "verify")
