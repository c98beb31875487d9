"""Units of llmpipe.compare: diffs, tables, datapoints, charts."""

from __future__ import annotations

import pytest

from llmpipe.compare.chart import bar_values, confusion_counts, nice_ticks, render_svg
from llmpipe.compare.diff import Change, changes_to_json, diff_values
from llmpipe.compare.plots import Plot, flat_datapoints
from llmpipe.compare.render import format_relative, format_value, markdown_table, text_table
from llmpipe.errors import FileProblem


def test_diff_values_and_dvc_json_shape():
    old = {"m.json": {"acc": 0.5, "gone": 1, "same": 2, "s": "a", "ok": False}}
    new = {"m.json": {"acc": 0.75, "new": True, "same": 2, "s": "b", "ok": True}}
    changes = diff_values(old, new)
    assert [c.key for c in changes] == ["acc", "gone", "new", "ok", "s"]
    assert changes_to_json(changes) == {
        "m.json": {
            "acc": {"old": 0.5, "new": 0.75, "diff": 0.25},
            "gone": {"old": 1, "new": None},
            "new": {"old": None, "new": True},
            "ok": {"old": False, "new": True, "diff": 1},  # dvc counts booleans as 0 and 1
            "s": {"old": "a", "new": "b"},
        }
    }
    assert len(diff_values(old, new, include_all=True)) == 6


def test_change_relative_and_what_dvc_calls_a_change():
    assert Change("p", "k", 2, 3).relative == 0.5
    assert Change("p", "k", 0, 3).relative is None
    assert not Change("p", "k", 1, 1.0).changed  # equal values, as dvc compares them
    assert Change("p", "k", True, 2).diff == 1
    assert Change("p", "k", False, True).relative is None


def test_value_formatting_is_dvcs():
    assert format_value(0.123456789) == "0.12346"  # rounded to 5 decimal places
    assert format_value(1234.56789) == "1234.56789"
    assert format_value(1e-7) == "0.0"
    assert format_value(0.123456789, 2) == "0.12"
    assert format_value(0.123456789, None) == "0.123456789"
    assert format_value(None) == "-" and format_value(True) == "True"
    assert format_relative(0.25) == "+25.00%" and format_relative(None) == "-"


def test_tables_are_dvcs():
    assert text_table(["a", "bb"], [["1", "2"], ["333", ""]]) == "a    bb\n1    2\n333"
    assert text_table(["a"], []) == ""
    assert markdown_table(["a"], [["x|y"]]) == "| a    |\n|------|\n| x\\|y |\n"


def test_nice_ticks_cover_the_range():
    assert nice_ticks(0, 1) == (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    ticks = nice_ticks(3.3, 3.3)
    assert ticks[0] <= 3.3 <= ticks[-1]
    ticks = nice_ticks(-17, 1234)
    assert ticks[0] <= -17 and ticks[-1] >= 1234 and len(ticks) <= 8


def test_datapoints_follow_dvc():
    rows = [
        {"epoch": "0", "loss": "1.0", "acc": "0.1"},
        {"epoch": "1", "loss": "0.5", "acc": "0.2"},
    ]
    points, props = flat_datapoints("t.csv", {"t.csv": rows}, {}, "main")
    assert props["x"] == "step" and props["y"] == "acc"  # x: the row index; y: the last field
    assert points[1] == {**rows[1], "step": 1, "rev": "main", "filename": "t.csv", "field": "acc"}
    points, props = flat_datapoints(
        "p", {"t.csv": rows}, {"x": "epoch", "y": {"t.csv": ["loss", "acc"]}}, "w"
    )
    assert props["y"] == "dvc_inferred_y_value" and props["y_label"] == "y"
    assert [p["dvc_inferred_y_value"] for p in points] == ["1.0", "0.5", "0.1", "0.2"]
    with pytest.raises(FileProblem, match="Could not find provided field"):
        flat_datapoints("t.csv", {"t.csv": rows}, {"y": "nope"}, "w")


def _plot(template: str, points: list[dict], x: str, y: str) -> Plot:
    props = {"template": template, "x": x, "y": y, "title": "t"}
    return Plot("p<1>", "vega", props, points, sorted({p["rev"] for p in points}))


def test_confusion_and_bar_values():
    pairs = [("a", "a"), ("b", "a"), ("b", "b"), ("a", "a")]
    points = [{"actual": a, "predicted": p, "rev": "r"} for a, p in pairs]
    assert confusion_counts(_plot("confusion", points, "actual", "predicted"), False) == {
        "r": {("a", "a"): 2, ("b", "a"): 1, ("b", "b"): 1}
    }
    normal = confusion_counts(_plot("confusion_normalized", points, "actual", "predicted"), True)
    assert normal["r"][("a", "a")] == pytest.approx(2 / 3) and normal["r"][("b", "b")] == 1
    bars = [{"name": n, "imp": v, "rev": "r"} for n, v in (("f1", 1), ("f2", 3))]
    assert [c for c, _ in bar_values(_plot("bar_horizontal", bars, "imp", "name"), False)] == [
        "f1",
        "f2",
    ]
    assert [
        c for c, _ in bar_values(_plot("bar_horizontal_sorted", bars, "imp", "name"), True)
    ] == ["f2", "f1"]


@pytest.mark.parametrize(
    ("template", "element"),
    [
        ("linear", "<polyline"),
        ("scatter", "<circle"),
        ("confusion", "<rect"),
        ("bar_horizontal", "<rect"),
    ],
)
def test_each_template_is_drawn_as_what_it_is(template, element):
    points = [{"x": "1", "y": "2", "rev": "r<"}, {"x": "2", "y": "1", "rev": "r<"}]
    svg = render_svg(_plot(template, points, "x", "y"))
    assert f'data-template="{template}"' in svg and element in svg and "r&lt;" in svg
