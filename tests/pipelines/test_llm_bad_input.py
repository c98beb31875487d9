"""Bad input stops a stage with one clear line on stderr before any long work."""

from __future__ import annotations

import pytest

from tests.pipelines.conftest import needs_torch

needs_torch()


@pytest.mark.parametrize(
    ("section", "values", "message"),
    [
        (
            "data",
            {"source": "dir", "path": "no/such/corpus"},
            "error: corpus path 'no/such/corpus' does not exist (params 'data.path')",
        ),
        (
            "data",
            {"source": "dir", "path": "empty"},
            "error: corpus is empty: no documents selected from dir 'empty'",
        ),
        ("data", {"max_documents": 0}, "error: params 'data.max_documents' must be at least 3"),
        ("model", {"n_layer": 0}, "error: params 'model.n_layer' must be at least 1, got 0"),
        (
            "model",
            {"n_embd": 30, "n_head": 4},
            "error: params 'model.n_embd' (30) must be divisible by 'model.n_head' (4)",
        ),
        (
            "model",
            {"block_size": 1_000_000},
            "error: params 'model.block_size' (1000000) is larger than the train split",
        ),
        ("train", {"lr": "fast"}, "error: params 'train.lr' must be float, got 'fast'"),
        ("train", {"max_steps": True}, "error: params 'train.max_steps' must be int, got True"),
        (
            "evaluate",
            {"temperature": -1.0},
            "error: params 'evaluate.temperature' must be at least 0.0",
        ),
    ],
    ids=[
        "missing-corpus",
        "empty-corpus",
        "too-few-documents",
        "zero-layers",
        "heads-do-not-divide-width",
        "context-larger-than-data",
        "wrong-type",
        "bool-for-int",
        "negative-temperature",
    ],
)
def test_bad_input_fails_fast_with_one_clear_line(built_copy, section, values, message):
    (built_copy.path / "empty").mkdir()
    built_copy.update_params(section, **values)
    result = built_copy.llmpipe("repro")
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(message), result.stderr
    assert "Traceback" not in result.stderr
    assert "parameters on" not in result.stdout  # no model was built, no training started


def test_unknown_param_names_the_valid_ones(built_copy):
    built_copy.update_params("train", learning_rate=0.1)
    result = built_copy.llmpipe("repro")
    assert result.returncode != 0
    assert (
        "error: params 'train.learning_rate' is not a known setting; valid: seed," in result.stderr
    )
