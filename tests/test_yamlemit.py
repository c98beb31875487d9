"""The lock-entry writer without ruamel: whatever it renders is ruamel's text, byte for byte,
and reads back as the same value; what it cannot prove, it leaves to ruamel."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from llmpipe.yamlemit import stage_block
from llmpipe.yamlio import dump_yaml, load_yaml

AWKWARD = [
    "",
    " ",
    "a b",
    " lead",
    "trail ",
    "a  b",
    "a:b",
    "a: b",
    "a:",
    ":a",
    "#a",
    "a #b",
    "a#b",
    "yes",
    "no",
    "on",
    "off",
    "y",
    "n",
    "true",
    "True",
    "FALSE",
    "null",
    "Null",
    "~",
    "=",
    "<<",
    "!",
    "&",
    "*",
    "&a",
    "*a",
    "!a",
    "|",
    ">",
    "%a",
    "@a",
    "`a",
    "'a",
    '"a',
    "a'b",
    'a"b',
    "0x1",
    "0x1g",
    "0o7",
    "0b101",
    "0b2",
    "017",
    "1_000",
    "1e3",
    "1E3",
    "1e+3",
    "1.",
    ".5",
    ".inf",
    "-.inf",
    ".nan",
    ".NaN",
    "+1",
    "-1",
    "-",
    "- a",
    "-a",
    "--flag",
    "?",
    "? a",
    "?a",
    "a,b",
    "[a]",
    "{a}",
    "a[0]",
    "a{b}",
    "a,",
    "...",
    "---",
    "..a",
    "--a",
    "2024-01-01",
    "2024-1-1 10:00:00",
    "1:20",
    "12:30:45",
    "ü",
    "日本語",
    "naïve café",
    "\u00a0a",
    "a\tb",
    "a\nb",
    "a\rb",
    "\ufeff",
    "\u2028",
    "\x85",
    "\x7f",
    "\x00",
    "é" * 90,
    "python train.py --epochs 10 --lr 0.001 --data data/prepared --out models/model.pt && echo",
    "x" * 200,
    "a " * 50,
    "0a1b2c3d4e5f60718293a4b5c6d7e8f9",
    "12345678901234567890123456789012",
    "1234567e89",
    "00000000000000000000000000000e12",
    "~/data",
    "./a.txt",
    "data/ü.csv",
]

scalars = st.one_of(
    st.sampled_from(AWKWARD),
    st.text(max_size=30),
    st.text(alphabet="ab:# -'\"0123456789.e+_xoTFtfnNul~", max_size=12),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
)
keys = st.one_of(st.sampled_from(AWKWARD), st.text(min_size=1, max_size=20))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=3),
    max_leaves=8,
)
entries = st.dictionaries(st.sampled_from(["cmd", "deps", "params", "outs", "x"]), values)


def _ruamel_block(name: str, entry: dict) -> str:
    return dump_yaml({"stages": {name: entry}}).split("\n", 1)[1]


def _same(left: object, right: object) -> bool:
    """Equal, with NaN equal to itself and bool told apart from int."""
    if isinstance(left, float) and isinstance(right, float) and math.isnan(left):
        return math.isnan(right)
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return list(left) == list(right) and all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(map(_same, left, right))
    return left == right


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=keys, entry=entries)
@example(name="train", entry={"cmd": AWKWARD})
@example(name="train", entry={"params": {"p.yaml": dict.fromkeys(AWKWARD, 1)}})
def test_matches_ruamel_and_reads_back(name: str, entry: dict) -> None:
    block = stage_block(name, entry)
    if block is None:
        return
    assert block == _ruamel_block(name, entry)
    read = load_yaml("schema: '2.0'\nstages:\n" + block, "dvc.lock")["stages"]
    assert _same(read, {name: entry})


def test_awkward_strings_one_by_one() -> None:
    for text in AWKWARD:
        for entry in ({"cmd": text}, {"cmd": [text]}, {"params": {"p": {"k": text}}}):
            block = stage_block("s", entry)
            if block is not None:
                assert block == _ruamel_block("s", entry), text


def test_a_usual_entry_needs_no_ruamel() -> None:
    entry = {
        "cmd": "python train.py --lr 0.001 && echo done > log.txt",
        "deps": [{"path": "data/raw", "hash": "md5", "md5": "1234567e89" * 3 + ".dir",
                  "size": 10, "nfiles": 2}],
        "params": {"params.yaml": {"lr": 0.001, "epochs": 10, "name": "yes", "ok": True,
                                   "none": None, "layers": [64, 32], "opt": {"beta": 1e-08}}},
        "outs": [{"path": "model.pt", "hash": "md5", "md5": "0" * 32, "size": 0}],
    }  # fmt: skip
    block = stage_block("train", entry)
    assert block is not None
    assert block == _ruamel_block("train", entry)
