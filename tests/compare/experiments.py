"""A project with branches that are experiments: different params, metrics and plots.

main (tag v1): lr 0.1 · exp-a: lr 0.2 · exp-b: lr 0.4 and one more epoch.
`metrics.json` and `loss.csv` are committed to git (cache: false); `eval.json`
is a cached output, read at other revisions through dvc.lock and the cache.
"""

from __future__ import annotations

from llmpipe import scm

TRAIN = """\
import json
import yaml

params = yaml.safe_load(open("params.yaml"))
lr, epochs = params["train"]["lr"], params["train"]["epochs"]
json.dump({"acc": round(lr * 2, 6), "loss": {"val": round(1 - lr, 6)}, "name": "m",
           "better": lr > 0.15}, open("metrics.json", "w"))
json.dump({"f1": round(lr * 3, 6)}, open("eval.json", "w"))
with open("loss.csv", "w") as handle:
    handle.write("step,loss\\n")
    for step in range(epochs):
        handle.write(f"{step},{round(lr / (step + 1), 6)}\\n")
"""

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [train.lr, train.epochs]
    metrics:
      - metrics.json:
          cache: false
      - eval.json
    plots:
      - loss.csv:
          cache: false
          x: step
          y: loss
"""

PARAMS = "train:\n  lr: {lr}\n  epochs: {epochs}\n  layers: [1, 2]\nseed: 7\n"

EXPERIMENTS = {"main": (0.1, 3), "exp-a": (0.2, 3), "exp-b": (0.4, 4)}


def build(project) -> None:  # noqa: ANN001
    """Commit main (tagged v1), then branches exp-a and exp-b; end on main, checked out."""
    project.write("train.py", TRAIN)
    project.write("dvc.yaml", DVC_YAML)
    for branch, (lr, epochs) in EXPERIMENTS.items():
        if branch != "main":
            project.git("checkout", "-q", "-b", branch, "main")
        project.write("params.yaml", PARAMS.format(lr=lr, epochs=epochs))
        project.ok("repro")
        project.commit(f"experiment {branch}")
        if branch == "main":
            project.git("tag", "v1")
    project.git("checkout", "-q", "main")
    scm.clear_cache()
    project.ok("checkout")


def metrics_of(branch: str) -> dict:
    lr, _ = EXPERIMENTS[branch]
    return {
        "metrics.json": {
            "acc": round(lr * 2, 6),
            "loss": {"val": round(1 - lr, 6)},
            "name": "m",
            "better": lr > 0.15,
        },
        "eval.json": {"f1": round(lr * 3, 6)},
    }
