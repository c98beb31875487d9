"""`metrics`, `params` and `plots` print what dvc prints, on the same repository.

JSON is compared parsed (dvc orders some keys by hash); tables character for
character, where dvc's row order is stable.
"""

from __future__ import annotations

import csv
import io
import json
import os

import pytest

from tests.compare.experiments import build
from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]


@pytest.fixture
def experiments(project):
    build(project)
    return project


def _both(project, *args: str) -> tuple[str, str]:
    theirs = project.run("dvc", *args, check=False).stdout
    return project.llmpipe(*args).stdout, theirs


def _same_json(project, *args: str) -> dict:
    ours, theirs = _both(project, *args, "--json")
    assert json.loads(ours) == json.loads(theirs), args
    return json.loads(ours)


def test_metrics_show_json_and_tables_match_dvc(experiments):
    assert list(_same_json(experiments, "metrics", "show")) == [""]
    for flags in (("-a",), ("-T",), ("-A",), ("-a", "-T")):
        _same_json(experiments, "metrics", "show", *flags)
    for flags in ((), ("-a",), ("-T",), ("--md",), ("-a", "--md")):
        ours, theirs = _both(experiments, "metrics", "show", *flags)
        assert ours == theirs, flags
    experiments.write("metrics.json", '{"acc": 0.123456789, "better": true}')
    _same_json(experiments, "metrics", "show", "-a")  # the workspace now differs: shown
    ours, theirs = _both(experiments, "metrics", "show", "-a")
    assert ours == theirs


def test_metrics_show_lists_a_revision_where_a_file_is_missing(experiments):
    experiments.git("checkout", "-q", "-b", "no-eval", "main")
    experiments.git("rm", "-q", "--cached", "metrics.json")
    (experiments.path / "metrics.json").unlink()
    experiments.commit("metrics.json gone")
    experiments.git("checkout", "-q", "main")
    shown = json.loads(experiments.llmpipe("metrics", "show", "-a", "--json").stdout)
    assert "error" in shown["no-eval"]["data"]["metrics.json"]
    ours, theirs = _both(experiments, "metrics", "show", "-a")
    assert ours == theirs and "no-eval     metrics.json" in ours


def test_metrics_diff_json_matches_dvc_booleans_included(experiments):
    changed = _same_json(experiments, "metrics", "diff", "main", "exp-b")
    assert changed["metrics.json"]["better"] == {"old": False, "new": True, "diff": 1}
    same = _same_json(experiments, "metrics", "diff", "exp-a", "exp-b", "--all")
    assert same["metrics.json"]["better"] == {"old": True, "new": True, "diff": 0}
    ours, theirs = _both(experiments, "metrics", "diff", "main", "exp-b")
    # dvc's columns, then llmpipe's Relative; dvc orders files by hash, so compare as sets.
    assert {" ".join(line.split()[:-1]) for line in ours.splitlines()} == {
        " ".join(line.split()) for line in theirs.splitlines()
    }


PARAMS_PIPELINE = """\
vars:
  - config.yaml
stages:
  train:
    cmd: echo ${model.size} > out.txt
    params:
      - lr
      - tune.yaml:
          - opt.beta
    outs: [out.txt]
"""


def test_params_diff_lists_the_keys_dvc_lists(project):
    project.write("dvc.yaml", PARAMS_PIPELINE)
    project.write("params.yaml", "lr: 0.1\nunused: 1\n")
    project.write("tune.yaml", "opt:\n  beta: 0.9\n  gamma: 2\nother: 5\n")
    project.write("config.yaml", "model:\n  size: 3\n  depth: 4\n")
    project.ok("repro")
    project.commit("first")
    project.write("params.yaml", "lr: 0.2\nunused: 2\n")
    project.write("tune.yaml", "opt:\n  beta: 0.8\n  gamma: 3\nother: 6\n")
    project.write("config.yaml", "model:\n  size: 5\n  depth: 6\n")
    for flags in ((), ("--all",), ("--deps",), ("--all", "--deps")):
        diff = _same_json(project, "params", "diff", *flags)
    plain = _same_json(project, "params", "diff")
    assert set(plain["tune.yaml"]) == {"opt.beta"}  # only the key the stage tracks
    assert set(plain["params.yaml"]) == {"lr", "unused"}  # the default file: all of it
    assert set(plain["config.yaml"]) == {"model.size"}  # a value the stage interpolates
    assert diff  # --all --deps
    ours, theirs = _both(project, "params", "diff", "--all", "--deps")
    # The same lines; dvc orders the files by hash.
    assert ours.splitlines()[0] == theirs.splitlines()[0]
    assert sorted(ours.splitlines()[1:]) == sorted(theirs.splitlines()[1:])


def test_metrics_show_with_params_is_dvc_exp_show_rows(experiments):
    table = experiments.llmpipe("metrics", "show", "-a", "--params", "--md").stdout.splitlines()
    header, *rows = ([c.strip() for c in line.strip("|").split("|")] for line in table if line)
    ours = {row[0]: dict(zip(header, row, strict=True)) for row in rows[1:]}
    theirs = experiments.run("dvc", "exp", "show", "-a", "--csv").stdout
    for record in csv.DictReader(io.StringIO(theirs)):
        if record["rev"] in ("workspace", ""):
            continue
        row = ours.pop(record["rev"])
        for column in header[1:]:
            assert row[column] == record[column], (record["rev"], column)
    assert ours == {}  # one row per revision, as many as dvc's


# -- a metrics file and plots inside a cached output directory (#14 item 1) -------------

EVAL_PIPELINE = """\
stages:
  evaluate:
    cmd: python evaluate.py
    deps: [evaluate.py]
    params: [lr]
    outs: [eval]
metrics:
  - eval/metrics.json
plots:
  - eval/plots/roc.json:
      template: scatter
      x: fpr
      y: tpr
"""

EVALUATE = """\
import json, os
lr = float(open("params.yaml").read().split(":")[1])
os.makedirs("eval/plots", exist_ok=True)
json.dump({"auc": lr * 4, "good": lr > 0.15}, open("eval/metrics.json", "w"))
json.dump([{"fpr": i / 2, "tpr": min(1.0, i * lr * 3)} for i in range(3)],
          open("eval/plots/roc.json", "w"))
"""


@pytest.fixture
def evaluated(project):
    project.write("evaluate.py", EVALUATE)
    project.write("dvc.yaml", EVAL_PIPELINE)
    for branch, lr in (("main", "0.1"), ("exp", "0.2")):
        if branch != "main":
            project.git("checkout", "-q", "-b", branch)
        project.write("params.yaml", f"lr: {lr}\n")
        project.ok("repro")
        project.commit(branch)
    project.git("checkout", "-q", "main")
    project.ok("checkout")
    return project


def _object_in_dir(project, rev: str, relpath: str):  # noqa: ANN202
    lock = project.git("show", f"{rev}:dvc.lock")
    digest = lock.split("path: eval\n")[1].split("md5: ")[1].split()[0]
    cache = project.path / ".dvc/cache/files/md5"
    manifest = json.loads((cache / digest[:2] / digest[2:]).read_text())
    oid = next(e["md5"] for e in manifest if e["relpath"] == relpath)
    return cache / oid[:2] / oid[2:]


def test_files_in_a_cached_directory_are_read_at_other_revisions(evaluated):
    diff = _same_json(evaluated, "metrics", "diff", "main", "exp")
    assert diff == {
        "eval/metrics.json": {
            "auc": {"old": 0.4, "new": 0.8, "diff": 0.4},
            "good": {"old": False, "new": True, "diff": 1},
        }
    }
    shown = _same_json(evaluated, "metrics", "show", "-a")
    assert shown["exp"]["data"]["eval/metrics.json"]["data"]["auc"] == 0.8
    plots = _same_json(evaluated, "plots", "diff", "main", "exp", "-o", "plots")
    assert plots["data"]["eval/plots/roc.json"][0]["revisions"] == ["main", "exp"]


def test_an_object_the_cache_lacks_is_an_error_not_a_change(evaluated):
    missing = _object_in_dir(evaluated, "exp", "metrics.json")
    os.chmod(missing, 0o644)
    missing.unlink()
    result = evaluated.llmpipe("metrics", "diff", "main", "exp", "--json")
    assert result.returncode == 1
    assert "'eval/metrics.json' at exp is not in the cache" in result.stderr
    assert "llmpipe fetch" in result.stderr and "could not read metrics of 'exp'" in result.stderr
    plot = _object_in_dir(evaluated, "exp", "plots/roc.json")
    os.chmod(plot, 0o644)
    plot.unlink()
    result = evaluated.llmpipe("plots", "diff", "main", "exp", "--json")
    assert result.returncode == 1 and "could not read plots of 'exp'" in result.stderr
    assert json.loads(result.stdout)["errors"][0]["source"] == "eval/plots/roc.json"


def test_an_object_the_cache_lacks_is_fetched_from_the_remote(evaluated, tmp_path):
    evaluated.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    evaluated.git("checkout", "-q", "exp")
    evaluated.ok("push")
    evaluated.git("checkout", "-q", "main")
    missing = _object_in_dir(evaluated, "exp", "metrics.json")
    os.chmod(missing, 0o644)
    missing.unlink()
    ours = evaluated.llmpipe("metrics", "diff", "main", "exp", "--json")
    assert ours.returncode == 0 and missing.exists()  # fetched: just that object
    theirs = evaluated.run("dvc", "metrics", "diff", "main", "exp", "--json").stdout
    assert json.loads(ours.stdout) == json.loads(theirs)


# -- plots: dvc's JSON for every template and for images (#14 item 16) --------------------

PLOTS_PIPELINE = """\
stages:
  make:
    cmd: python make.py
    deps: [make.py]
    outs:
      - chart.png
    plots:
      - cm.json:
          cache: false
          template: confusion
          x: actual
          y: predicted
      - train.tsv:
          cache: false
          x: epoch
          y: loss
plots:
  - cmn:
      template: confusion_normalized
      x: actual
      y:
        cm.json: predicted
  - roc.json:
      template: scatter
      x: fpr
      y: tpr
  - smooth:
      template: smooth
      x: epoch
      y:
        train.tsv: [loss, val_loss]
  - simple:
      template: simple
      x: epoch
      y:
        train.tsv: val_loss
  - feat.json:
      template: bar_horizontal
      x: imp
      y: name
  - sorted:
      template: bar_horizontal_sorted
      x: imp
      y:
        feat.json: name
  - steps.csv
  - chart.png
"""

MAKE = """\
import json
pairs = [("a", "a"), ("b", "a"), ("b", "b"), ("a", "b")]
json.dump([{"actual": a, "predicted": p} for a, p in pairs], open("cm.json", "w"))
json.dump({"roc": [{"fpr": i / 4, "tpr": i / 5} for i in range(5)]}, open("roc.json", "w"))
with open("train.tsv", "w") as f:
    f.write("epoch\\tloss\\tval_loss\\n" + "".join(f"{i}\\t{1/(i+1):.3f}\\t{1.2/(i+1):.3f}\\n" for i in range(4)))
json.dump([{"name": n, "imp": v} for n, v in (("f1", 3), ("f2", 1), ("f3", 2))], open("feat.json", "w"))
open("steps.csv", "w").write("value\\n1\\n4\\n9\\n")
open("chart.png", "wb").write(bytes.fromhex("89504e470d0a1a0a") + b"not really a png")
"""


def test_plots_json_matches_dvc_for_every_template_and_image(project, tmp_path):
    project.write("make.py", MAKE)
    project.write("dvc.yaml", PLOTS_PIPELINE)
    project.ok("repro")
    project.commit("plots")
    out = str(tmp_path / "out")
    shown = _same_json(project, "plots", "show", "-o", out)
    kinds = {plot_id: entries[0]["type"] for plot_id, entries in shown["data"].items()}
    assert kinds["chart.png"] == "image" and kinds["cm.json"] == "vega"
    assert set(kinds) == {"cmn", "roc.json", "smooth", "simple", "feat.json", "sorted",
                          "steps.csv", "chart.png", "cm.json", "train.tsv"}  # fmt: skip
    assert os.path.exists(shown["data"]["chart.png"][0]["url"])
    project.write("steps.csv", "value\n2\n3\n")
    _same_json(project, "plots", "diff", "-o", out)  # HEAD and the workspace
    _same_json(project, "plots", "diff", "HEAD", "-o", out, "--targets", "cm.json")
    page = project.llmpipe("plots", "show", "-o", str(tmp_path / "html"))
    assert page.returncode == 0
    html = (tmp_path / "html" / "index.html").read_text()
    for template in ("confusion", "confusion_normalized", "scatter", "smooth", "simple",
                     "bar_horizontal", "bar_horizontal_sorted", "linear"):  # fmt: skip
        assert f'data-template="{template}"' in html, template
    assert '<img alt="chart.png" src="data:image/png;base64,' in html
