"""A dvc.lock written by DVC 2 (no `hash:` field, md5 of text after CRLF -> LF).

dvc 3 reads such entries with DVC 2's md5 and finds them up to date; when a stage
runs, each entry whose content is unchanged stays in DVC 2's form and the others
get `hash: md5`. llmpipe must agree with dvc on the status and write the same bytes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from llmpipe.yamlio import load_yaml, render_lock
from tests.conftest import needs_dvc

pytestmark = [needs_dvc, pytest.mark.dvc]

PIPELINE = """\
stages:
  prep:
    cmd: mkdir -p data && cp raw.txt data/clean.txt && cp blob.bin data/blob.bin
    deps: [raw.txt, blob.bin]
    params: [n]
    outs: [data]
  train:
    cmd: cat data/clean.txt > model.txt
    deps: [data]
    params: [lr]
    outs: [model.txt]
"""


def _dvc2_md5(path: str) -> str:
    from dvc_data.hashfile.hash import file_md5

    return file_md5(path, name="md5-dos2unix")


def _dvc2_dir(path: str, legacy_cache: str) -> str:
    """DVC 2's `.dir` hash of `path`; its objects are put in DVC 2's cache layout."""
    import hashlib

    entries = []
    for folder, _, files in os.walk(path):
        for name in files:
            full = os.path.join(folder, name)
            value = _dvc2_md5(full)
            _store(legacy_cache, value, Path(full).read_bytes())
            entries.append({"md5": value, "relpath": os.path.relpath(full, path)})
    data = json.dumps(sorted(entries, key=lambda e: e["relpath"]), sort_keys=True).encode()
    value = hashlib.md5(data).hexdigest() + ".dir"
    _store(legacy_cache, value, data)
    return value


def _store(cache: str, value: str, data: bytes) -> None:
    path = os.path.join(cache, value[:2], value[2:])
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)
    os.chmod(path, 0o444)


def make_dvc2_project(project) -> None:  # noqa: ANN001
    """Run the pipeline with dvc 3, then turn lock and cache into what DVC 2 left."""
    project.write("raw.txt", "")
    (project.path / "raw.txt").write_bytes(b"line one\r\nline two\r\n")
    (project.path / "blob.bin").write_bytes(b"\x00\x01\r\n\x02" * 100)
    project.write("params.yaml", "n: 1\nlr: 0.1\n")
    project.write("dvc.yaml", PIPELINE)
    project.run("dvc", "repro")
    to_dvc2(project.path)


def to_dvc2(root: Path) -> None:
    """Turn the dvc.lock and cache dvc 3 left at `root` into what DVC 2 would have left."""
    cache = str(root / ".dvc" / "cache")
    stages = load_yaml((root / "dvc.lock").read_text(), "dvc.lock")["stages"]
    for entry in stages.values():
        for item in [*entry.get("deps", []), *entry.get("outs", [])]:
            del item["hash"]
            full = str(root / item["path"])
            item["md5"] = _dvc2_dir(full, cache) if os.path.isdir(full) else _dvc2_md5(full)
            if not os.path.isdir(full):
                _store(cache, item["md5"], Path(full).read_bytes())
    shutil.rmtree(os.path.join(cache, "files"))
    shutil.rmtree(os.path.join(cache, "runs"), ignore_errors=True)
    (root / "dvc.lock").write_text(render_lock(stages))


def _changed(project, tool: list[str]) -> set[str]:  # noqa: ANN001
    return set(json.loads(project.run(*tool, "status", "--json").stdout or "{}"))


@pytest.fixture
def dvc2(project, tmp_path):  # noqa: ANN001
    make_dvc2_project(project)
    theirs = tmp_path / "theirs"
    shutil.copytree(project.path, theirs, symlinks=True)
    return project, theirs


def test_dvc2_entries_are_up_to_date_as_in_dvc(dvc2) -> None:  # noqa: ANN001
    project, _ = dvc2
    assert "md5: " in project.read("dvc.lock") and "hash:" not in project.read("dvc.lock")
    assert project.run("dvc", "status", "--json").stdout.strip() == "{}"
    assert project.ok("status", "--json").out.strip() == "{}"
    lock = project.read("dvc.lock")
    assert "up to date" in project.ok("repro").out
    assert project.read("dvc.lock") == lock  # nothing ran, nothing rewritten


@pytest.mark.parametrize(
    "change",
    ["params.yaml", "raw.txt"],
)
def test_a_rewritten_dvc2_lock_is_byte_identical_to_dvc_s(dvc2, change) -> None:  # noqa: ANN001
    project, theirs = dvc2
    for root in (project.path, theirs):
        if change == "params.yaml":
            (root / "params.yaml").write_text("n: 2\nlr: 0.2\n")
        else:
            (root / "raw.txt").write_bytes(b"line one\r\nline 2\r\n")
    ours_changed = _changed(project, ["python", "-m", "llmpipe"])
    theirs_changed = set(
        json.loads(
            subprocess.run(
                ["dvc", "status", "--json"], cwd=theirs, capture_output=True, text=True, check=True
            ).stdout
            or "{}"
        )
    )
    subprocess.run(["dvc", "repro"], cwd=theirs, check=True, capture_output=True)
    project.ok("repro")
    # dvc lists a stage whose own deps or params changed, not what runs after it.
    assert ours_changed == theirs_changed
    assert "prep" in ours_changed
    assert project.read("dvc.lock") == (theirs / "dvc.lock").read_text()
    assert project.run("dvc", "status", "--json").stdout.strip() == "{}"
    assert project.ok("status", "--json").out.strip() == "{}"
