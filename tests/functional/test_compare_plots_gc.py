"""`llmpipe plots` across revisions, `checkout` after switching branches, `gc` by revision."""

from __future__ import annotations

import json
import os
import re

import pytest

from llmpipe import scm
from tests.compare.experiments import build
from tests.conftest import needs_dvc


@pytest.fixture
def experiments(project):
    build(project)
    return project


def _plot_data(html: str) -> dict:
    match = re.search(r'<script type="application/json" id="plot-data">(.*?)</script>', html, re.S)
    assert match, "no embedded plot data"
    return json.loads(match.group(1))


def _values(data: dict, plot_id: str) -> list[dict]:
    (entry,) = data["data"][plot_id]
    assert entry["type"] == "vega"
    return entry["content"]["data"]["values"]


def test_plots_diff_overlays_every_revision(experiments, tmp_path):
    out = tmp_path / "plots"
    result = experiments.ok("plots", "diff", "main", "exp-a", "exp-b", "-o", str(out))
    assert "Wrote 1 plot(s)" in result.out
    html = (out / "index.html").read_text()
    assert "<script src" not in html and "http" not in html.replace(
        "http://www.w3.org", ""
    ).replace("https://vega.github.io", "")
    data = _plot_data(html)
    assert data["data"]["loss.csv"][0]["revisions"] == ["main", "exp-a", "exp-b"]
    exp_b = [(p["step"], p["loss"]) for p in _values(data, "loss.csv") if p["rev"] == "exp-b"]
    assert exp_b == [
        ("0", "0.4"),
        ("1", "0.2"),
        ("2", "0.133333"),
        ("3", "0.1"),
    ]  # CSV text, as dvc
    assert html.count('<polyline class="series"') == 3
    for name in ("main", "exp-a", "exp-b"):
        assert f"<title>{name}</title>" in html


def test_plots_show_workspace_json_md_and_png(experiments, tmp_path):
    data = json.loads(experiments.ok("plots", "show", "--json").out)
    (entry,) = data["data"]["loss.csv"]
    assert entry["revisions"] == ["workspace"]
    content = entry["content"]
    assert content["encoding"]["x"]["field"] == "step" and content["title"]["text"] == "loss.csv"
    experiments.write("loss.csv", "step,loss\n0,0.1\n1,0.05\n2,0.02\n")
    md = experiments.ok("plots", "diff", "--md").out.strip().splitlines()
    assert md[0].split("|")[1:-1] == [" Plot     ", " Revision   ", " Series        ", " Points   ",
                                      " Last y   "]  # fmt: skip
    rows = [[c.strip() for c in line.split("|")[1:-1]] for line in md[2:]]
    assert rows == [
        ["loss.csv", "workspace", "loss.csv:loss", "3", "0.02"],
        ["loss.csv", "HEAD", "loss.csv:loss", "3", "0.03333"],
    ]
    pytest.importorskip("PIL", reason="PNG export needs Pillow (llmpipe[plots])")
    out = tmp_path / "png"
    experiments.ok("plots", "show", "-o", str(out), "--png")
    assert (out / "loss.csv.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_top_level_plot_with_file_mapping(experiments, tmp_path):
    experiments.write(
        "dvc.yaml",
        experiments.read("dvc.yaml")
        + "plots:\n  - curves:\n      x: step\n      y:\n        loss.csv: [loss]\n      title: Loss\n",
    )
    data = json.loads(experiments.ok("plots", "show", "--json").out)
    (entry,) = data["data"]["curves"]
    assert entry["content"]["title"]["text"] == "Loss"
    assert _values(data, "curves")[0]["loss"] == "0.1"


def test_checkout_after_switching_branches_restores_outputs(experiments):
    experiments.git("checkout", "-q", "exp-b")
    scm.clear_cache()
    result = experiments.ok("checkout")
    assert "eval.json" in result.out
    assert json.loads(experiments.read("eval.json")) == {"f1": 1.2}
    lock = experiments.read("dvc.lock")
    digest = lock.split("path: eval.json")[1].split("md5: ")[1].split()[0]
    cached = experiments.path / ".dvc/cache/files/md5" / digest[:2] / digest[2:]
    workspace = experiments.path / "eval.json"
    assert os.path.samefile(cached, workspace) or workspace.read_bytes() == cached.read_bytes()
    # An object missing from the cache is named, and checkout fails.
    experiments.git("checkout", "-q", "exp-a")
    lock = experiments.read("dvc.lock")
    digest = lock.split("path: eval.json")[1].split("md5: ")[1].split()[0]
    missing = experiments.path / ".dvc/cache/files/md5" / digest[:2] / digest[2:]
    os.chmod(missing, 0o644)
    missing.unlink()
    result = experiments.cli("checkout")
    assert result.code == 1 and "missing from the cache: eval.json" in result.err


def _eval_objects(project) -> dict[str, str]:
    found = {}
    for branch in ("main", "exp-a", "exp-b"):
        lock = project.git("show", f"{branch}:dvc.lock")
        found[branch] = lock.split("path: eval.json")[1].split("md5: ")[1].split()[0]
    return found


def _in_cache(project, digest: str) -> bool:
    return (project.path / ".dvc/cache/files/md5" / digest[:2] / digest[2:]).exists()


def _cached(project) -> set[str]:
    folder = project.path / ".dvc/cache/files/md5"
    return {p.parent.name + p.name for p in folder.rglob("*") if p.is_file()}


def test_gc_keeps_named_revisions(experiments):
    objects = _eval_objects(experiments)
    experiments.git("branch", "-D", "exp-b")
    before = _cached(experiments)
    result = json.loads(experiments.ok("gc", "-a", "-f", "--json").out)
    # What is left is what the branches use; the `cache: false` outputs saved for the
    # run-cache are used by no revision and go too, as in dvc.
    assert _cached(experiments) == {objects["main"], objects["exp-a"]}
    assert result["removed"] == len(before) - 2
    assert _in_cache(experiments, objects["main"]) and _in_cache(experiments, objects["exp-a"])
    assert not _in_cache(experiments, objects["exp-b"])
    json.loads(experiments.ok("gc", "-w", "-f", "--json").out)
    assert not _in_cache(experiments, objects["exp-a"])
    assert _in_cache(experiments, objects["main"])


def test_gc_rev_and_tags(experiments):
    objects = _eval_objects(experiments)
    before = _cached(experiments)
    dry = json.loads(experiments.ok("gc", "-T", "--rev", "exp-b", "--dry", "--json").out)
    assert dry["dry"] and dry["removed"] == len(before) - 2 and _cached(experiments) == before
    experiments.ok("gc", "-T", "--rev", "exp-b", "-f")
    assert not _in_cache(experiments, objects["exp-a"])
    assert _in_cache(experiments, objects["exp-b"]) and _in_cache(experiments, objects["main"])
    result = experiments.cli("gc", "--rev", "nope", "-f")
    assert result.code == 1 and "unknown revision 'nope'" in result.err


@needs_dvc
@pytest.mark.dvc
def test_diff_values_match_real_dvc(experiments):
    for kind in ("metrics", "params"):
        for args in (["main", "exp-b"], ["exp-a", "exp-b", "--all"]):
            theirs = json.loads(experiments.run("dvc", kind, "diff", *args, "--json").stdout)
            ours = json.loads(experiments.ok(kind, "diff", *args, "--json").out)
            assert ours == theirs, (kind, args)
