"""`exp` against the real dvc: each tool lists the other's experiments, the same way.

JSON is compared parsed and as bytes (dvc prints one line when piped); CSV
character for character.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.compare.experiments import build
from tests.conftest import llmpipe_env, needs_dvc, new_project

pytestmark = [needs_dvc, pytest.mark.dvc]


def _same(project, *args: str, any_order: bool = False) -> str:
    ours = project.llmpipe(*args)
    theirs = project.run("dvc", *args, check=False)
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
    if "--json" in args:
        assert json.loads(ours.stdout) == json.loads(theirs.stdout), args
    if any_order:  # dvc lists refs in the order its git library walks them
        assert sorted(ours.stdout.splitlines()) == sorted(theirs.stdout.splitlines()), args
    else:
        assert ours.stdout == theirs.stdout, args
    return ours.stdout


def test_dvc_lists_llmpipe_experiments_as_llmpipe_does(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    project.ok("exp", "run", "-S", "train.epochs=5")
    shown = json.loads(_same(project, "exp", "show", "--json"))
    assert {r["name"] for r in shown[1]["experiments"]} >= {"lr3"}
    for flags in (("-a",), ("-T",), ("--rev", "exp-a"), ("-n", "2")):
        _same(project, "exp", "show", "--json", *flags)
    _same(project, "exp", "show", "--csv")
    listed = project.run("dvc", "exp", "list", "--name-only").stdout.split()
    assert "lr3" in listed


def test_llmpipe_lists_dvc_experiments_as_dvc_does(project):
    build(project)
    project.run("dvc", "exp", "run", "-S", "train.lr=0.25", "-n", "by-dvc")
    project.git("checkout", "-q", "-f", "exp-a")
    project.run("dvc", "exp", "run", "-S", "train.epochs=2", "-n", "on-a")
    project.git("checkout", "-q", "-f", "main")
    project.run("dvc", "checkout", "-f", check=False)
    shown = json.loads(_same(project, "exp", "show", "--json", "-a"))
    names = {r["name"] for state in shown for r in state["experiments"] or ()}
    assert names == {"by-dvc", "on-a"}
    _same(project, "exp", "show", "--csv", "-a")
    _same(project, "exp", "show", "--json", "--rev", "exp-a")


def test_exp_show_served_from_its_memo_matches_dvc_in_any_time_zone(project, monkeypatch):
    """The second `exp show` reads each commit's values from the memo (`showmemo`), and the
    times are still the local times of the zone it runs in, as dvc computes them. (dvc's
    own cache keeps the time as the zone of its first run showed it, so its cache is
    cleared before comparing in another zone.)"""
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    monkeypatch.setenv("TZ", "UTC")
    first = _same(project, "exp", "show", "--json", "-a")
    assert any((project.path / ".llmpipe" / "tmp" / "exps").iterdir())
    assert _same(project, "exp", "show", "--json", "-a") == first
    monkeypatch.setenv("TZ", "Asia/Kathmandu")  # +05:45
    shutil.rmtree(project.path / ".dvc" / "tmp" / "exps" / "cache")
    moved = _same(project, "exp", "show", "--json", "-a")
    assert moved != first and json.loads(moved)[1]["rev"] == json.loads(first)[1]["rev"]
    _same(project, "exp", "show", "--csv", "-a")


def test_exp_list_and_diff_match_dvc_and_dvc_applies_llmpipe_experiments(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    project.ok("exp", "run", "-S", "train.lr=0.5", "-n", "lr5")
    for flags in ((), ("--name-only",), ("-A",), ("--sha-only",)):
        _same(project, "exp", "list", *flags, any_order=True)
    for revs in ((), ("main", "lr5"), ("lr3", "lr5"), ("exp-a", "lr3")):
        ours = json.loads(project.llmpipe("exp", "diff", *revs, "--json").stdout)
        assert ours == json.loads(project.run("dvc", "exp", "diff", *revs, "--json").stdout)
    project.run("dvc", "exp", "apply", "lr3")
    assert "lr: 0.3" in project.read("params.yaml")
    assert project.llmpipe("status").stdout.startswith("Data and pipelines are up to date")
    project.run("dvc", "exp", "remove", "lr5")
    assert project.llmpipe("exp", "list", "--name-only").stdout == "lr3\n"


def test_exp_push_and_pull_move_refs_and_outputs_both_ways_with_dvc(project, tmp_path):
    build(project)
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.commit("data remote")
    project.ok("push")
    project.run("git", "init", "-q", "--bare", str(tmp_path / "origin.git"))
    project.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    project.git("push", "-q", "origin", "main")
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    pushed = project.ok("exp", "push", "origin", "lr3")
    assert "Pushed experiments 'lr3'" in pushed.out and "pushed" in pushed.out
    _same(project, "exp", "list", "origin", any_order=True)
    clone = tmp_path / "clone"
    project.run("git", "clone", "-q", "-b", "main", str(tmp_path / "origin.git"), str(clone))
    other = type(project)(clone, project._capsys)
    pulled = other.ok("exp", "pull", "origin", "lr3")
    assert "Pulled experiments 'lr3'" in pulled.out
    # The cached metric of the experiment came with it: both tools read it from the cache.
    shown = json.loads(_same(other, "exp", "show", "--json"))
    lr3 = shown[1]["experiments"][0]["revs"][0]["data"]
    assert lr3["metrics"]["eval.json"] == {"data": {"f1": 0.9}}
    # dvc pushes an experiment of its own from the clone; llmpipe pulls it back.
    other.run("dvc", "exp", "run", "-S", "train.lr=0.25", "-n", "from-dvc")
    other.run("dvc", "exp", "push", "origin", "from-dvc")
    project.ok("exp", "pull", "origin", "from-dvc")
    assert "from-dvc" in project.ok("exp", "list", "--name-only").out
    project.ok("exp", "apply", "from-dvc")
    assert json.loads(project.read("eval.json")) == {"f1": 0.75}
    missing = project.cli("exp", "pull", "origin", "nope")
    assert missing.code == 1 and "holds no experiment 'nope'" in missing.err


def test_exp_rename_and_clean_as_dvc(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    project.ok("exp", "run", "-S", "train.lr=0.5", "-n", "lr5")
    ours = project.llmpipe("exp", "rename", "lr3", "mine")
    theirs = project.run("dvc", "exp", "rename", "lr5", "theirs", check=False)
    assert ours.returncode == theirs.returncode == 0
    assert ours.stdout == "Renamed experiments: 'lr3'\n" and theirs.stdout == (
        "Renamed experiments: 'lr5'\n"
    )
    _same(project, "exp", "list", any_order=True)  # each sees the other's rename
    for args in (("mine", "theirs"), ("nope", "x"), ("mine", "a/b"), ("mine",)):
        ours = project.llmpipe("exp", "rename", *args)
        theirs = project.run("dvc", "exp", "rename", *args, check=False)
        assert ours.returncode != 0 and theirs.returncode != 0, args
        assert ours.stderr.startswith("ERROR: ") and ours.stderr.count("\n") == 1, ours.stderr
    for args in (("mine", "mine"), ("-f", "mine", "theirs")):
        ours = project.llmpipe("exp", "rename", *args)
        assert ours.returncode == 0, ours.stderr
    assert project.run("dvc", "exp", "list", "--name-only").stdout == "theirs\n"
    assert project.llmpipe("exp", "clean").stdout.endswith("Done!\n")
    assert project.run("dvc", "exp", "clean").stdout.endswith("Done!\n")


def test_exp_rename_on_a_git_remote_leaves_the_refs_dvc_leaves(project, tmp_path):
    """`-g`: the name is looked up on the remote, the local ref renamed, the remote's kept."""
    build(project)
    project.run("git", "init", "-q", "--bare", str(tmp_path / "origin.git"))
    project.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    project.ok("exp", "run", "-S", "train.lr=0.5", "-n", "lr5")
    project.ok("exp", "push", "origin", "lr3", "lr5", "--no-cache")
    project.ok("exp", "run", "-S", "train.lr=0.7", "-n", "local-only")
    remote_before = project.git("ls-remote", "origin", "refs/exps/*")
    local_before = _exp_refs(project)
    ours = project.llmpipe("exp", "rename", "-g", "origin", "lr3", "mine")
    theirs = project.run("dvc", "exp", "rename", "-g", "origin", "lr5", "theirs", check=False)
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
    assert (ours.stdout, theirs.stdout) == ("Renamed experiments: 'lr3'\n",
                                           "Renamed experiments: 'lr5'\n")  # fmt: skip
    assert project.git("ls-remote", "origin", "refs/exps/*") == remote_before
    renamed = {ref.replace("/lr3", "/mine").replace("/lr5", "/theirs"): sha
               for ref, sha in local_before.items()}  # fmt: skip
    assert _exp_refs(project) == renamed
    # Not on the remote; only on the remote (dvc crashes there); an unknown remote.
    for args in (("local-only", "x"), ("lr3", "x"), ("mine", "x")):
        ours = project.llmpipe("exp", "rename", "-g", "origin", *args)
        theirs = project.run("dvc", "exp", "rename", "-g", "origin", *args, check=False)
        assert ours.returncode != 0 and theirs.returncode != 0, args
        assert ours.stderr.startswith("ERROR: ") and ours.stderr.count("\n") == 1, ours.stderr
    assert "llmpipe exp pull origin lr3" in project.llmpipe(
        "exp", "rename", "-g", "origin", "lr3", "x").stderr  # fmt: skip
    unknown = project.llmpipe("exp", "rename", "-g", "nowhere", "mine", "x")
    assert unknown.returncode == 1 and "nowhere" in unknown.stderr
    assert _exp_refs(project) == renamed


def _exp_refs(project) -> dict[str, str]:
    lines = project.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/exps")
    return dict(line.split() for line in lines.splitlines() if "/exec/" not in line)


def _edit_and_run_by_hand(project) -> None:
    """New params and outputs in the workspace, run outside any tool: nothing committed."""
    project.write("params.yaml", project.read("params.yaml").replace("lr: 0.1", "lr: 0.3"))
    project.run(sys.executable, "train.py")
    project.write("notes.txt", "not tracked\n")


def test_exp_save_commits_outputs_first_and_saves_what_dvc_saves(project, tmp_path, capsys):
    build(project)
    other = new_project(tmp_path / "other", capsys)
    build(other)
    for proj in (project, other):
        _edit_and_run_by_hand(proj)
    ours = project.llmpipe("exp", "save", "-n", "by-hand", "--json")
    theirs = other.run("dvc", "exp", "save", "-n", "by-hand", "--json", check=False)
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
    # dvc prints "Updating lock file 'dvc.lock'" before its JSON.
    commits = [json.loads(r.stdout.splitlines()[-1])["ref"] for r in (ours, theirs)]
    trees = [p.git("ls-tree", "-r", c) for p, c in zip((project, other), commits, strict=True)]
    # dvc's commit also holds its own pickled arguments (.dvc/tmp/repro.dat), which
    # its .gitignore excludes everywhere else: llmpipe leaves that file out.
    trees[1] = "".join(line for line in trees[1].splitlines(True) if "\t.dvc/tmp/" not in line)
    assert trees[0] == trees[1]  # the same files, byte for byte (dvc.lock included)
    assert project.read("dvc.lock") == other.read("dvc.lock")  # committed in the workspace
    assert "notes.txt" in ours.stderr and "will not be included" in ours.stderr
    assert project.llmpipe("status").stdout.startswith("Data and pipelines are up to date")
    assert other.run("dvc", "status").stdout.startswith("Data and pipelines are up to date")
    # The same name again: the same files are kept; other files need -f; -m sets the message.
    assert project.llmpipe("exp", "save", "-n", "by-hand").returncode == 0
    project.write("params.yaml", project.read("params.yaml").replace("seed: 7", "seed: 8"))
    other.write("params.yaml", other.read("params.yaml").replace("seed: 7", "seed: 8"))
    for args in (("-n", "by-hand"), ("-n", "by-hand", "-f", "-m", "my words")):
        ours = project.llmpipe("exp", "save", *args)
        theirs = other.run("dvc", "exp", "save", *args, check=False)
        assert (ours.returncode == 0) == (theirs.returncode == 0), (args, ours.stderr)
    for proj in (project, other):
        (commit,) = [
            c for r, c in (line.split() for line in proj.git(
                "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps").splitlines())
            if r.endswith("/by-hand")
        ]  # fmt: skip
        assert proj.git("log", "-1", "--format=%s", commit).strip() == "my words"


def _nested(project) -> None:
    """A root stage run and committed, a stage in sub/ never run, a `.dvc` file deeper."""
    project.write("dvc.yaml", "stages:\n  top:\n    cmd: echo top > top.txt\n    outs: [top.txt]\n")
    project.write(
        "sub/dvc.yaml", "stages:\n  inner:\n    cmd: echo in > in.txt\n    outs: [in.txt]\n"
    )
    project.write("sub/deep/data.txt", "data\n")
    project.ok("repro")
    project.ok("add", "sub/deep/data.txt")
    project.commit("nested")
    for path in ("top.txt", "sub/in.txt", "sub/deep/data.txt"):
        project.write(path, "edited by hand\n")


def test_exp_save_recursive_commits_the_stages_inside_a_directory_as_dvc(project, tmp_path,
                                                                         capsys):  # fmt: skip
    other = new_project(tmp_path / "other", capsys)
    for proj in (project, other):
        _nested(proj)
    plain = (project.llmpipe("exp", "save", "sub"), other.run("dvc", "exp", "save", "sub",
                                                               check=False))  # fmt: skip
    assert plain[0].returncode != 0 and plain[1].returncode != 0
    ours = project.llmpipe("exp", "save", "-R", "sub", "-n", "rec", "--json")
    theirs = other.run("dvc", "exp", "save", "-R", "sub", "-n", "rec", "--json", check=False)
    assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
    commits = [json.loads(r.stdout.splitlines()[-1])["ref"] for r in (ours, theirs)]
    trees = [p.git("ls-tree", "-r", c) for p, c in zip((project, other), commits, strict=True)]
    trees[1] = "".join(line for line in trees[1].splitlines(True) if "\t.dvc/tmp/" not in line)
    assert trees[0] == trees[1]  # the new sub/dvc.lock and sub/.gitignore left out by both
    messages = [
        p.git("cat-file", "commit", c).split("\n\n", 1)[1]
        for p, c in zip((project, other), commits, strict=True)
    ]
    assert messages[0] == messages[1]
    for path in ("dvc.lock", "sub/dvc.lock", "sub/deep/data.txt.dvc", "sub/.gitignore"):
        assert project.read(path) == other.read(path), path
    assert "sub/.gitignore, sub/dvc.lock" in ours.stderr  # dvc's warning, the same files


def _silent(project, *args: str) -> None:
    ours, theirs = project.llmpipe(*args), project.run("dvc", *args, check=False)
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout) == (0, ""), args


def test_exp_diff_list_show_branch_remove_flags_print_what_dvc_prints(project):
    """`exp diff` tables (a blank line between them, an empty Markdown one kept, -q still
    prints tables but no JSON; params unrounded), `-n` over first parents, `-q`, `show -f`."""
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    _same(project, "exp", "diff", "HEAD", "HEAD")  # no change: the blank line alone
    _same(project, "exp", "diff", "HEAD", "HEAD", "--md")  # two empty tables
    for revs in ((), ("main", "lr3")):
        for flags in ((), ("--md",), ("--no-path",), ("-q",), ("--all", "--md")):
            # dvc orders the files of a table as a set of their names does (random).
            _same(project, "exp", "diff", *revs, *flags, any_order=True)
        _silent(project, "exp", "diff", *revs, "-q", "--json")
    project.git("checkout", "-q", "-f", "exp-a")
    project.ok("checkout", "-f")
    project.ok("exp", "run", "-S", "train.lr=0.25", "-n", "on-a")
    for flags in (("-n", "2"), ("-n", "-1"), ("--rev", "exp-a", "-n", "2"), ("-q",)):
        _same(project, "exp", "list", *flags, any_order=True)
    assert "lr3" in project.llmpipe("exp", "list", "-n", "2", "--name-only").stdout
    _silent(project, "exp", "show", "-q")
    _silent(project, "exp", "show", "-q", "--json")
    for flags in (("-f", "--json"), ("-f", "--csv")):
        _same(project, "exp", "show", *flags)
    ours = project.llmpipe("exp", "branch", "-q", "on-a")
    theirs = project.run("dvc", "exp", "branch", "-q", "on-a", "by-dvc", check=False)
    assert (ours.returncode, ours.stdout) == (theirs.returncode, theirs.stdout) == (0, "")
    ours = project.llmpipe("exp", "remove", "-q", "--rev", "exp-a", "-n", "2")
    assert (ours.returncode, ours.stdout) == (0, "")
    assert project.git("for-each-ref", "refs/exps").count("\n") == 0


def test_exp_remove_keep_removes_every_other_experiment_as_dvc(project, tmp_path):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    project.ok("exp", "run", "-S", "train.lr=0.5", "-n", "lr5")
    project.git("checkout", "-q", "-f", "exp-a")
    project.ok("checkout", "-f")
    project.ok("exp", "run", "-S", "train.lr=0.25", "-n", "on-a")
    copy = tmp_path / "copy"
    shutil.copytree(project.path, copy, symlinks=True)
    for args in (("--keep", "lr3", "on-a"), ("--keep", "-A")):
        ours = project.llmpipe("exp", "remove", *args)
        theirs = subprocess.run(["dvc", "exp", "remove", *args], cwd=copy, capture_output=True,
                                text=True, env=llmpipe_env())  # fmt: skip
        assert ours.returncode == theirs.returncode == 0, (ours.stderr, theirs.stderr)
        # dvc names them in a set's order (random): compare the names, then the refs left.
        assert sorted(ours.stdout.split()) == sorted(theirs.stdout.split()), args
        refs = [_exp_refs(p) for p in (project, type(project)(copy, None))]
        assert refs[0] == refs[1], args
    assert sorted(r.rsplit("/", 1)[1] for r in _exp_refs(project)) == ["lr3", "on-a"]


def test_exp_show_drop_and_keep_choose_the_columns_dvc_chooses(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    for flags in (("--drop", "train"), ("--drop", "loss", "--keep", "loss.val"),
                  ("--only-changed", "--keep", "seed"), ("--drop", "^[a-z]"),
                  ("--keep", ".*", "--only-changed"), ("--keep", "rev|Exec")):  # fmt: skip
        _same(project, "exp", "show", "--csv", *flags)
    for flags in (("--drop", "train"), ("--keep", ".*", "--only-changed")):
        _same(project, "exp", "show", "--md", *flags)  # the table: columns merged as dvc's
    _same(project, "exp", "show", "--json", "-a", "--sha")  # baselines by commit, unnamed
    _same(project, "exp", "show", "--csv", "--sha")
    as_bytes = [subprocess.run(cmd, cwd=project.path, capture_output=True, env=llmpipe_env()).stdout
                for cmd in ([sys.executable, "-m", "llmpipe", "exp", "show", "--csv"],
                            ["dvc", "exp", "show", "--csv"])]  # fmt: skip
    assert as_bytes[0] == as_bytes[1] and b"\r\n" in as_bytes[0]  # csv's line ends, as dvc's
    bad = project.llmpipe("exp", "show", "--drop", "(")
    assert bad.returncode == 2 and "not a regular expression" in bad.stderr


def test_exp_push_run_cache_sends_the_run_cache_dvc_sends(project, tmp_path):
    build(project)
    project.ok("remote", "add", "-d", "store", str(tmp_path / "store"))
    project.commit("data remote")
    project.run("git", "init", "-q", "--bare", str(tmp_path / "origin.git"))
    project.git("remote", "add", "origin", str(tmp_path / "origin.git"))
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    copy = tmp_path / "copy"
    shutil.copytree(project.path, copy, symlinks=True)
    env = llmpipe_env()
    subprocess.run(["dvc", "remote", "modify", "--local", "store", "url", str(tmp_path / "theirs")],
                   cwd=copy, check=True, env=env)  # fmt: skip
    project.ok("exp", "push", "origin", "lr3", "--no-run-cache")
    assert not (tmp_path / "store" / "runs").exists()
    project.ok("exp", "push", "origin", "lr3", "--run-cache", "-f")
    subprocess.run(["dvc", "exp", "push", "origin", "lr3", "--run-cache", "-f"], cwd=copy,
                   check=True, env=env, capture_output=True)  # fmt: skip
    runs = [sorted(str(p.relative_to(root)) for p in (root / "runs").rglob("*") if p.is_file())
            for root in (tmp_path / "store", tmp_path / "theirs")]  # fmt: skip
    assert runs[0] and runs[0] == runs[1]
