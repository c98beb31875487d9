"""Units of llmpipe.compare: diffs, tables, charts."""

from __future__ import annotations

from llmpipe.compare.chart import nice_ticks, render_svg
from llmpipe.compare.diff import Change, changes_to_json, diff_values
from llmpipe.compare.plots import Figure, Series
from llmpipe.compare.render import format_relative, format_value, markdown_table, text_table


def test_diff_values_and_dvc_json_shape():
    old = {"m.json": {"acc": 0.5, "gone": 1, "same": 2, "s": "a"}}
    new = {"m.json": {"acc": 0.75, "new": True, "same": 2, "s": "b"}}
    changes = diff_values(old, new)
    assert [c.key for c in changes] == ["acc", "gone", "new", "s"]
    assert changes_to_json(changes) == {
        "m.json": {
            "acc": {"old": 0.5, "new": 0.75, "diff": 0.25},
            "gone": {"old": 1, "new": None},
            "new": {"old": None, "new": True},
            "s": {"old": "a", "new": "b"},
        }
    }
    assert len(diff_values(old, new, include_all=True)) == 5


def test_change_relative_and_type_changes():
    assert Change("p", "k", 2, 3).relative == 0.5
    assert Change("p", "k", 0, 3).relative is None
    assert Change("p", "k", 1, 1.0).changed  # int became float
    assert Change("p", "k", True, 2).diff is None


def test_value_formatting():
    assert format_value(0.123456789) == "0.12346"
    assert format_value(0.123456789, 2) == "0.12"
    assert format_value(None) == "-" and format_value(True) == "true"
    assert format_relative(0.25) == "+25.00%" and format_relative(None) == "-"


def test_tables():
    assert text_table(["a", "bb"], [["1", "2"], ["333", ""]]) == "a    bb\n1    2\n333"
    assert markdown_table(["a"], [["x|y"]]) == "| a |\n| --- |\n| x\\|y |"


def test_nice_ticks_cover_the_range():
    assert nice_ticks(0, 1) == (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    ticks = nice_ticks(3.3, 3.3)
    assert ticks[0] <= 3.3 <= ticks[-1]
    ticks = nice_ticks(-17, 1234)
    assert ticks[0] <= -17 and ticks[-1] >= 1234 and len(ticks) <= 8


def test_svg_escapes_labels():
    figure = Figure("p<1>", "t&t", "x", "y", [Series("r<", "f.csv", "y", ((0, 1), (1, 2)))])
    svg = render_svg(figure)
    assert "t&amp;t" in svg and 'data-revision="r&lt;"' in svg and "<polyline" in svg
