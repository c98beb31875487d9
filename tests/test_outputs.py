"""llmpipe.outputs: the outputs a project records, in the workspace and at commits."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from llmpipe.errors import RevisionError
from llmpipe.outputs import recorded_outputs, revision_outputs, used_outputs, workspace_outputs
from llmpipe.repo import Repo

PIPELINE = """\
stages:
  make:
    cmd: python -c "[open(n + '.txt', 'w').write(n * 3) for n in 'abc']"
    outs:
      - a.txt:
          remote: second
      - b.txt:
          push: false
      - c.txt:
          cache: false
  later:
    cmd: echo never run > later.txt
    outs: [later.txt]
"""


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def sha(project) -> str:  # noqa: ANN001
    return project.git("rev-parse", "HEAD").strip()


def outputs_by_path(outputs) -> dict:  # noqa: ANN001
    return {o.path: (o.info.value, o.cache, o.remote, o.push) for o in outputs}


def test_workspace_outputs_keep_the_options_transfers_follow(project):
    project.write("dvc.yaml", PIPELINE)
    project.write("data.txt", "data\n")
    project.ok("add", "data.txt")
    project.ok("repro", "make")
    stages = Repo(str(project.path)).stages()
    expected = {
        "data.txt": (md5("data\n"), True, None, True),
        "a.txt": (md5("aaa"), True, "second", True),
        "b.txt": (md5("bbb"), True, None, False),
    }
    assert outputs_by_path(workspace_outputs(str(project.path), stages)) == expected
    everything = outputs_by_path(recorded_outputs(str(project.path), stages))
    assert everything == {**expected, "c.txt": (md5("ccc"), False, None, True)}
    assert [o.path for o in used_outputs(str(project.path), stages, ["make"])] == [
        "a.txt",
        "b.txt",
    ]


def test_outputs_at_commits_follow_each_commits_dvc_yaml(project):
    project.write("dvc.yaml", PIPELINE)
    project.ok("repro", "make")
    project.commit("main")
    main = sha(project)
    project.git("checkout", "-q", "-b", "feature")
    changed = PIPELINE.replace("remote: second", "push: false").replace("n * 3", "n * 4")
    project.write("dvc.yaml", changed)
    project.ok("repro", "make")
    project.commit("feature")
    feature = sha(project)
    on_main = {
        "a.txt": (md5("aaa"), True, "second", True),
        "b.txt": (md5("bbb"), True, None, False),
    }
    assert outputs_by_path(revision_outputs(str(project.path), [main, main])) == on_main
    both = revision_outputs(str(project.path), [main, feature])
    assert [(o.path, o.info.value, o.remote, o.push) for o in both] == [
        ("a.txt", md5("aaa"), "second", True),
        ("b.txt", md5("bbb"), None, False),
        ("a.txt", md5("aaaa"), None, False),
        ("b.txt", md5("bbbb"), None, False),
    ]
    stages = Repo(str(project.path)).stages()
    with_branches = used_outputs(str(project.path), stages, ["make"], [main, feature])
    assert set(with_branches) == set(both)


def test_interpolated_outputs_are_read_with_each_commits_params(project):
    project.write(
        "dvc.yaml",
        """\
        stages:
          train:
            cmd: python -c "import os; os.makedirs('${dir}', exist_ok=True); open('${dir}/m.txt', 'w').write('${dir}')"
            outs: ["${dir}/m.txt"]
        """,
    )
    commits = []
    for folder in ("first", "second"):
        project.write("params.yaml", f"dir: {folder}\n")
        project.ok("repro")
        project.commit(folder)
        commits.append(sha(project))
    found = revision_outputs(str(project.path), commits)
    assert [(o.path, o.info.value) for o in found] == [
        ("first/m.txt", md5("first")),
        ("second/m.txt", md5("second")),
    ]


def test_a_params_change_without_interpolation_changes_nothing(project):
    project.write("dvc.yaml", PIPELINE)
    commits = []
    for value in (1, 2):
        project.write("params.yaml", f"x: {value}\n")
        project.ok("repro", "make")
        project.commit(f"params {value}")
        commits.append(sha(project))
    assert len(revision_outputs(str(project.path), commits)) == 2  # a.txt and b.txt, once


@pytest.mark.parametrize(
    ("relpath", "text", "message"),
    [
        ("dvc.lock", "schema: '2.0'\nstages: [1, 2]\n", "dvc.lock: 'stages' must be a mapping"),
        ("dvc.lock", "schema: '2.0'\nstages:\n  make: [1]\n", "entry of stage 'make'"),
        ("dvc.yaml", "stages:\n  make: {cmd: x, outs: [a\n", "dvc.yaml:3:1: invalid YAML"),
        ("data.txt.dvc", "outs: 3\n", "data.txt.dvc: a .dvc file needs"),
    ],
)
def test_a_commit_that_cannot_be_read_is_an_error(project, relpath, text, message):
    project.write("dvc.yaml", PIPELINE)
    project.write("data.txt", "data\n")
    project.ok("add", "data.txt")
    project.ok("repro", "make")
    good = project.read(relpath)
    project.write(relpath, text)
    project.commit("broken")
    broken = sha(project)
    with pytest.raises(RevisionError, match=f"commit {broken[:10]} uses: .*{message}"):
        revision_outputs(str(project.path), [broken])
    project.write(relpath, good)
    project.commit("fixed")  # the workspace is fine; only the history holds the broken file
    result = project.cli("gc", "--all-commits", "-f")
    assert result.code == 1 and broken[:10] in result.err
    assert (project.path / ".dvc/cache/files/md5" / md5("data\n")[:2]).exists()


def test_a_project_in_a_subfolder_of_the_git_repository(tmp_path):
    root = tmp_path / "repo"
    (root / "proj" / ".dvc").mkdir(parents=True)
    (root / "proj" / ".dvc" / "config").write_text("")
    (root / "proj" / "d.txt.dvc").write_text(f"outs:\n- md5: {md5('d')}\n  path: d.txt\n")
    (root / "other.dvc").write_text(f"outs:\n- md5: {md5('x')}\n  path: x\n")
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.com"]
    subprocess.run([*git, "init", "-q"], cwd=root, check=True)
    subprocess.run([*git, "add", "-A"], cwd=root, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "c"], cwd=root, check=True)
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=root, check=True, capture_output=True, text=True
    ).stdout.strip()
    found = revision_outputs(str(root / "proj"), [head])
    assert [(o.path, o.info.value) for o in found] == [("d.txt", md5("d"))]


def test_outside_git_revisions_cannot_be_read(tmp_path: Path):
    with pytest.raises(RevisionError, match="not inside a git repository"):
        revision_outputs(str(tmp_path), [])
