"""Realistic dvc.yaml layouts that llmpipe and dvc must treat alike.

Each `Case` is a repository: its files (relative to the git root; `{url}` is the
test's HTTP server), the folder holding `.dvc/` (`root`), and how it gets to the
state compared: commands run with dvc first (`setup`, e.g. a `repro` then edits),
optionally turned into what DVC 2 left (`dvc2`). `ci` cases form the bounded set
every test run checks; the rest run with `LLMPIPE_CONFORMANCE=full`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PY = "python3 -c"


@dataclass(frozen=True)
class Case:
    name: str
    files: dict[str, str]
    root: str = "."
    setup: tuple[tuple[str, ...], ...] = ()  # commands (dvc, or "write PATH TEXT")
    repro: tuple[str, ...] = ()
    dvc2: bool = False
    ci: bool = False
    edits: dict[str, str] = field(default_factory=dict)  # written after `setup`


LINEAR = """\
stages:
  prepare:
    cmd: mkdir -p data && sort raw.txt > data/clean.txt
    deps: [raw.txt]
    outs: [data]
  train:
    cmd: wc -l data/clean.txt > model.txt && echo ${train.lr} >> model.txt
    deps: [data]
    params: [train.lr]
    outs: [model.txt]
  evaluate:
    cmd: >-
      echo '{"acc": 0.5}' > metrics.json
    deps: [model.txt]
    metrics:
      - metrics.json:
          cache: false
"""
RAW = {"raw.txt": "b\na\nc\n", "params.yaml": "train:\n  lr: 0.1\n  epochs: 2\n"}

CASES = [
    Case("linear", {**RAW, "dvc.yaml": LINEAR}, ci=True),
    Case(
        "linear-after-edit",
        {**RAW, "dvc.yaml": LINEAR},
        setup=(("dvc", "repro"),),
        edits={"params.yaml": "train:\n  lr: 0.2\n  epochs: 2\n"},
    ),
    Case(
        "foreach-list",
        {
            "dvc.yaml": "stages:\n  gen:\n    foreach: [a, b, c]\n    do:\n"
            "      cmd: echo ${item} > out-${item}.txt\n      outs:\n        - out-${item}.txt\n"
        },
    ),  # fmt: skip
    Case(
        "foreach-over-vars-file",
        {
            "models.yaml": "models:\n  small: {layers: 2}\n  big: {layers: 8}\n",
            "dvc.yaml": "vars: [models.yaml]\nstages:\n  train:\n    foreach: ${models}\n"
            "    do:\n      cmd: echo ${item.layers} > ${key}.txt\n      outs:\n        - ${key}.txt\n",
        },
        ci=True,
    ),
    Case(
        "matrix-with-dicts",
        {
            "dvc.yaml": "stages:\n  fit:\n    matrix:\n      model:\n        - {name: a, size: 1}\n"
            "        - {name: b, size: 2}\n      seed: [1, 2]\n"
            "    cmd: echo ${item.model.name} ${item.seed} > fit-${key}.txt\n"
            "    outs:\n      - fit-${key}.txt\n",
        },
    ),
    Case(
        "nested-params-file",
        {
            "conf/train.yaml": "opt:\n  lr: 0.01\n  momentum: 0.9\nother: 1\n",
            "dvc.yaml": "stages:\n  train:\n    cmd: echo trained > model.txt\n"
            "    params:\n      - conf/train.yaml:\n          - opt.lr\n          - opt\n"
            "    outs: [model.txt]\n",
        },
    ),
    Case(
        "whole-params-file",
        {
            **RAW,
            "dvc.yaml": "stages:\n  s:\n    cmd: cat params.yaml > p.txt\n"
            "    params:\n      - params.yaml:\n    outs: [p.txt]\n",
        },
    ),  # fmt: skip
    Case("cmd-only", {"dvc.yaml": "stages:\n  hello:\n    cmd: echo hello\n"}),
    Case(
        "always-changed",
        {
            **RAW,
            "dvc.yaml": "stages:\n  s:\n    cmd: cp raw.txt r.txt\n    deps: [raw.txt]\n"
            "    outs: [r.txt]\n    always_changed: true\n",
        },
        setup=(("dvc", "repro"),),
    ),  # fmt: skip
    Case(
        "frozen-with-changed-output",
        {**RAW, "dvc.yaml": LINEAR},
        setup=(("dvc", "repro"),),
        edits={
            "dvc.yaml": LINEAR.replace(
                "    outs: [model.txt]", "    outs: [model.txt]\n    frozen: true"
            ),
            "model.txt": "hand-made\n",
            "raw.txt": "z\n",
        },
        ci=True,
    ),
    Case(
        # Targeted downstream: both stop before running anything. Without a target dvc
        # first runs the stages listed above the frozen one; llmpipe checks first.
        "frozen-with-missing-output",
        {
            **RAW,
            "dvc.yaml": LINEAR.replace(
                "    outs: [model.txt]", "    outs: [model.txt]\n    frozen: true"
            ),
        },
        repro=("evaluate",),
    ),
    Case(
        "subdir-project-with-parent-deps",
        {
            "pyproject.toml": "[project]\nname = 'x'\n",
            "src/pkg/m.py": "x = 1\n",
            "proj/dvc.yaml": "stages:\n  build:\n    cmd: cat ../src/pkg/m.py ../pyproject.toml > out.txt\n"
            "    deps: [../src/pkg/, ../pyproject.toml]\n    outs: [out.txt]\n",
        },
        root="proj",
        ci=True,
    ),
    Case(
        "pipelines-in-sub-folders",
        {
            "raw.txt": "x\n",
            "dvc.yaml": "stages:\n  top:\n    cmd: cat a/out.txt > top.txt\n    deps: [a/out.txt]\n"
            "    outs: [top.txt]\n",
            "a/dvc.yaml": "stages:\n  a:\n    cmd: cat ../raw.txt > out.txt\n    deps: [../raw.txt]\n"
            "    outs: [out.txt]\n",
            "b/dvc.yaml": "stages:\n  b:\n    cmd: echo b > b.txt\n    outs: [b.txt]\n",
        },
    ),
    Case(
        "no-root-dvc-yaml",
        {"b/dvc.yaml": "stages:\n  b:\n    cmd: echo b > b.txt\n    outs: [b.txt]\n"},
        repro=("-P",),
    ),
    Case(
        "empty-root-dvc-yaml",
        {
            "dvc.yaml": "stages: {}\n",
            "b/dvc.yaml": "stages:\n  b:\n    cmd: echo b > b.txt\n    outs: [b.txt]\n",
        },
    ),
    Case(
        "wdir",
        {
            "src/in.txt": "i\n",
            "dvc.yaml": "stages:\n  s:\n    wdir: src\n    cmd: cp in.txt ../built.txt\n"
            "    deps: [in.txt]\n    outs: [../built.txt]\n",
        },
    ),
    Case(
        "file-dep-inside-directory-output",
        {
            "dvc.yaml": "stages:\n  make:\n    cmd: mkdir -p d && echo 1 > d/one.txt && echo 2 > d/two.txt\n"
            "    outs: [d]\n  use:\n    cmd: cat d/two.txt > use.txt\n    deps: [d/two.txt]\n"
            "    outs: [use.txt]\n",
        },
    ),
    Case(
        "dvc2-lock",
        {**RAW, "dvc.yaml": LINEAR},
        setup=(("dvc", "repro"),),
        dvc2=True,
        edits={"params.yaml": "train:\n  lr: 0.3\n  epochs: 2\n"},
        ci=True,
    ),
    Case(
        "url-dep",
        {
            "dvc.yaml": "stages:\n  get:\n    cmd: echo got > got.txt\n"
            "    deps: ['{url}/data.csv']\n    outs: [got.txt]\n"
        },
        ci=True,
    ),  # fmt: skip
    Case(
        "persist-output",
        {
            "dvc.yaml": "stages:\n  s:\n    cmd: echo run >> log.txt\n    outs:\n      - log.txt:\n"
            "          persist: true\n"
        },
    ),  # fmt: skip
    Case(
        "cmd-as-list",
        {
            **RAW,
            "dvc.yaml": "stages:\n  s:\n    cmd:\n      - cp raw.txt a.txt\n      - cp a.txt b.txt\n"
            "    deps: [raw.txt]\n    outs: [a.txt, b.txt]\n",
        },
    ),  # fmt: skip
    Case(
        "top-level-metrics-and-plots",
        {
            "dvc.yaml": "metrics: [m.json]\nplots:\n  - loss.csv:\n      x: step\n      y: loss\n"
            "stages:\n  s:\n    cmd: >-\n      echo '{\"a\": 1}' > m.json && printf 'step,loss\\n1,2\\n' > loss.csv\n"
            "    outs:\n      - m.json:\n          cache: false\n      - loss.csv:\n          cache: false\n",
        },
    ),
    Case(
        "tracked-data-dependency",
        {
            "data/x.txt": "x\n",
            "dvc.yaml": "stages:\n  s:\n    cmd: cat data/x.txt > y.txt\n"
            "    deps: [data]\n    outs: [y.txt]\n",
        },
        setup=(("dvc", "add", "data"),),
    ),  # fmt: skip
    Case(
        "interpolated-cmd-and-vars",
        {
            "params.yaml": "train:\n  lr: 0.1\n  layers: [1, 2]\n",
            "dvc.yaml": "vars:\n  - tag: v1\nstages:\n  s:\n    cmd: echo ${tag} ${train.lr} > ${tag}.txt\n"
            "    outs:\n      - ${tag}.txt\n",
        },
    ),
]
