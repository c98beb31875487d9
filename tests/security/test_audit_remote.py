"""Two clones share one audit trail through a remote (merged by hash, never rewritten)."""

from __future__ import annotations

import json
import subprocess

from tests.conftest import Project


def _clone(origin: Project, path, capsys) -> Project:
    subprocess.run(["git", "clone", "-q", str(origin.path), str(path)], check=True)
    return Project(path, capsys)


def _actions(project: Project) -> list[str]:
    records = json.loads(project.ok("audit", "log", "--json").out)
    return [r.get("command") for r in records]


def test_pull_merges_the_other_clones_trail(project, tmp_path, capsys):
    project.ok("keys", "generate", "--name", "alice", "--no-passphrase")
    project.ok("remote", "add", "-d", "shared", str(tmp_path / "remote"))
    project.write("data.txt", "payload\n")
    project.ok("add", "data.txt")
    project.commit("data")
    project.ok("push")

    other = _clone(project, tmp_path / "other", capsys)
    other.ok("pull")
    assert other.read("data.txt") == "payload\n"
    assert other.ok("audit", "verify").code == 0
    # A command's own record is written when it ends: the first push carries the add.
    assert _actions(other) == ["add", "pull"]

    other.write("more.txt", "more\n")
    other.ok("add", "more.txt")
    other.ok("push")
    project.ok("pull")
    assert _actions(project).count("add") == 2
    assert project.ok("audit", "verify").code == 0


def test_a_tampered_remote_trail_is_refused(project, tmp_path, capsys):
    project.ok("keys", "generate", "--name", "alice", "--no-passphrase")
    remote = tmp_path / "remote"
    project.ok("remote", "add", "-d", "shared", str(remote))
    project.write("data.txt", "payload\n")
    project.ok("add", "data.txt")
    project.commit("data")
    project.ok("push")
    chain = next((remote / "llmpipe" / "audit").glob("*.jsonl"))
    chain.write_text(chain.read_text().replace('"add"', '"gc"', 1))
    other = _clone(project, tmp_path / "other", capsys)
    result = other.cli("pull")
    assert result.code != 0 and "fails verification" in result.err
