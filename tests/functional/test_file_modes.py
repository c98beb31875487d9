"""Files llmpipe writes for others get the mode a plain write gives, as dvc's do."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, llmpipe_env, needs_dvc

PIPELINE = """\
stages:
  copy:
    cmd: cp a.txt b.txt
    deps: [a.txt]
    outs: [b.txt]
  plot:
    cmd: printf 'step,loss\\n1,0.5\\n2,0.25\\n' > loss.csv
    plots: [loss.csv]
"""
UMASK = 0o027
# Machine-local or dvc-only files, and run-cache entry names (keyed differently by each tool).
SKIPPED = re.compile(r"^(\.git|\.llmpipe|\.dvc/tmp|dvc_plots|plots)(/|$)")


def _init(path: Path, tool: list[str]) -> None:
    path.mkdir()
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=path, check=True)
    _run(path, [*tool, "init", "-q"] if tool[0] == "dvc" else [*tool, "init"])
    (path / "a.txt").write_text("alpha\n")
    (path / "d").mkdir()
    (path / "d" / "x.txt").write_text("x\n")
    (path / "dvc.yaml").write_text(PIPELINE)


def _both(tmp_path: Path) -> list[tuple[Path, list[str]]]:
    """The same project twice: (folder, command) for llmpipe, then for dvc."""
    pairs = [(tmp_path / "ours", [sys.executable, "-m", "llmpipe"]), (tmp_path / "theirs", ["dvc"])]
    for path, tool in pairs:
        _init(path, tool)
    return pairs


def _run(path: Path, command: list[str]) -> None:
    """`command` under UMASK, in a subprocess (the umask is per process)."""
    env = {**llmpipe_env(), **GIT_ENV}
    subprocess.run(
        command, cwd=path, env=env, check=True, capture_output=True,
        preexec_fn=lambda: os.umask(UMASK),
    )  # fmt: skip


def _modes(root: Path) -> dict[str, int]:
    found = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if SKIPPED.match(rel):
            continue
        rel = re.sub(r"cache/runs/.*", "cache/runs/<entry>", rel)
        found[rel] = path.stat().st_mode & 0o7777
    return found


@needs_dvc
@pytest.mark.dvc
def test_files_written_for_others_have_dvc_s_modes(tmp_path):
    (ours, llmpipe), (theirs, dvc) = _both(tmp_path)
    for path, tool in ((ours, llmpipe), (theirs, dvc)):
        _run(path, [*tool, "repro"])
        _run(path, [*tool, "add", "d"])
    mine = _modes(ours)
    assert mine == _modes(theirs)
    expected = 0o666 & ~UMASK
    for name in ("dvc.lock", "d.dvc", ".gitignore", ".dvc/config", "b.txt"):
        assert mine[name] == expected, name
    assert mine[".dvc/cache/runs/<entry>"] == expected
    objects = {mode for rel, mode in mine.items() if re.search(r"/files/md5/../.", rel)}
    assert objects == {0o444}  # read-only, as dvc makes them


@needs_dvc
@pytest.mark.dvc
def test_plots_page_is_readable_as_dvc_s(tmp_path):
    (ours, llmpipe), (theirs, dvc) = _both(tmp_path)
    for path, tool in ((ours, llmpipe), (theirs, dvc)):
        _run(path, [*tool, "repro"])
        _run(path, [*tool, "plots", "show"])
    page = next(ours.rglob("index.html"))
    dvc_page = theirs / "dvc_plots" / "index.html"
    assert page.stat().st_mode & 0o777 == dvc_page.stat().st_mode & 0o777 == 0o666 & ~UMASK


def test_an_existing_file_keeps_its_mode_and_a_new_one_gets_the_umask_s(tmp_path):
    from llmpipe.fsutil import atomic_path, atomic_write_text, new_file_mode

    existing = tmp_path / "dvc.lock"
    existing.write_text("old\n")
    existing.chmod(0o640)
    atomic_write_text(str(existing), "new\n")
    assert existing.stat().st_mode & 0o777 == 0o640
    fresh = tmp_path / "fresh.txt"
    atomic_write_text(str(fresh), "x\n")
    assert fresh.stat().st_mode & 0o777 == new_file_mode()
    with atomic_path(str(tmp_path / "table.parquet")) as tmp:
        Path(tmp).write_bytes(b"PAR1")
    assert (tmp_path / "table.parquet").stat().st_mode & 0o777 == new_file_mode()
