import pytest

from llmpipe.errors import SpecError
from llmpipe.yamlio import dump_yaml, load_with_lines, load_yaml


def test_scalars_follow_yaml_1_2_like_dvc():
    data, _ = load_with_lines(
        "a: on\nb: yes\nc: 1:20\nd: 017\ne: 0o17\nf: 1e3\ng: 1_000\nh: True\n", "x"
    )
    assert data == {"a": "on", "b": "yes", "c": "1:20", "d": 17, "e": 15, "f": 1000.0,
                    "g": 1000, "h": True}  # fmt: skip


def test_key_lines_are_recorded_per_mapping():
    data, lines = load_with_lines("stages:\n  a:\n    cmd: x\n\n  b:\n    cmd: y\n", "x")
    assert lines[id(data["stages"])] == {"a": 2, "b": 5}
    assert lines[id(data["stages"]["b"])] == {"cmd": 6}


def test_malformed_yaml_names_file_line_and_column():
    with pytest.raises(
        SpecError,
        match=r"^dvc.yaml:4:1: invalid YAML: .*flow sequence started at line 3, column 10",
    ):
        load_with_lines("stages:\n  a:\n    cmd: [x\n", "dvc.yaml")


def test_duplicate_key_is_an_error_with_both_lines():
    with pytest.raises(
        SpecError, match=r"dvc.yaml:4:3: duplicate key 'a' \(first defined on line 2\)"
    ):
        load_with_lines("stages:\n  a:\n    cmd: x\n  a:\n    cmd: y\n", "dvc.yaml")


def test_merge_keys_may_be_overridden():
    data, _ = load_with_lines("base: &b {x: 1, y: 2}\nder:\n  <<: *b\n  x: 3\n", "x")
    assert data["der"] == {"x": 3, "y": 2}


@pytest.mark.parametrize(
    ("value", "text"),
    [("on", "on"), ("1.0", "'1.0'"), ("null", "'null'"), ("x: y", "'x: y'"), ("é", "é")],
)
def test_dump_quotes_only_what_yaml_1_2_would_misread(value, text):
    assert dump_yaml({"path": value}) == f"path: {text}\n"


@pytest.mark.parametrize(
    "cmd",
    [
        "python train.py",
        "python -m pipelines.llm.train --config conf/config.yaml " * 4,  # folded by ruamel
        "multi\nline\ncommand\n",
    ],
)
def test_a_run_cache_entry_reads_back_as_the_lock_entry(cmd):
    from llmpipe.yamlio import render_entry

    entry = {
        "cmd": cmd,
        "deps": [{"path": "data/1e10", "hash": "md5", "md5": "1234e5678901234567890123456789012"}],
        "params": {"params.yaml": {"lr": 0.001, "flag": "on", "name": "yes"}},
        "outs": [{"path": "model.bin", "hash": "md5", "md5": "0" * 32, "size": 3}],
    }
    text = render_entry("train@1", entry)
    assert not text.startswith(" ")
    assert load_yaml(text, "entry") == entry


TABS = ["seed\t: 1\n", "a:\t1\n", "a: 1\t\n", "a: x\ty\n", "a: [1,\t2]\n", "a: {b:\t1}\n",
        "a: 'x\ty'\n", "a: |\n  x\ty\n", "a:\n  - 1\t# c\n"]  # fmt: skip


@pytest.mark.parametrize("text", TABS)
def test_tabs_are_read_or_refused_as_dvc_reads_them(text):
    """libyaml takes tabs that ruamel (dvc's reader) refuses: `seed\\t: 1` was read as
    `seed: 1`, so `status` said up to date where dvc said the file is corrupted."""
    from ruamel.yaml import YAML  # the reference reader, as the fuzz suite uses it

    try:
        expected = YAML(typ="safe", pure=True).load(text)
    except Exception:  # noqa: BLE001
        with pytest.raises(SpecError, match=r"^params.yaml:\d+:\d+: invalid YAML: "):
            load_yaml(text, "params.yaml")
    else:
        assert load_yaml(text, "params.yaml") == expected
