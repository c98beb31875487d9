"""The fan-out pipeline the cluster tests run: prepare → 4 featurize → train → evaluate."""

from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import Project, llmpipe_env

FANOUT = {
    "src/prepare.py": """\
        import os, sys
        os.makedirs("data/prepared", exist_ok=True)
        text = open("data/raw.txt").read()
        for i in range(4):
            with open(f"data/prepared/part{i}.txt", "w") as out:
                out.write(text.upper() + str(i))
        """,
    "src/featurize.py": """\
        import sys
        part = sys.argv[1]
        data = open(f"data/prepared/part{part}.txt").read()
        open(f"features/f{part}.txt", "w").write(str(sorted(data)))
        """,
    "src/train.py": """\
        import json
        parts = [open(f"features/f{i}.txt").read() for i in range(4)]
        params = open("params.yaml").read()
        open("model.bin", "wb").write(("|".join(parts) + params).encode())
        """,
    "src/evaluate.py": """\
        import json
        size = len(open("model.bin", "rb").read())
        json.dump({"size": size}, open("metrics.json", "w"))
        """,
    "params.yaml": "lr: 0.1\n",
    "dvc.yaml": """\
        stages:
          prepare:
            cmd: python src/prepare.py
            deps: [src/prepare.py, data/raw.txt]
            outs: [data/prepared]
          featurize:
            foreach: [0, 1, 2, 3]
            do:
              cmd: mkdir -p features && python src/featurize.py ${item}
              deps: [src/featurize.py, data/prepared]
              outs:
                - features/f${item}.txt
          train:
            cmd: python src/train.py
            # The four files, not the folder: its .gitignore lists them in the order
            # the stages finished, which differs between runs with -j.
            deps: [src/train.py, features/f0.txt, features/f1.txt, features/f2.txt, features/f3.txt]
            params: [lr]
            outs: [model.bin]
          evaluate:
            cmd: python src/evaluate.py
            deps: [src/evaluate.py, model.bin]
            metrics: [{metrics.json: {cache: false}}]
        """,
}
OUTPUTS = ["data/prepared", "features", "model.bin", "metrics.json"]


def write_fanout(project: Project) -> None:
    for relpath, text in FANOUT.items():
        project.write(relpath, text)
    project.write("data/raw.txt", "hello cluster\n")
    project.ok("add", "data/raw.txt")
    project.commit("fan-out pipeline")


def same_tree(left: Path, right: Path) -> bool:
    """True when two files, or two folders file by file, hold the same bytes (a folder's
    .gitignore is not output: with -j it lists outputs in the order stages finished)."""
    if left.is_file():
        return right.is_file() and filecmp.cmp(left, right, shallow=False)
    compared = filecmp.dircmp(left, right, ignore=[".gitignore"])
    if compared.left_only or compared.right_only or compared.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(left, right, compared.common_files, shallow=False)
    return (
        not mismatch
        and not errors
        and all(same_tree(left / d, right / d) for d in compared.common_dirs)
    )


def reproduced_locally(project: Project, target: Path) -> Path:
    """A clone of `project` (with its cache) where a local `repro` ran: the reference."""
    subprocess.run(["git", "clone", "-q", str(project.path), str(target)], check=True)
    shutil.copytree(project.path / ".dvc" / "cache", target / ".dvc" / "cache")
    for command in (["checkout"], ["repro"]):
        subprocess.run(
            [sys.executable, "-m", "llmpipe", *command],
            cwd=target,
            check=True,
            capture_output=True,
            env=llmpipe_env(),
        )
    return target


def assert_same_run(project: Project, twin: Path) -> None:
    """dvc.lock byte for byte, and every output file, as the local run made them."""
    assert (project.path / "dvc.lock").read_bytes() == (twin / "dvc.lock").read_bytes()
    for out in OUTPUTS:
        assert same_tree(project.path / out, twin / out), out


def wait_until(ready, timeout: float = 60) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not ready():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
