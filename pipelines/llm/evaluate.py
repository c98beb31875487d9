"""Stage `evaluate`: test loss and perplexity of the release model, baselines, and samples.

Writes `--metrics` (metrics.json: test loss, perplexity, uniform and unigram
baseline perplexities), `--plots` (mean test loss by position in the context,
CSV) and `--samples` (greedy or seeded continuations of fixed prompts, JSON).
"""

from __future__ import annotations

import argparse
import math
import os
from typing import Any

import numpy as np

from .common import (
    Field,
    PipelineError,
    Progress,
    atomic_write_text,
    load_params,
    read_json,
    remove_stale_temps,
    stage_main,
    validate,
    write_json,
)
from .data import check_fits, load_split

SCHEMA = {
    "max_tokens": Field((int,), low=0),
    "batch_size": Field((int,), low=1),
    "prompts": Field((list,)),
    "max_new_tokens": Field((int,), low=0, high=10_000),
    "temperature": Field((float, int), low=0.0, high=10.0),
    "seed": Field((int,), low=0),
    "device": Field((str,), choices=("auto", "cpu", "cuda")),
}


# Tokens generated between two looks at the clock for a progress line.
SAMPLE_CHUNK = 8


def validate_params(params: dict[str, Any]) -> None:
    validate("evaluate", params, SCHEMA)
    if not all(isinstance(p, str) and p for p in params["prompts"]):
        raise PipelineError("params 'evaluate.prompts' must be a list of non-empty strings")


def unigram_perplexity(train: np.ndarray, test: np.ndarray, vocab_size: int) -> float:
    """Perplexity on `test` of add-one smoothed token frequencies of `train`: the bar to beat."""
    counts = np.bincount(train, minlength=vocab_size).astype(np.float64) + 1.0
    log_probs = np.log(counts / counts.sum())
    return float(math.exp(-log_probs[test].mean()))


def test_windows(n_tokens: int, block_size: int, max_tokens: int) -> np.ndarray:
    """Starts of non-overlapping windows over the test split (all of it when max_tokens is 0)."""
    count = (n_tokens - 1) // block_size
    if max_tokens:
        count = min(count, max(1, max_tokens // block_size))
    return np.arange(count, dtype=np.int64) * block_size


def score(
    model: Any, tokens: np.ndarray, starts: np.ndarray, batch_size: int, device: str
) -> np.ndarray:
    """Mean next-token loss at each context position over the given windows."""
    import torch
    from torch.nn import functional as F

    from .data import windows

    block = model.config.block_size
    total = torch.zeros(block, dtype=torch.float64)
    batches = range(0, len(starts), batch_size)
    progress = Progress("evaluate: scoring", len(batches), "batches")
    model.eval()
    with torch.no_grad():
        for done, first in enumerate(batches, 1):
            x, y = windows(tokens, starts[first : first + batch_size], block)
            logits = model(torch.from_numpy(x).to(device))
            loss = F.cross_entropy(
                logits.transpose(1, 2), torch.from_numpy(y).to(device), reduction="none"
            )
            total += loss.double().sum(dim=0).cpu()
            progress.step(done)
    return (total / len(starts)).numpy()


def load_release(release: str, device: str) -> tuple[Any, dict[str, Any]]:
    from safetensors.torch import load_file

    from .model import GPT, GPTConfig, load_weights

    config = read_json(os.path.join(release, "config.json"), "model config")
    model = GPT(GPTConfig.from_dict(config))
    load_weights(model, load_file(os.path.join(release, "model.safetensors")))
    return model.to(device), read_json(os.path.join(release, "lineage.json"), "model lineage")


def samples(model: Any, params: dict[str, Any], device: str) -> list[dict[str, str]]:
    """A completion of each prompt, generated on one CPU thread."""
    import torch

    # One prompt's next token is a handful of tiny matrix products: more CPU threads
    # only add synchronisation (20-100x slower per token on a busy 2-core machine).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        return _samples(model, params, device)
    finally:
        torch.set_num_threads(threads)


def _samples(model: Any, params: dict[str, Any], device: str) -> list[dict[str, str]]:
    import torch

    from .tokenizer import ByteTokenizer

    tokenizer = ByteTokenizer()
    generator = torch.Generator(device=device).manual_seed(params["seed"])
    result = []
    new_tokens = params["max_new_tokens"]
    progress = Progress("evaluate: sampling", len(params["prompts"]) * new_tokens, "tokens")
    for number, prompt in enumerate(params["prompts"]):
        idx = torch.from_numpy(tokenizer.encode(prompt, eos=False).astype(np.int64))[None, :]
        out = idx.to(device)
        # In chunks, for progress lines: generating token by token from the same
        # generator, the result is the same as one call for all of them.
        for made in range(0, new_tokens, SAMPLE_CHUNK):
            count = min(SAMPLE_CHUNK, new_tokens - made)
            out = model.generate(out, count, float(params["temperature"]), generator)
            progress.step(number * new_tokens + made + count)
        result.append({"prompt": prompt, "completion": tokenizer.decode(out[0, idx.shape[1] :])})
    return result


def evaluate(params: dict[str, Any], release: str, prepared: str) -> dict[str, Any]:
    """Metrics, per-position losses and samples of the release model on the test split."""
    import torch

    config = read_json(os.path.join(release, "config.json"), "model config")
    test = load_split(prepared, "test")
    check_fits(test, config["block_size"], "test")
    device = "cuda" if params["device"] != "cpu" and torch.cuda.is_available() else "cpu"
    if params["device"] == "cuda" and device != "cuda":
        raise PipelineError("params 'evaluate.device' is 'cuda' but no CUDA device is available")
    model, info = load_release(release, device)
    starts = test_windows(len(test), config["block_size"], params["max_tokens"])
    by_position = score(model, test, starts, params["batch_size"], device)
    loss = float(by_position.mean())
    metrics = {
        "test_loss": loss,
        "test_perplexity": math.exp(loss),
        "bits_per_token": loss / math.log(2),
        "uniform_perplexity": float(config["vocab_size"]),
        "unigram_perplexity": unigram_perplexity(
            load_split(prepared, "train"), test, config["vocab_size"]
        ),
        "test_tokens_scored": int(len(starts) * config["block_size"]),
        "val_loss": info["metrics"]["val_loss"],
        "step": info["step"],
    }
    return {
        "metrics": metrics,
        "by_position": by_position,
        "samples": samples(model, params, device),
    }


def _run(args: argparse.Namespace) -> None:
    params = load_params(args.params, "evaluate")
    validate_params(params)
    result = evaluate(params, args.release, args.data)
    for path in (args.metrics, args.plots, args.samples):
        remove_stale_temps(path)
    metrics = result["metrics"]
    write_json(args.metrics, metrics)
    atomic_write_text(
        args.plots,
        "position,test_loss\n"
        + "".join(f"{i + 1},{value!r}\n" for i, value in enumerate(result["by_position"].tolist())),
    )
    write_json(args.samples, result["samples"])
    print(
        f"evaluate: test loss {metrics['test_loss']:.4f}, perplexity "
        f"{metrics['test_perplexity']:.2f} (unigram {metrics['unigram_perplexity']:.2f}, "
        f"uniform {metrics['uniform_perplexity']:.0f})",
        flush=True,
    )
    for sample in result["samples"]:
        print(f"evaluate: sample {sample['prompt']!r} -> {sample['completion'][:60]!r}", flush=True)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--release", default="models/release")
    parser.add_argument("--data", default="data/prepared")
    parser.add_argument("--metrics", default="reports/metrics.json")
    parser.add_argument("--plots", default="reports/loss_by_position.csv")
    parser.add_argument("--samples", default="reports/samples.json")


def main() -> None:
    stage_main(__doc__.splitlines()[0], _run, _arguments)


if __name__ == "__main__":
    main()
