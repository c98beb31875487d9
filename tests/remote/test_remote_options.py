"""Per-output `remote:` and `push: false`, --run-cache, -A, and the transfer result values."""

from __future__ import annotations

import hashlib
from pathlib import Path

from llmpipe.ops.transfer import TransferRequest, fetch, push
from llmpipe.repo import Repo

PIPELINE = """\
stages:
  make:
    cmd: python -c "open('kept.txt','w').write('kept\\n'); open('local.txt','w').write('local\\n'); open('other.txt','w').write('other\\n')"
    outs:
      - kept.txt
      - local.txt:
          push: false
      - other.txt:
          remote: second
"""


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def stored(root: Path) -> set[str]:
    return {p.parent.name + p.name for p in (root / "files" / "md5").rglob("*") if p.is_file()}


def test_push_false_and_per_output_remote(project, tmp_path) -> None:
    project.write("dvc.yaml", PIPELINE)
    project.ok("repro")
    project.ok("remote", "add", "-d", "first", str(tmp_path / "first"))
    project.ok("remote", "add", "second", str(tmp_path / "second"))
    project.ok("push")
    assert stored(tmp_path / "first") == {md5("kept\n")}
    assert stored(tmp_path / "second") == {md5("other\n")}
    for name in ("kept.txt", "local.txt", "other.txt"):
        (project.path / name).unlink()
    Repo(str(project.path)).odb.remove(md5("other\n"))
    project.ok("pull", "make")
    assert project.read("other.txt") == "other\n"


def test_run_cache_travels_with_push_and_pull(project, tmp_path) -> None:
    project.write("params.yaml", "seed: 1\n")  # dvc run-caches only stages with deps
    pipeline = PIPELINE.replace("          push: false\n", "          cache: true\n")
    project.write("dvc.yaml", pipeline.replace("    outs:\n", "    params: [seed]\n    outs:\n"))
    project.ok("repro")
    runs = project.path / ".dvc" / "cache" / "runs"
    entries = sorted(p.relative_to(runs) for p in runs.rglob("*") if p.is_file())
    assert entries
    project.ok("remote", "add", "-d", "first", str(tmp_path / "first"))
    project.ok("remote", "add", "second", str(tmp_path / "second"))
    project.ok("push", "--run-cache")
    remote_runs = tmp_path / "first" / "runs"
    assert (
        sorted(p.relative_to(remote_runs) for p in remote_runs.rglob("*") if p.is_file()) == entries
    )
    import shutil

    shutil.rmtree(runs)
    project.ok("fetch", "--run-cache")
    assert sorted(p.relative_to(runs) for p in runs.rglob("*") if p.is_file()) == entries


def test_all_branches_pushes_objects_of_other_branches(project, tmp_path) -> None:
    project.write("data.txt", "on main\n")
    project.ok("add", "data.txt")
    project.commit("main data")
    project.git("checkout", "-q", "-b", "feature")
    project.write("data.txt", "on feature\n")
    project.ok("add", "data.txt")
    project.commit("feature data")
    project.git("checkout", "-q", "main")
    project.ok("checkout")
    project.ok("remote", "add", "-d", "r", str(tmp_path / "r"))
    repo = Repo(str(project.path))
    assert push(repo, TransferRequest()).transferred == (md5("on main\n"),)
    result = push(repo, TransferRequest(all_branches=True))
    assert result.transferred == (md5("on feature\n"),) and result.skipped == 1


def test_all_branches_follow_each_branchs_remote_and_push_options(project, tmp_path) -> None:
    project.write("dvc.yaml", PIPELINE)
    project.ok("repro")
    project.commit("main")
    project.git("checkout", "-q", "-b", "feature")
    project.write("dvc.yaml", PIPELINE.replace("'kept\\n'", "'kept on feature\\n'"))
    project.write("dvc.yaml", project.read("dvc.yaml").replace("'local\\n'", "'local 2\\n'"))
    project.write("dvc.yaml", project.read("dvc.yaml").replace("'other\\n'", "'other 2\\n'"))
    project.ok("repro")
    project.commit("feature")
    project.git("checkout", "-q", "main")
    project.ok("checkout")
    project.ok("remote", "add", "-d", "first", str(tmp_path / "first"))
    project.ok("remote", "add", "second", str(tmp_path / "second"))
    project.ok("push", "-a")
    assert stored(tmp_path / "first") == {md5("kept\n"), md5("kept on feature\n")}
    assert stored(tmp_path / "second") == {md5("other\n"), md5("other 2\n")}


def test_results_are_values(project, tmp_path) -> None:
    project.write("data.txt", "x\n")
    project.ok("add", "data.txt")
    project.ok("remote", "add", "-d", "r", str(tmp_path / "r"))
    repo = Repo(str(project.path))
    repo.odb.remove(md5("x\n"))
    result = push(repo, TransferRequest())
    # In neither the cache nor the remote: reported, not a failure (dvc warns, exits 0).
    assert result.transferred == () and result.failed == ()
    assert [(m.oid, m.name) for m in result.missing] == [(md5("x\n"), "data.txt")]
    result = fetch(repo, TransferRequest())
    assert [f.reason for f in result.failed] == ["not on the remote"]
