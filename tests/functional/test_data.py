"""`llmpipe add`, `checkout` and `gc` on real repositories."""

from __future__ import annotations

import json
import os


def test_add_file_writes_dvc_file_gitignore_and_cache(project):
    project.write("data/corpus.txt", "some text\n")
    result = project.ok("add", "data/corpus.txt")
    assert "data/corpus.txt.dvc" in result.out
    dvcfile = project.read("data/corpus.txt.dvc")
    assert "path: corpus.txt" in dvcfile and "md5: " in dvcfile
    assert "/corpus.txt" in project.read("data/.gitignore")
    assert project.ok("status").out.strip() == "Data and pipelines are up to date."


def test_add_directory_and_detect_modification(project):
    project.write("ds/a.txt", "a\n")
    project.write("ds/sub/b.txt", "b\n")
    added = json.loads(project.ok("add", "ds", "--json").out)
    assert added[0]["nfiles"] == 2 and added[0]["hash"].endswith(".dir")
    os.chmod(project.path / "ds/a.txt", 0o644)
    project.write("ds/a.txt", "changed\n")
    assert "out 'ds' modified" in project.ok("status").out
    project.ok("add", "ds")
    assert project.ok("status").out.strip() == "Data and pipelines are up to date."


def test_add_refuses_missing_and_outside_paths(project, tmp_path):
    result = project.cli("add", "nope.txt")
    assert result.code != 0 and "'nope.txt' does not exist" in result.err
    outside = tmp_path / "outside.txt"
    outside.write_text("x")
    result = project.cli("add", str(outside))
    assert result.code != 0 and "outside the project" in result.err


def test_add_refuses_a_stage_output(project):
    project.write("dvc.yaml", "stages:\n  a:\n    cmd: echo > o.txt\n    outs: [o.txt]\n")
    project.ok("repro")
    result = project.cli("add", "o.txt")
    assert result.code != 0 and "overlaps with an output of stage: 'a'" in result.err


def test_checkout_restores_deleted_outputs(project):
    project.write("ds/a.txt", "a\n")
    project.write("dvc.yaml", "stages:\n  a:\n    cmd: echo out > o.txt\n    outs: [o.txt]\n")
    project.ok("add", "ds")
    project.ok("repro")
    (project.path / "o.txt").unlink()
    os.chmod(project.path / "ds/a.txt", 0o644)
    (project.path / "ds/a.txt").unlink()
    result = project.ok("checkout")
    assert project.read("o.txt") == "out\n"
    assert project.read("ds/a.txt") == "a\n"
    assert "o.txt" in result.out


def test_checkout_follows_git_revisions(project):
    project.write("params.yaml", "v: 1\n")
    project.write(
        "dvc.yaml",
        "stages:\n  a:\n    cmd: echo ${v} > o.txt\n    params: [v]\n    outs: [o.txt]\n",
    )
    project.ok("repro")
    project.commit("v1")
    project.git("checkout", "-q", "-b", "v2")
    project.write("params.yaml", "v: 2\n")
    project.ok("repro")
    project.commit("v2")
    project.git("checkout", "-q", "main")
    project.ok("checkout")
    assert project.read("o.txt") == "1\n"
    project.git("checkout", "-q", "v2")
    project.ok("checkout")
    assert project.read("o.txt") == "2\n"


def test_checkout_reports_objects_missing_from_cache(project):
    project.write("dvc.yaml", "stages:\n  a:\n    cmd: echo out > o.txt\n    outs: [o.txt]\n")
    project.ok("repro")
    (project.path / "o.txt").unlink()
    project.ok("gc", "-w", "-f")  # o.txt is still used: nothing removed
    for path in (project.path / ".dvc/cache/files").rglob("*"):
        if path.is_file():
            path.chmod(0o644)
            path.unlink()
    result = project.cli("checkout")
    assert result.code != 0 and "missing from the cache: o.txt" in result.err


def test_gc_workspace_removes_only_unused_objects(project):
    project.write("params.yaml", "v: 1\n")
    project.write(
        "dvc.yaml",
        "stages:\n  a:\n    cmd: echo ${v} > o.txt\n    params: [v]\n    outs: [o.txt]\n",
    )
    project.ok("repro")
    project.write("params.yaml", "v: 2\n")
    project.ok("repro")
    dry = json.loads(project.ok("gc", "-w", "--dry", "--json").out)
    assert dry["removed"] == 1
    result = json.loads(project.ok("gc", "-w", "-f", "--json").out)
    assert result["removed"] == 1 and result["kept"] >= 1
    (project.path / "o.txt").unlink()
    project.ok("checkout")
    assert project.read("o.txt") == "2\n"


def test_gc_without_a_scope_or_confirmation_is_refused(project):
    result = project.cli("gc", "-f")
    assert result.code != 0 and "-w/--workspace" in result.err
    result = project.llmpipe("gc", "-w")  # no stdin: confirmation cannot be given
    assert result.returncode != 0


def test_init_twice_is_harmless_and_no_scm_needs_no_git(project, tmp_path, monkeypatch):
    assert "already" in project.ok("init").out
    plain = tmp_path / "plain"
    plain.mkdir()
    monkeypatch.chdir(plain)
    from llmpipe.cli.main import main

    assert main(["init"]) != 0
    assert main(["init", "--no-scm"]) == 0
    assert (plain / ".dvc" / "config").read_text().strip() == "[core]\n    no_scm = True"


def test_init_takes_a_directory_and_quiet_as_dvc_init_does(project, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    project.git("init", "-q", str(other))
    result = project.cli("init", "-q", str(other))
    assert result.code == 0 and result.out == ""
    assert (other / ".dvc" / "config").exists() and (other / ".llmpipe").is_dir()
    missing = project.cli("init", str(tmp_path / "nope"))
    assert missing.code == 1 and "is not a directory" in missing.err


def test_complete_directory_marker_is_dropped_by_gc(project):
    from llmpipe import Repo
    from llmpipe.cache.checkout import in_cache
    from llmpipe.cache.complete import complete_marker
    from llmpipe.spec import read_dvcfile_hash

    project.write("d1/a.txt", "a\n")
    project.write("d2/b.txt", "b\n")
    project.ok("add", "d1", "d2")
    repo = Repo(str(project.path))
    info = read_dvcfile_hash(repo.root, "d1.dvc")
    assert in_cache(repo.odb, info)
    assert os.path.exists(complete_marker(repo.odb, info.value))
    (project.path / "d1.dvc").unlink()
    project.ok("gc", "-w", "-f")
    assert not os.path.exists(complete_marker(repo.odb, info.value))
    assert not in_cache(repo.odb, info)
