"""Stage `train`: a small GPT on the prepared train split, resumable from its checkpoints.

Every `checkpoint_interval` steps (and at the last step) a checkpoint goes to
`--checkpoints` (a `persist: true` output): weights as safetensors, optimizer
and RNG state, and metadata (step, losses, loss history, fingerprint of the
settings). A new run resumes from the newest checkpoint whose fingerprint
matches the current settings and data; checkpoints of other settings are
discarded. Loss per step goes to `--train-log`, validation loss to `--val-log`.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import shutil
import time
from dataclasses import dataclass, field
from typing import Any

from . import checkpoints as ckpt
from .common import (
    Field,
    PipelineError,
    atomic_write_text,
    load_params,
    remove_stale_temps,
    sha256_json,
    stage_main,
    validate,
)
from .data import batch_for_step, check_fits, fixed_starts, load_split, read_card, windows

MODEL_SCHEMA = {
    "n_layer": Field((int,), low=1, high=64),
    "n_head": Field((int,), low=1, high=64),
    "n_embd": Field((int,), low=1, high=8192),
    "block_size": Field((int,), low=2, high=1_000_000),
    "dropout": Field((float, int), low=0.0, high=0.9),
}
TRAIN_SCHEMA = {
    "seed": Field((int,), low=0),
    "device": Field((str,), choices=("auto", "cpu", "cuda")),
    "threads": Field((int,), low=0),
    "batch_size": Field((int,), low=1),
    "max_steps": Field((int,), low=1),
    "lr": Field((float,), low=0.0, high=1.0),
    "min_lr": Field((float,), low=0.0, high=1.0),
    "warmup_steps": Field((int,), low=0),
    "schedule": Field((str,), choices=("cosine", "constant")),
    "weight_decay": Field((float, int), low=0.0),
    "grad_clip": Field((float, int), low=0.0),
    "eval_interval": Field((int,), low=1),
    "eval_batches": Field((int,), low=1),
    "checkpoint_interval": Field((int,), low=1),
    "log_interval": Field((int,), low=1),
}
# Settings that do not change what training computes: a change keeps the checkpoints.
NOT_FINGERPRINTED = ("device", "threads", "log_interval")
FINGERPRINTED_CODE = ("data.py", "model.py", "train.py")


def validate_params(model: dict[str, Any], train: dict[str, Any]) -> None:
    """PipelineError for the first bad `model` or `train` param."""
    validate("model", model, MODEL_SCHEMA)
    validate("train", train, TRAIN_SCHEMA)
    if model["n_embd"] % model["n_head"]:
        raise PipelineError(
            f"params 'model.n_embd' ({model['n_embd']}) must be divisible by "
            f"'model.n_head' ({model['n_head']})"
        )
    if train["min_lr"] > train["lr"]:
        raise PipelineError("params 'train.min_lr' must not exceed 'train.lr'")


def fingerprint(model: dict[str, Any], train: dict[str, Any], dataset_hash: str) -> str:
    """Identity of a training run: equal fingerprints compute identical checkpoints.

    It covers the settings, the data and the code that computes the weights, so
    a checkpoint is never resumed under an edited model or training loop.
    """
    relevant = {k: v for k, v in train.items() if k not in NOT_FINGERPRINTED}
    code = {name: _file_sha256(name) for name in FINGERPRINTED_CODE}
    return sha256_json({"model": model, "train": relevant, "dataset": dataset_hash, "code": code})


def _file_sha256(name: str) -> str:
    with open(os.path.join(os.path.dirname(__file__), name), "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def learning_rate(step: int, train: dict[str, Any]) -> float:
    """Linear warm-up to `lr`, then cosine decay to `min_lr` at `max_steps` (or constant)."""
    if train["warmup_steps"] and step <= train["warmup_steps"]:
        return train["lr"] * step / train["warmup_steps"]
    if train["schedule"] == "constant":
        return train["lr"]
    span = max(1, train["max_steps"] - train["warmup_steps"])
    progress = min(1.0, (step - train["warmup_steps"]) / span)
    return train["min_lr"] + 0.5 * (1 + math.cos(math.pi * progress)) * (
        train["lr"] - train["min_lr"]
    )


@dataclass
class History:
    """Loss per step (step, train loss, lr) and validation loss (step, loss) so far."""

    train: list[list[float]] = field(default_factory=list)
    val: list[list[float]] = field(default_factory=list)

    def write(self, train_log: str, val_log: str) -> None:
        atomic_write_text(
            train_log,
            "step,train_loss,lr\n"
            + "".join(f"{int(s)},{loss!r},{lr!r}\n" for s, loss, lr in self.train),
        )
        atomic_write_text(
            val_log, "step,val_loss\n" + "".join(f"{int(s)},{loss!r}\n" for s, loss in self.val)
        )


@dataclass
class Run:
    """Everything one training run needs; built once by `setup`."""

    model_params: dict[str, Any]
    train: dict[str, Any]
    dataset_hash: str
    fingerprint: str
    train_tokens: Any
    val_tokens: Any
    vocab_size: int
    out: str


def setup(params_path: str, prepared: str, out: str) -> Run:
    """Read and check params and data; every failure here happens before torch is loaded."""
    model = load_params(params_path, "model")
    train = load_params(params_path, "train")
    validate_params(model, train)
    card = read_card(prepared)
    train_tokens = load_split(prepared, "train")
    val_tokens = load_split(prepared, "val")
    check_fits(train_tokens, model["block_size"], "train")
    check_fits(val_tokens, model["block_size"], "val")
    return Run(
        model,
        train,
        card["dataset_hash"],
        fingerprint(model, train, card["dataset_hash"]),
        train_tokens,
        val_tokens,
        int(card["tokenizer"]["vocab_size"]),
        out,
    )


def pick_device(name: str) -> str:
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        raise PipelineError("params 'train.device' is 'cuda' but no CUDA device is available")
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return name


def resumable(run: Run) -> ckpt.Checkpoint | None:
    """The newest checkpoint of this very run; checkpoints of other settings are removed."""
    ckpt.remove_incomplete(run.out)
    found = ckpt.list_checkpoints(run.out)
    if any(c.meta.get("fingerprint") != run.fingerprint for c in found):
        print(
            f"train: settings or data changed; discarding old checkpoints in {run.out}", flush=True
        )
        shutil.rmtree(run.out)
        return None
    return found[-1] if found else None


class Trainer:
    """The model, optimizer and loop of one run; `state()`/`restore()` make it resumable."""

    def __init__(self, run: Run) -> None:
        import torch

        from .model import GPT, GPTConfig

        self.run = run
        self.device = pick_device(run.train["device"])
        if run.train["threads"]:
            torch.set_num_threads(run.train["threads"])
        if self.device == "cpu":
            torch.use_deterministic_algorithms(True)
        torch.manual_seed(run.train["seed"])
        self.config = GPTConfig(vocab_size=run.vocab_size, **run.model_params)
        self.model = GPT(self.config).to(self.device)
        decay = [p for p in self.model.parameters() if p.dim() >= 2]
        no_decay = [p for p in self.model.parameters() if p.dim() < 2]
        self.optimizer = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": run.train["weight_decay"]},
                {"params": no_decay, "weight_decay": 0.0},
            ],
            lr=run.train["lr"],
            betas=(0.9, 0.95),
        )
        self.step = 0
        self.history = History()

    def restore(self, checkpoint: ckpt.Checkpoint) -> None:
        import torch

        from .model import load_weights

        load_weights(self.model, ckpt.load_weights(checkpoint))
        state = ckpt.load_trainer_state(checkpoint)
        self.optimizer.load_state_dict(state["optimizer"])
        torch.set_rng_state(state["torch_rng"])
        self.step = checkpoint.step
        self.history = History(**checkpoint.meta["history"])

    def train_step(self) -> float:
        import torch

        self.step += 1
        lr = learning_rate(self.step, self.run.train)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        x, y = batch_for_step(
            self.run.train_tokens,
            self.run.train["seed"],
            self.step,
            self.run.train["batch_size"],
            self.config.block_size,
        )
        self.model.train()
        loss = self.model.loss(
            torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(self.device)
        )
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.run.train["grad_clip"]:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.run.train["grad_clip"])
        self.optimizer.step()
        value = float(loss.item())
        self.history.train.append([self.step, value, lr])
        return value

    def validate(self) -> float:
        """Mean loss over fixed validation windows (the same windows at every call)."""
        import torch

        starts = fixed_starts(
            len(self.run.val_tokens),
            self.run.train["eval_batches"] * self.run.train["batch_size"],
            self.config.block_size,
        )
        self.model.eval()
        losses = []
        with torch.no_grad():
            for chunk in starts.reshape(self.run.train["eval_batches"], -1):
                x, y = windows(self.run.val_tokens, chunk, self.config.block_size)
                losses.append(
                    float(
                        self.model.loss(
                            torch.from_numpy(x).to(self.device), torch.from_numpy(y).to(self.device)
                        )
                    )
                )
        value = sum(losses) / len(losses)
        self.history.val.append([self.step, value])
        return value

    def save(self, val_loss: float) -> str:
        import torch

        from .model import state_for_saving

        meta = {
            "step": self.step,
            "max_steps": self.run.train["max_steps"],
            "train_loss": self.history.train[-1][1] if self.history.train else None,
            "val_loss": val_loss,
            "fingerprint": self.run.fingerprint,
            "dataset_hash": self.run.dataset_hash,
            "model_config": self.config.to_dict(),
            "params": {"model": self.run.model_params, "train": self.run.train},
            "history": {"train": self.history.train, "val": self.history.val},
        }
        state = {"optimizer": self.optimizer.state_dict(), "torch_rng": torch.get_rng_state()}
        tensors = {k: v.cpu() for k, v in state_for_saving(self.model).items()}
        return ckpt.save_checkpoint(self.run.out, self.step, tensors, state, meta)


def train(run: Run, train_log: str, val_log: str) -> None:
    """Train from the last matching checkpoint (or from scratch) to `max_steps`."""
    trainer = Trainer(run)
    previous = resumable(run)
    settings = run.train
    if previous is not None:
        trainer.restore(previous)
        print(
            f"train: resuming from {previous.path} (step {previous.step}/{settings['max_steps']})",
            flush=True,
        )
    else:
        print(
            f"train: {trainer.model.num_parameters():,} parameters on {trainer.device}, "
            f"{len(run.train_tokens):,} train tokens, {settings['max_steps']} steps",
            flush=True,
        )
        trainer.validate()
    started, first = time.perf_counter(), trainer.step
    while trainer.step < settings["max_steps"]:
        loss = trainer.train_step()
        step = trainer.step
        if step % settings["log_interval"] == 0 or step == settings["max_steps"]:
            rate = (time.perf_counter() - started) / (step - first) * 1000
            eta = rate * (settings["max_steps"] - step) / 1000
            print(
                f"train: step {step}/{settings['max_steps']} loss {loss:.4f} "
                f"lr {trainer.history.train[-1][2]:.2e} ({rate:.0f} ms/step, ETA {eta:.0f}s)",
                flush=True,
            )
        last = step == settings["max_steps"]
        if (
            step % settings["eval_interval"] == 0
            or step % settings["checkpoint_interval"] == 0
            or last
        ):
            val_loss = trainer.validate()
            print(f"train: step {step} val_loss {val_loss:.4f}", flush=True)
            if step % settings["checkpoint_interval"] == 0 or last:
                path = trainer.save(val_loss)
                trainer.history.write(train_log, val_log)
                print(f"train: checkpoint {path}", flush=True)
    trainer.history.write(train_log, val_log)


def _run(args: argparse.Namespace) -> None:
    run = setup(args.params, args.data, args.checkpoints)
    os.makedirs(run.out, exist_ok=True)
    for log in (args.train_log, args.val_log):
        remove_stale_temps(log)
    train(run, args.train_log, args.val_log)


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="data/prepared", help="prepared dataset folder")
    parser.add_argument("--checkpoints", default="models/checkpoints", help="checkpoint folder")
    parser.add_argument("--train-log", default="reports/train_log.csv")
    parser.add_argument("--val-log", default="reports/val_log.csv")


def main() -> None:
    stage_main(__doc__.splitlines()[0], _run, _arguments)


if __name__ == "__main__":
    main()
