"""Helpers of the fuzz suite: a project with every file llmpipe reads, mutations, verdicts.

A verdict on one run of the CLI: success, or exit 1 with an `ERROR:` line (or, for
the `verify`/`check` commands, their FAILED report) — never the "this is a bug"
exit 70, a click usage error, a traceback or a hang. An input that the reference
parser rejects (ruamel for YAML, as dvc; configobj for `.dvc/config`), or a signed
file whose content changed, must not give a silent success.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from tests.conftest import GIT_ENV

HANG_SECONDS = 20

TOKENS = [
    b"&a ",
    b"*a",
    b": ",
    b"- ",
    b"{",
    b"}",
    b"[",
    b"]",
    b"'",
    b'"',
    b"\xff\xfe",
    b"\x00",
    b"\xc3",
    b"9" * 5000,
    b"x" * 300,
    b"d/" + b"y" * 4000,
    b"~",
    b"!!python/object/apply:os.system ['true']",
    b"!!binary aGk=",
    b"<<: *a",
    b"\t",
    b"${",
    b"${seed}",
    b"${missing.key}",
    b"..",
    b"../../outside",
    b"/etc/passwd",
    b"-1",
    b"1e999",
    b".nan",
    b"null",
    b"[]",
    b"{}",
    b"true",
    b"\n",
    b"  ",
    b"# c\n",
    b"%YAML 1.1\n",
    b"---\n",
    b"? ",
    b"|\n",
    b">-\n",
    b"\r\n",
    b"\xef\xbb\xbf",
    b"0x1F",
    b"2024-01-01",
    b"'\\x00'",
]

ALIAS_BOMB = b"""\
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
"""

# -- mutations --------------------------------------------------------------------


@st.composite
def byte_mutations(draw: st.DrawFn, seed: bytes) -> bytes:
    """`seed` with a few insertions, deletions and replacements of bytes or tokens."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(data)))
        piece = draw(st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=8)))
        op = draw(st.sampled_from(["insert", "replace", "delete", "duplicate-line"]))
        if op == "insert":
            data[at:at] = piece
        elif op == "replace":
            data[at : at + len(piece)] = piece
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 40))]
        else:
            start = data.rfind(b"\n", 0, at) + 1
            end = data.find(b"\n", at)
            end = len(data) if end < 0 else end + 1
            data[end:end] = data[start:end]
    return bytes(data)


SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.builds(pow, st.just(10), st.just(5000)),  # 5,001 digits
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.sampled_from(["x" * 300, "a/" * 2100, "../up", "/abs", "${seed}", "", "md5", "\x00"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


def _nodes(data: Any, path: tuple = ()) -> Iterator[tuple]:
    yield path
    if isinstance(data, dict):
        for key, value in data.items():
            yield from _nodes(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from _nodes(value, (*path, index))


def _replace(data: Any, path: tuple, value: Any) -> Any:
    if not path:
        return value
    head, rest = path[0], path[1:]
    copy = dict(data) if isinstance(data, dict) else list(data)
    copy[head] = _replace(data[head], rest, value)
    return copy


@st.composite
def value_mutations(draw: st.DrawFn, data: Any) -> Any:
    """`data` with one to three nodes replaced by values of any type (wrong types)."""
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_nodes(data))))
        data = _replace(data, path, draw(VALUES))
    return data


@contextlib.contextmanager
def huge_ints() -> Iterator[None]:
    """Let the test itself write integers of any size (Python refuses > 4,300 digits)."""
    previous = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        yield
    finally:
        sys.set_int_max_str_digits(previous)


def dump_yaml(data: Any) -> bytes:
    import yaml

    with huge_ints():
        return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=1000).encode()


# -- oracles ----------------------------------------------------------------------


def ruamel_rejects(raw: bytes) -> bool:
    """True when dvc's YAML parser (ruamel, safe) cannot read `raw` as one document."""
    from ruamel.yaml import YAML

    try:
        YAML(typ="safe", pure=True).load(raw.decode("utf-8"))
    except Exception:  # noqa: BLE001 - any failure counts as rejected
        return True
    return False


def configobj_rejects(raw: bytes) -> bool:
    """True when configobj (dvc's reader of .dvc/config) cannot read `raw`."""
    from configobj import ConfigObj

    try:
        ConfigObj(io.BytesIO(raw), encoding="utf-8", write_empty_values=True)
    except Exception:  # noqa: BLE001
        return True
    return False


def json_lines(raw: bytes) -> list[Any] | None:
    """The parsed lines of a JSON-lines file, or None when one does not parse."""
    try:
        return [json.loads(line) for line in raw.decode("utf-8").splitlines() if line.strip()]
    except ValueError:
        return None


# -- the project and running the CLI ----------------------------------------------

TRAIN = """\
import json, os
os.makedirs("model", exist_ok=True)
open("model/weights.bin", "w").write(open("prep.txt").read())
json.dump({"loss": 0.5}, open("metrics.json", "w"))
"""

PIPELINE = """\
vars:
  - tag: v1
stages:
  prep:
    cmd: echo ${seed} ${tag} > prep.txt && cat data.txt >> prep.txt
    deps: [data.txt, raw]
    params: [seed]
    outs: [prep.txt]
  train:
    foreach: [a, b]
    do:
      cmd: python train.py && echo ${item} > tag-${item}.txt
      deps: [prep.txt, train.py]
      params: [train.lr, train.epochs]
      outs:
        - tag-${item}.txt
  report:
    cmd: python train.py
    deps: [prep.txt]
    outs: [model]
    metrics:
      - metrics.json:
          cache: false
"""


@dataclass
class Cli:
    code: int
    out: str
    err: str


class _Hang(BaseException):
    """Raised by the alarm: not an Exception, so llmpipe's handlers let it through."""


def _on_alarm(signum: int, frame: object) -> None:  # noqa: ARG001
    raise _Hang


def run_cli(cwd: Path, *args: str) -> Cli:
    """`llmpipe ARGS` in this process (fast), with a time limit; exit 70 is kept."""
    from llmpipe.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    previous = os.getcwd()
    old = signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(HANG_SECONDS)
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
    except _Hang:
        return Cli(-1, out.getvalue(), f"HANG: more than {HANG_SECONDS} s\n{err.getvalue()}")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)
        os.chdir(previous)
    return Cli(code, out.getvalue(), err.getvalue())


def problem_with(result: Cli, *, check_command: bool) -> str | None:
    """Why `result` is not "success or one clear error" (None when it is)."""
    text = result.out + result.err
    if result.code == -1:
        return "hang"
    if result.code == 70 or "Traceback" in text:
        return "bug (traceback / exit 70)"
    if result.code == 0:
        return None
    if result.code != 1:
        return f"exit {result.code}"
    errors = [line for line in result.err.splitlines() if line.startswith("ERROR:")]
    if check_command and "FAILED" in text:
        return None
    if not errors:
        return "exit 1 with no ERROR: line"
    return None


def build_template(path: Path, env: dict[str, str]) -> None:
    """A project holding one of every file llmpipe reads (commands run for real)."""
    path.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True, env=env)
    _ok(path, "init")
    (path / "params.yaml").write_text("seed: 1\ntrain:\n  lr: 0.1\n  epochs: 2\n")
    (path / "dvc.yaml").write_text(PIPELINE)
    (path / "train.py").write_text(TRAIN)
    (path / "data.txt").write_text("data\n")
    (path / "raw").mkdir()
    (path / "raw" / "a.txt").write_text("a\n")
    _ok(path, "remote", "add", "-d", "store", str(path / ".remote"))
    _ok(path, "keys", "generate", "--name", "alice", "--no-passphrase")
    _ok(path, "policy", "init", "--name", "alice")
    _ok(path, "add", "raw")
    _ok(path, "repro")
    subprocess.run(["git", "add", "-A"], cwd=path, check=True, env=env)
    subprocess.run(["git", "commit", "-qm", "t"], cwd=path, check=True, env={**env, **GIT_ENV})
    _ok(path, "registry", "register", "llm", "model", "-m", "first")
    _ok(path, "registry", "promote", "llm", "0.1.0", "--to", "staging")


def _ok(path: Path, *args: str) -> None:
    result = run_cli(path, *args)
    assert result.code == 0, f"llmpipe {' '.join(args)}: {result.out}{result.err}"


def audit_log(root: Path) -> str:
    """The relative path of this machine's audit chain."""
    (chain,) = (root / ".llmpipe" / "audit").glob("*.jsonl")
    return str(chain.relative_to(root))


def fresh_copy(template: Path, where: Path) -> Path:
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(template, where, symlinks=True)
    return where


def ruamel_safe(raw: bytes) -> Any:
    """The data of a valid YAML file, read as dvc reads it."""
    from ruamel.yaml import YAML

    return YAML(typ="safe", pure=True).load(raw.decode("utf-8"))
