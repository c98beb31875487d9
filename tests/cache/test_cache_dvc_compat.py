"""The cache we write is the cache `dvc` (3.x) writes, and each reads the other's."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import yaml
from cache_trees import TREE, read_tree, write_tree

from llmpipe.cache.build import build
from llmpipe.cache.checkout import checkout, in_cache
from llmpipe.cache.odb import ObjectDB
from llmpipe.cache.save import save
from llmpipe.cache.state import NoState, SqliteState
from llmpipe.pathguard import PathGuard
from llmpipe.stage import HashInfo

pytestmark = [
    pytest.mark.dvc,
    pytest.mark.skipif(shutil.which("dvc") is None, reason="needs the dvc package"),
]
EXEC = "sub/deep/run.sh"


def _run(cwd, *args) -> str:
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr + done.stdout
    return done.stdout


def _new_repo(path) -> str:
    path.mkdir()
    _run(path, "git", "init", "-q")
    _run(path, "dvc", "init", "-q")
    write_tree(path / "data")
    os.chmod(path / "data" / EXEC, 0o755)
    (path / "tool.sh").write_bytes(b"#!/bin/sh\nexit 0\n")
    os.chmod(path / "tool.sh", 0o755)
    return str(path)


def _objects(cache_root) -> dict[str, bytes]:
    """Every object file under `<cache>/files` as relpath -> bytes, plus its mode check."""
    found = read_tree(cache_root)
    for rel in found:
        assert os.stat(os.path.join(cache_root, rel)).st_mode & 0o777 == 0o444, rel
    return found


def _out(dvcfile) -> dict:
    with open(dvcfile) as handle:
        return yaml.safe_load(handle)["outs"][0]


def _write_dvcfile(path, name, info: HashInfo) -> None:
    with open(path, "w") as handle:
        yaml.safe_dump({"outs": [{**info.to_lock_dict(), "path": name}]}, handle, sort_keys=False)


@pytest.fixture(scope="module")
def dvc_repo(tmp_path_factory):
    """A repository where `dvc add data tool.sh` has run."""
    repo = _new_repo(tmp_path_factory.mktemp("dvc") / "repo")
    _run(repo, "dvc", "add", "-q", "data", "tool.sh")
    return repo


def test_hashes_sizes_and_exec_flags_match_dvc_add(dvc_repo):
    data, _ = build(os.path.join(dvc_repo, "data"), "md5", NoState())
    tool, _ = build(os.path.join(dvc_repo, "tool.sh"), "md5", NoState())
    assert {**data.to_lock_dict(), "path": "data"} == _out(os.path.join(dvc_repo, "data.dvc"))
    assert {**tool.to_lock_dict(), "path": "tool.sh"} == _out(os.path.join(dvc_repo, "tool.sh.dvc"))


def test_our_cache_holds_the_same_objects_as_dvcs(dvc_repo, tmp_path):
    repo = _new_repo(tmp_path / "ours")
    odb = ObjectDB(os.path.join(repo, ".dvc", "cache", "files", "md5"))
    state = NoState()
    save(os.path.join(repo, "data"), odb, state, ["reflink", "copy"])
    save(os.path.join(repo, "tool.sh"), odb, state, ["reflink", "copy"])
    ours = _objects(os.path.join(repo, ".dvc", "cache", "files"))
    assert ours == _objects(os.path.join(dvc_repo, ".dvc", "cache", "files"))


@pytest.mark.parametrize("links", [["copy"], ["hardlink"]])
def test_dvc_checks_out_and_approves_a_cache_we_wrote(tmp_path, links):
    repo = _new_repo(tmp_path / "ours")
    odb = ObjectDB(os.path.join(repo, ".dvc", "cache", "files", "md5"))
    state = SqliteState(str(tmp_path / "state.db"))
    for name in ("data", "tool.sh"):
        info = save(os.path.join(repo, name), odb, state, links)
        _write_dvcfile(os.path.join(repo, f"{name}.dvc"), name, info)
    state.close()
    assert json.loads(_run(repo, "dvc", "status", "--json")) == {}
    shutil.rmtree(os.path.join(repo, "data"))
    os.unlink(os.path.join(repo, "tool.sh"))
    _run(repo, "dvc", "checkout", "-q")
    assert read_tree(os.path.join(repo, "data")) == TREE
    assert json.loads(_run(repo, "dvc", "status", "--json")) == {}


def test_we_check_out_a_cache_dvc_wrote(dvc_repo, tmp_path):
    repo = str(tmp_path / "clone")
    shutil.copytree(dvc_repo, repo, symlinks=True)
    shutil.rmtree(os.path.join(repo, "data"))
    odb = ObjectDB(os.path.join(repo, ".dvc", "cache", "files", "md5"))
    info = HashInfo.from_lock_dict(_out(os.path.join(repo, "data.dvc")))
    assert in_cache(odb, info)
    guard = PathGuard(repo)
    result = checkout(odb, info, os.path.join(repo, "data"), ["copy"], NoState(), guard=guard)
    assert result.missing == () and len(result.changed) == len(TREE)
    assert read_tree(os.path.join(repo, "data")) == TREE
    assert json.loads(_run(repo, "dvc", "status", "--json")) == {}
