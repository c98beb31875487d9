"""Stage `checkpoint`: pick the checkpoint with the lowest validation loss and export a release.

The release folder (`--out`, default models/release) holds:
  model.safetensors  the weights (tied output head stored once, as tok_emb.weight)
  config.json        the model configuration (architecture, vocabulary, context)
  tokenizer.json     the tokenizer the model was trained with
  lineage.json       dataset hashes, params, git commit, steps and metrics, machine-readable
  MODEL_CARD.md      the same for people
"""

from __future__ import annotations

import argparse
import os
import shutil
from typing import Any

from . import checkpoints as ckpt
from .common import PipelineError, atomic_write_text, git_commit, read_json, stage_main, write_json


def best_checkpoint(root: str) -> ckpt.Checkpoint:
    """The complete checkpoint with the lowest validation loss (the later one on a tie)."""
    found = ckpt.list_checkpoints(root)
    if not found:
        raise PipelineError(f"no complete checkpoint in '{root}'; run the train stage first")
    return min(reversed(found), key=lambda c: c.meta["val_loss"])


def lineage(best: ckpt.Checkpoint, card: dict[str, Any], all_steps: list[int]) -> dict[str, Any]:
    meta = best.meta
    return {
        "checkpoint": os.path.basename(best.path),
        "step": best.step,
        "trained_steps": meta["max_steps"],
        "checkpoint_steps": all_steps,
        "metrics": {"val_loss": meta["val_loss"], "train_loss": meta["train_loss"]},
        "params": meta["params"],
        "dataset": {
            "dataset_hash": card["dataset_hash"],
            "source_kind": card["source"]["kind"],
            "source_hash": card["source"]["hash"],
            "python_version": card["source"]["python_version"],
            "tokens": {name: split["tokens"] for name, split in card["splits"].items()},
        },
        "git": git_commit(),
    }


def model_card(info: dict[str, Any], config: dict[str, Any]) -> str:
    """MODEL_CARD.md: what the model is, what it was trained on, and how to reproduce it."""
    data, git = info["dataset"], info["git"]
    dirty = " (uncommitted changes)" if git["dirty"] else ""
    lines = [
        "# Model card: reference byte-level GPT",
        "",
        "A small GPT-style causal language model trained by the llmpipe reference pipeline",
        "(`pipelines/llm`, stages prepare -> train -> checkpoint -> evaluate).",
        "",
        "## Architecture",
        "",
        *(f"- {key}: {value}" for key, value in sorted(config.items())),
        "",
        "## Training",
        "",
        f"- selected checkpoint: {info['checkpoint']} (step {info['step']} of "
        f"{info['trained_steps']}), lowest validation loss",
        f"- validation loss: {info['metrics']['val_loss']:.4f}",
        f"- train loss at that step: {info['metrics']['train_loss']:.4f}",
        *(f"- train.{key}: {value}" for key, value in sorted(info["params"]["train"].items())),
        "",
        "## Data and lineage",
        "",
        f"- dataset hash: `{data['dataset_hash']}`",
        f"- source: {data['source_kind']}, hash `{data['source_hash']}` "
        f"(Python {data['python_version']})",
        "- tokens: " + ", ".join(f"{k} {v:,}" for k, v in data["tokens"].items()),
        f"- git commit: `{git['commit']}`{dirty}",
        "- `llmpipe lineage models/release` shows the runs that produced this folder.",
        "",
    ]
    return "\n".join(lines)


def export(checkpoints: str, prepared: str, out: str) -> dict[str, Any]:
    """Write the release folder for the best checkpoint (replaced); return lineage."""
    best = best_checkpoint(checkpoints)
    card = read_json(os.path.join(prepared, "dataset_card.json"), "dataset card")
    info = lineage(best, card, [c.step for c in ckpt.list_checkpoints(checkpoints)])
    config = dict(best.meta["model_config"], architecture="gpt", tied_embeddings=True)
    shutil.rmtree(out, ignore_errors=True)  # in place: the engine records it only on success
    os.makedirs(out)
    shutil.copyfile(os.path.join(best.path, ckpt.WEIGHTS), os.path.join(out, "model.safetensors"))
    shutil.copyfile(os.path.join(prepared, "tokenizer.json"), os.path.join(out, "tokenizer.json"))
    write_json(os.path.join(out, "config.json"), config)
    write_json(os.path.join(out, "lineage.json"), info)
    atomic_write_text(os.path.join(out, "MODEL_CARD.md"), model_card(info, config))
    return info


def _run(args: argparse.Namespace) -> None:
    info = export(args.checkpoints, args.data, args.out)
    print(
        f"checkpoint: exported {info['checkpoint']} (val_loss {info['metrics']['val_loss']:.4f})"
        f" -> {args.out}",
        flush=True,
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--checkpoints", default="models/checkpoints")
    parser.add_argument("--data", default="data/prepared")
    parser.add_argument("--out", default="models/release")


def main() -> None:
    stage_main(__doc__.splitlines()[0], _run, _arguments)


if __name__ == "__main__":
    main()
