"""The same files read by the real `dvc` and by llmpipe give the same stages."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from llmpipe.spec import load_stages, write_dvcfile
from llmpipe.stage import HashInfo

pytestmark = [
    pytest.mark.dvc,
    pytest.mark.skipif(shutil.which("dvc") is None, reason="dvc is not installed"),
]

# Runs in a child process: importing dvc here would drag its warnings into the run.
_DVC_STAGES = r"""
import json, os, sys
from dvc.repo import Repo
root = os.path.realpath(sys.argv[1])
repo = Repo(root)
found = {}
for st in repo.index.stages:
    params = [d for d in st.deps if type(d).__name__ == "ParamsDependency"]
    files = [d for d in st.deps if d not in params]
    found[os.path.relpath(st.path, root) + ":" + st.name] = {
        "cmd": st.cmd,
        "wdir": os.path.relpath(st.wdir, root),
        "deps": [d.def_path for d in files],
        "params": {d.def_path: list(d.params) for d in params},
        "outs": [[o.def_path, o.use_cache, o.persist, bool(o.metric), bool(o.plot)]
                 for o in st.outs],
        "frozen": st.frozen,
    }
print(json.dumps(found))
"""

PIPELINE = {
    "params.yaml": "train: {lr: 0.01, flag: true, layers: [4, 8]}\nmodels: [small, large]\n"
    "tr: {lr: 0.1, fl: true, off: false, names: [a, b], s: x y}\n",
    "extra.yaml": "e: {x: 1}\n",
    "sub/params.yaml": "lr: 5\n",
    "dvc.yaml": """\
vars:
  - extra.yaml
  - inline: {v: 7}
stages:
  train:
    cmd: echo ${train.lr} ${train.flag} ${train.layers[1]} ${e.x} ${inline.v} ${tr}
    deps: [data.csv, "src/${inline.v}.py"]
    params: [train.lr, {extra.yaml: [e.x]}, {sub/params.yaml: }]
    outs: [model.pkl, {logs: {cache: false, persist: true}}]
    metrics: [{scores.json: {cache: false}}]
    plots: [{loss.csv: {x: step, y: loss}}]
    frozen: true
  fe:
    foreach: ${models}
    do:
      cmd: echo ${item}
      outs: ["${item}.bin"]
  fl:
    foreach: [{n: 1}, {n: 2}]
    do:
      wdir: sub
      cmd: echo ${item.n}
      params: [lr]
  fd:
    foreach:
      us: {v: 1}
      eu: {v: 2}
    do:
      cmd: ["echo ${key}", "echo ${item.v}"]
  mx:
    matrix:
      m: [a, b]
      lr: [0.1, 1]
      f: [true, false]
      cfg: [{x: 1}]
    cmd: echo ${item.m} ${item.lr} ${item.f} ${key}
""",
    "sub/dvc.yaml": "stages:\n  inner:\n    wdir: ..\n    cmd: echo in\n    deps: [data.csv]\n",
}


def dvc_stages(root) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", _DVC_STAGES, str(root)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout)


def our_stages(root) -> dict:
    found = {}
    for st in load_stages(str(root)):
        params = {p.file: list(p.keys) for p in st.params}
        found[f"{st.dvcfile}:{st.name}"] = {
            "cmd": list(st.cmd) if isinstance(st.cmd, tuple) else st.cmd,
            "wdir": st.wdir,
            "deps": [d.path for d in st.deps],
            "params": params,
            "outs": [
                [o.path, o.cache, o.persist, o.kind == "metric", o.kind == "plot"] for o in st.outs
            ],  # fmt: skip
            "frozen": st.frozen,
        }
    return found


def init_repo(root) -> None:
    subprocess.run(["dvc", "init", "--no-scm", "-q"], cwd=root, check=True)


def test_stages_match_dvc(project, tmp_path):
    root = project(PIPELINE)
    init_repo(root)
    ours, theirs = our_stages(root), dvc_stages(root)
    assert list(ours) == list(theirs)
    for name in ours:
        assert ours[name] == theirs[name], name


def test_stage_list_names_match(project, tmp_path):
    root = project(PIPELINE)
    init_repo(root)
    listed = subprocess.run(
        ["dvc", "stage", "list", "--all", "--name-only"], cwd=root, capture_output=True,
        text=True, check=True,
    ).stdout.split()  # fmt: skip
    ours = [s.address for s in load_stages(str(root))]
    assert sorted(listed) == sorted(ours)


NAMES = ["data.txt", "on", "1.0", "x: y", "#h", "é.txt", "a b.txt", "null"]
# Names where PyYAML's text differs from ruamel's (so from dvc's): folded long scalars,
# characters outside the BMP, YAML 1.1-only special forms, quotes inside quotes.
NAMES += ["long-" + "x" * 90 + ".txt", "emoji😀.txt", "=", "2024-01-01", "'q'"]


def test_write_dvcfile_matches_dvc_add(tmp_path):
    init_repo(tmp_path)
    for name in NAMES:
        (tmp_path / name).write_text("hello\n")
    (tmp_path / "d").mkdir()
    (tmp_path / "d/a").write_text("a\n")
    (tmp_path / "d/b").write_text("b\n")
    subprocess.run(["dvc", "add", "-q", *NAMES, "d"], cwd=tmp_path, check=True)
    infos = dict.fromkeys(NAMES, HashInfo("md5", "b1946ac92492d2347c6235b4d2611184", 6))
    infos["d"] = HashInfo("md5", "562ee692a592790b08e880eff9046f72.dir", size=4, nfiles=2)
    for name, info in infos.items():
        expected = (tmp_path / f"{name}.dvc").read_bytes()
        os.unlink(tmp_path / f"{name}.dvc")
        write_dvcfile(str(tmp_path), f"{name}.dvc", name, info)
        assert (tmp_path / f"{name}.dvc").read_bytes() == expected, name
