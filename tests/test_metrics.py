"""llmpipe.metrics: parsing by extension, flattening, and every reader agreeing on one project."""

from __future__ import annotations

import json

import pytest

from llmpipe.metrics import (
    FileProblem,
    as_mapping,
    flatten,
    metric_values,
    parse_data,
    read_data_file,
    read_metrics,
)
from tests.conftest import needs_dvc


def test_flatten_nested_keys_and_lists():
    data = {"a": {"b": {"c": 1}}, "l": [1, 2], "s": "x", "e": {}}
    assert flatten(data, keep_lists=True) == {"a.b.c": 1, "l": [1, 2], "s": "x"}
    assert flatten(data) == {"a.b.c": 1, "s": "x"}
    assert flatten({1: {"x": None}}) == {"1.x": None}


def test_metric_values_keep_what_dvc_shows():
    assert metric_values({"a": [1], "b": {"c": [2], "d": 3}}) == {"b": {"d": 3}}
    data = {"n": None, "e": {"x": None}, "ok": False, "s": "", "z": 0}
    assert metric_values(data) == {"ok": False, "s": "", "z": 0}


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("m.json", b'{"a": 1}', {"a": 1}),
        ("m.yaml", b"a: 1\nb: on\n", {"a": 1, "b": "on"}),  # YAML 1.2: 'on' is a string
        ("m.txt", b"a: 1e3\n", {"a": 1000.0}),  # unknown extensions are YAML, as in DVC
        ("m.toml", b"a = 1\n", {"a": 1}),
        ("m.csv", b"a,b\n1,x\n", [{"a": 1, "b": "x"}]),
        ("m.tsv", b"a\tb\n0.5\t2\n", [{"a": 0.5, "b": 2}]),
        ("M.JSON", b'\xef\xbb\xbf{"a": 2}', {"a": 2}),  # a byte order mark is allowed
    ],
)
def test_parse_formats(name, text, expected):
    assert parse_data(text, name, "HEAD") == expected


@pytest.mark.parametrize(
    ("name", "text", "rev", "message"),
    [
        ("m.json", b"{bad", "r1", "^'m.json' at r1: invalid JSON at line 1"),
        ("m.json", b"{bad", None, "^m.json:1:2: invalid JSON: Expecting"),
        ("m.toml", b"a = = 1", None, "^m.toml: invalid TOML"),
        ("m.toml", b"a = = 1", "r1", "invalid TOML"),
        ("m.csv", b"a,b\n1\n", "r1", "line 2 has the wrong number of fields"),
        ("m.csv", b"", "r1", "empty table"),
        ("m.json", b"\xff\xfe\x00", "r1", "not UTF-8"),
        ("m.yaml", b"a: [1\n", "r1", "m.yaml at r1"),
    ],
)
def test_parse_errors_name_file_and_revision(name, text, rev, message):
    with pytest.raises(FileProblem, match=message):
        parse_data(text, name, rev)


def test_one_row_table_is_a_mapping_and_lists_are_not():
    assert as_mapping([{"acc": 1}], "x") == {"acc": 1}
    assert as_mapping(None, "x") == {}
    with pytest.raises(FileProblem, match="expected a mapping"):
        as_mapping([1, 2], "x")


def test_read_workspace_files(tmp_path):
    (tmp_path / "m.toml").write_text("[train]\nacc = 0.5\n")
    assert read_metrics(str(tmp_path / "m.toml"), "m.toml") == {"train": {"acc": 0.5}}
    (tmp_path / "list.json").write_text("[1, 2]")
    assert read_data_file(str(tmp_path / "list.json")) == [1, 2]
    with pytest.raises(FileProblem, match="'list.json': expected a mapping"):
        read_metrics(str(tmp_path / "list.json"), "list.json")
    with pytest.raises(FileProblem, match="'gone.json' does not exist"):
        read_metrics(str(tmp_path / "gone.json"), "gone.json")
    with pytest.raises(FileProblem, match="cannot read"):
        read_data_file(str(tmp_path))


PIPELINE = """\
stages:
  evaluate:
    cmd: python write_metrics.py
    metrics:
      - scores.json: {cache: false}
      - eval/summary.yaml: {cache: false}
      - extra.toml: {cache: false}
      - table.csv: {cache: false}
"""

WRITER = """\
import os
os.makedirs("eval", exist_ok=True)
open("scores.json", "w").write('{"acc": 0.75, "loss": {"train": 0.5, "val": 0.625}, "hist": [1, 2]}')
open("eval/summary.yaml", "w").write("f1: 0.5\\nlabel: best\\nok: true\\n")
open("extra.toml", "w").write("[bleu]\\nscore = 21.5\\n")
open("table.csv", "w").write("precision,recall\\n0.25,0.125\\n")
"""

EXPECTED = {
    "scores.json": {"acc": 0.75, "loss.train": 0.5, "loss.val": 0.625},
    "eval/summary.yaml": {"f1": 0.5, "label": "best", "ok": True},
    "extra.toml": {"bleu.score": 21.5},
    "table.csv": {"precision": 0.25, "recall": 0.125},
}


def test_every_reader_of_the_project_sees_the_same_metrics(project):
    """`metrics show`, sweep results, the registry and lineage read one way."""
    from llmpipe.ops.sweep_job import collect_metrics
    from llmpipe.registry.artifact import workspace_metrics
    from llmpipe.repo import Repo

    project.write("dvc.yaml", PIPELINE)
    project.write("write_metrics.py", WRITER)
    project.ok("repro")
    shown = json.loads(project.ok("metrics", "show", "--json").out)
    flat = {path: flatten(value["data"]) for path, value in shown[""]["data"].items()}
    assert flat == EXPECTED
    with Repo(str(project.path)) as repo:
        swept = collect_metrics(repo)
        registered = workspace_metrics(repo)
        recorded = repo.lineage.read(stage="evaluate")[0].metrics
    assert swept == {f"{p}:{k}": v for p, values in EXPECTED.items() for k, v in values.items()}
    numbers = {k: v for values in EXPECTED.values() for k, v in values.items()}
    assert registered == {k: v for k, v in numbers.items() if type(v) is float}
    assert {p: flatten(as_mapping(v, p)) for p, v in recorded.items()} == EXPECTED


@needs_dvc
@pytest.mark.dvc
def test_metrics_show_reads_files_as_dvc_does(project):
    project.write("dvc.yaml", PIPELINE)
    project.write("write_metrics.py", WRITER)
    project.ok("repro")
    ours = json.loads(project.ok("metrics", "show", "--json").out)[""]["data"]
    theirs = json.loads(project.run("dvc", "metrics", "show", "--json").stdout)[""]["data"]
    # DVC reads a .csv metrics file as YAML (one string); llmpipe reads it as a one-row table.
    del ours["table.csv"], theirs["table.csv"]
    assert ours == theirs
