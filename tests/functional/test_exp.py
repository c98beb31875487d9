"""`llmpipe exp`: experiments as git refs in dvc's layout, run in the workspace."""

from __future__ import annotations

import json

from llmpipe import scm
from tests.compare.experiments import build


def _exp_refs(project) -> dict[str, str]:
    lines = project.git("for-each-ref", "--format=%(refname) %(objectname)", "refs/exps")
    return dict(line.split() for line in lines.splitlines())


def test_exp_run_commits_the_results_on_head_under_refs_exps(project):
    build(project)
    head = project.git("rev-parse", "HEAD").strip()
    result = project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    assert "lr3" in result.out
    refs = _exp_refs(project)
    ref = f"refs/exps/{head[:2]}/{head[2:]}/lr3"
    assert list(refs) == [ref]
    commit = refs[ref]
    assert project.git("rev-parse", f"{commit}^").strip() == head
    assert project.git("log", "-1", "--format=%s", commit).startswith("dvc: commit experiment ")
    changed = set(project.git("diff", "--name-only", head, commit).split())
    assert changed == {"dvc.lock", "params.yaml", "metrics.json", "loss.csv"}
    # HEAD, the branch and the index stay; the results stay in the workspace.
    assert project.git("rev-parse", "HEAD").strip() == head
    assert project.git("symbolic-ref", "HEAD").strip() == "refs/heads/main"
    assert project.git("diff", "--cached", "--name-only") == ""
    assert "lr: 0.3" in project.read("params.yaml")
    assert json.loads(project.git("show", f"{commit}:metrics.json"))["acc"] == 0.6


def test_exp_run_names_experiments_and_refuses_to_overwrite_other_results(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3")
    (name,) = [ref.rsplit("/", 1)[1] for ref in _exp_refs(project)]
    assert len(name.split("-")) == 2  # adjective-noun, as dvc names them
    again = project.ok("exp", "run", "-n", name)  # same results: the experiment is kept
    assert "already holds" in again.out
    refused = project.cli("exp", "run", "-S", "train.lr=0.5", "-n", name)
    assert refused.code == 1 and "already exists" in refused.err
    project.ok("exp", "run", "-S", "train.lr=0.5", "-n", name, "-f")
    assert len(_exp_refs(project)) == 1
    bad = project.cli("exp", "run", "-n", "a/b")
    assert bad.code == 1 and "invalid experiment name" in bad.err


def test_exp_run_needs_a_commit_to_start_from(project):
    project.write("dvc.yaml", "stages:\n  s:\n    cmd: echo hi\n")
    result = project.cli("exp", "run")
    assert result.code == 1 and "commit the project first" in result.err
    assert _exp_refs(project) == {}


def test_exp_save_keeps_the_workspace_without_running(project):
    build(project)
    project.write("notes.txt", "untracked notes\n")
    project.ok("exp", "save", "-n", "as-is", "-I", "notes.txt")
    (commit,) = _exp_refs(project).values()
    assert project.git("show", f"{commit}:notes.txt") == "untracked notes\n"
    assert project.git("status", "--short", "notes.txt").startswith("??")


def test_exp_show_lists_workspace_baseline_and_experiments(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    scm.clear_cache()
    shown = json.loads(project.ok("exp", "show", "--json").out)
    assert [state["rev"] for state in shown][0] == "workspace"
    baseline = shown[1]
    assert baseline["name"] == "main"
    (exp_range,) = baseline["experiments"]
    assert exp_range["name"] == "lr3"
    data = exp_range["revs"][0]["data"]
    assert data["params"]["params.yaml"]["data"]["train"]["lr"] == 0.3
    assert data["metrics"]["eval.json"]["data"] == {"f1": 0.9}  # a cached metric, from the cache
    table = project.ok("exp", "show", "--only-changed").out
    assert "└── " in table and "[lr3]" in table and "seed" not in table
    sorted_csv = project.ok("exp", "show", "--csv", "--sort-by", "acc").out
    assert sorted_csv.splitlines()[0].startswith("Experiment,rev,typ,Created,parent,")
    unknown = project.cli("exp", "show", "--sort-by", "nope")
    assert unknown.code == 1 and "unknown sort column 'nope'" in unknown.err


def test_exp_apply_puts_an_experiments_files_and_outputs_in_the_workspace(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    project.ok("exp", "run", "-S", "train.lr=0.5", "-n", "lr5")
    head = project.git("rev-parse", "HEAD").strip()
    project.ok("exp", "apply", "lr3")
    assert "lr: 0.3" in project.read("params.yaml")
    assert json.loads(project.read("eval.json")) == {"f1": 0.9}  # a cached output, checked out
    assert project.git("rev-parse", "HEAD").strip() == head
    assert project.git("diff", "--cached", "--name-only") == ""
    assert "up to date" in project.ok("status").out
    missing = project.cli("exp", "apply", "nope")
    assert missing.code == 1 and "no experiment named 'nope'" in missing.err
    deprecated = project.ok("exp", "apply", "--no-force", "lr5")  # dvc's flag: warns, applies
    assert "deprecated" in deprecated.err and "lr: 0.5" in project.read("params.yaml")


def test_exp_branch_list_remove_and_diff(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    project.ok("exp", "run", "-S", "train.lr=0.5", "-n", "lr5")
    commit = _exp_refs(project)[next(r for r in _exp_refs(project) if r.endswith("/lr3"))]
    listed = project.ok("exp", "list").out
    assert listed == f"main:\n\t{_short(project, 'lr3')} [lr3]\n\t{_short(project, 'lr5')} [lr5]\n"
    assert project.ok("exp", "list", "--name-only").out == "lr3\nlr5\n"
    project.ok("exp", "branch", "lr3")
    assert project.git("rev-parse", "lr3-branch").strip() == commit
    taken = project.cli("exp", "branch", "lr3")
    assert taken.code == 1 and "already exists" in taken.err
    changed = json.loads(project.ok("exp", "diff", "main", "lr5", "--json").out)
    assert changed["params"]["params.yaml"]["train.lr"] == {"old": 0.1, "new": 0.5, "diff": 0.4}
    assert changed["metrics"]["metrics.json"]["acc"]["new"] == 1.0
    unknown = project.cli("exp", "diff", "nope")
    assert unknown.code == 1 and "neither a git revision nor an experiment" in unknown.err
    assert "Removed experiments: 'lr5'" in project.ok("exp", "remove", "lr5").out
    assert project.ok("exp", "list", "--name-only").out == "lr3\n"
    project.ok("exp", "remove", "-A")
    assert _exp_refs(project) == {}
    assert project.cli("exp", "remove").code == 2


def _short(project, name: str) -> str:
    ref = next(r for r in _exp_refs(project) if r.endswith("/" + name))
    return _exp_refs(project)[ref][:7]


def test_queued_experiments_run_later_in_parallel_copies(project):
    build(project)
    before = project.read("params.yaml")
    project.ok("exp", "run", "--queue", "-S", "train.lr=0.3", "-n", "q3")
    project.write("notes.txt", "queued with the workspace as it was\n")
    project.git("add", "notes.txt")
    project.ok("exp", "run", "--queue", "-S", "train.lr=0.5", "-n", "q5")
    assert _exp_refs(project) == {}  # nothing ran yet
    result = project.ok("exp", "run", "--run-all", "-j", "2")
    assert "Ran experiment 'q3'" in result.out and "Ran experiment 'q5'" in result.out
    refs = _exp_refs(project)
    head = project.git("rev-parse", "HEAD").strip()
    assert sorted(r.rsplit("/", 1)[1] for r in refs) == ["q3", "q5"]
    q5 = next(sha for ref, sha in refs.items() if ref.endswith("/q5"))
    assert project.git("rev-parse", f"{q5}^").strip() == head
    assert project.git("show", f"{q5}:notes.txt") == "queued with the workspace as it was\n"
    assert json.loads(project.git("show", f"{q5}:metrics.json"))["acc"] == 1.0
    assert project.read("params.yaml") == before  # the workspace was not touched
    assert "No queued experiments" in project.ok("exp", "run", "--run-all").out
    assert project.git("for-each-ref", "refs/llmpipe") == ""


def test_all_commits_leave_experiment_commits_out_as_dvc_does(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    (commit,) = _exp_refs(project).values()
    scm.clear_cache()
    shown = json.loads(project.ok("metrics", "show", "-A", "--json").out)
    assert commit not in shown and project.git("rev-parse", "HEAD").strip() in shown


def test_exp_save_sees_a_file_changed_in_the_same_timestamp_tick_as_its_index_entry(project):
    """Racy git: an entry as new as the index file is re-read, whatever its stat data says.

    The file is rewritten in place (same inode and size) and given back the mtime
    git recorded, with the index file stamped at that same time (as when both are
    written within one timestamp tick); ctime is not trusted (core.trustctime), as
    on filesystems that lack it. `git status` sees the change; so must `exp save`.
    """
    import os

    project.git("config", "core.trustctime", "false")
    project.write("params.yaml", "lr: 1\n")
    project.commit("params")
    index = project.path / ".git" / "index"
    params = project.path / "params.yaml"
    recorded = os.stat(params)
    params.write_text("lr: 2\n")
    for path in (params, index):
        os.utime(path, ns=(recorded.st_atime_ns, recorded.st_mtime_ns))
    project.ok("exp", "save", "-n", "racy")
    (commit,) = _exp_refs(project).values()
    assert project.git("show", f"{commit}:params.yaml") == "lr: 2\n"


def test_exp_rename_moves_the_ref_on_its_baseline(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    project.ok("exp", "run", "-S", "train.lr=0.5", "-n", "lr5")
    before = _exp_refs(project)
    assert project.ok("exp", "rename", "lr3", "best").out == "Renamed experiments: 'lr3'\n"
    after = _exp_refs(project)
    assert sorted(r.rsplit("/", 1)[1] for r in after) == ["best", "lr5"]
    old = next(r for r in before if r.endswith("/lr3"))
    assert after[old.rsplit("/", 1)[0] + "/best"] == before[old]
    taken = project.cli("exp", "rename", "best", "lr5")
    assert taken.code == 1 and "already exists" in taken.err and len(_exp_refs(project)) == 2
    project.ok("exp", "rename", "-f", "best", "lr5")
    assert [r.rsplit("/", 1)[1] for r in _exp_refs(project)] == ["lr5"]
    assert project.ok("exp", "rename", "lr5", "lr5").out == "No experiments to rename.\n"
    for args, message in ((("nope", "x"), "no experiment named 'nope'"),
                          (("lr5", "a/b"), "invalid experiment name"),
                          (("lr5",), "new experiment name are required")):  # fmt: skip
        bad = project.cli("exp", "rename", *args)
        assert bad.code == 1 and message in bad.err and bad.err.count("\n") == 1, bad.err


def test_exp_clean_removes_copies_of_interrupted_runs_and_keeps_the_queue(project):
    import os

    from llmpipe.fsutil import locked

    build(project)
    project.ok("exp", "run", "--queue", "-S", "train.lr=0.3", "-n", "q3")
    tmp = project.path / ".dvc" / "tmp"
    (tmp / "exp-runs" / "dead" / "sub").mkdir(parents=True)  # a copy whose run was killed
    (tmp / "exp-runs" / "live").mkdir()
    project.git("update-ref", "refs/llmpipe/exp-queue/gone", "HEAD")  # its entry is gone
    with locked(str(tmp / "exp-runs" / "live.lock")):  # a `--run-all` running now
        assert project.ok("exp", "clean").out == (
            "Cleaning up experiments' temporary files...\nDone!\n"
        )
    assert sorted(os.listdir(tmp / "exp-runs")) == ["live", "live.lock"]
    queue_refs = project.git("for-each-ref", "--format=%(refname)", "refs/llmpipe/exp-queue")
    assert "gone" not in queue_refs and len(queue_refs.split()) == 1
    assert "Ran experiment 'q3'" in project.ok("exp", "run", "--run-all").out


def test_an_unknown_git_remote_is_one_line_naming_it(project):
    project.write("params.yaml", "lr: 1\n")
    project.commit("params")
    project.ok("exp", "save", "-n", "s")
    for verb in ("push", "pull"):
        failed = project.cli("exp", verb, "nope-remote", "s")
        assert failed.code == 1 and failed.err.count("\n") == 1, failed.err
        assert "'nope-remote' does not appear to be a git repository" in failed.err


def _kept(project) -> list[str]:
    folder = project.path / ".llmpipe" / "tmp" / "exps"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def test_exp_show_keeps_each_commits_values_but_never_a_problem(project):
    """A commit read without a problem is kept (`showmemo`) and served the same; one with a
    problem is read, and reported, again; a damaged entry is ignored; the workspace is
    never kept; `--param-deps` is kept apart."""
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    (commit,) = _exp_refs(project).values()
    lock = project.git("show", f"{commit}:dvc.lock")
    md5 = lock.split("path: eval.json")[1].split("md5: ")[1].split()[0]
    cached = project.path / ".dvc" / "cache" / "files" / "md5" / md5[:2] / md5[2:]
    content = cached.read_bytes()
    cached.unlink()
    scm.clear_cache()
    missing = json.loads(project.ok("exp", "show", "--json").out)
    eval_json = missing[1]["experiments"][0]["revs"][0]["data"]["metrics"]["eval.json"]
    assert "error" in eval_json
    assert len(_kept(project)) == 1  # the baseline; not the experiment, not the workspace
    again = json.loads(project.ok("exp", "show", "--json").out)
    assert again == missing  # the problem is reported again, not forgotten
    cached.write_bytes(content)
    fresh = project.ok("exp", "show", "--json").out
    assert len(_kept(project)) == 2
    assert json.loads(fresh)[1]["experiments"][0]["revs"][0]["data"]["metrics"]["eval.json"] == {
        "data": {"f1": 0.9}
    }
    assert project.ok("exp", "show", "--json").out == fresh  # served from the memo
    for name in _kept(project):
        (project.path / ".llmpipe" / "tmp" / "exps" / name).write_bytes(b"damaged")
    assert project.ok("exp", "show", "--json").out == fresh
    deps_only = json.loads(project.ok("exp", "show", "--json", "--param-deps").out)
    assert deps_only[1]["data"]["params"]["params.yaml"]["data"] == {
        "train": {"lr": 0.1, "epochs": 3}
    }
    assert len(_kept(project)) == 4


def test_exp_show_force_reads_every_commit_again_and_refreshes_what_is_kept(project):
    from llmpipe.ops.exp.showmemo import ShowMemo

    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    first = project.ok("exp", "show", "--json").out
    memo = ShowMemo(str(project.path / ".llmpipe"), param_deps=False)
    head = project.git("rev-parse", "HEAD").strip()
    parents, when, (params, metrics, deps, outs) = memo.recall(head)
    params["params.yaml"]["data"]["seed"] = 99  # an entry that passes its checksum
    memo.remember(head, (parents, when, (params, metrics, deps, outs)))
    served = json.loads(project.ok("exp", "show", "--json").out)
    assert served[1]["data"]["params"]["params.yaml"]["data"]["seed"] == 99  # from the memo
    assert project.ok("exp", "show", "-f", "--json").out == first
    assert project.ok("exp", "show", "--json").out == first  # -f kept the fresh values


def test_exp_remove_queue_empties_the_queue_and_can_remove_experiments_too(project):
    build(project)
    project.ok("exp", "run", "-S", "train.lr=0.3", "-n", "lr3")
    project.ok("exp", "run", "--queue", "-S", "train.lr=0.5", "-n", "q5")
    project.ok("exp", "run", "--queue", "-S", "train.lr=0.7", "-n", "q7")
    for flags in (("--queue", "--keep", "lr3"), ("--queue", "-g", "origin")):
        refused = project.cli("exp", "remove", *flags)
        assert refused.code == 2 and "--queue cannot be used" in refused.err
    removed = project.ok("exp", "remove", "--queue", "lr3")
    assert removed.out == "Removed experiments: 'q5', 'q7', 'lr3'\n"
    assert _exp_refs(project) == {} and project.git("for-each-ref", "refs/llmpipe") == ""
    assert "No queued experiments" in project.ok("exp", "run", "--run-all").out
    assert project.ok("exp", "remove", "--queue").out == "No experiments to remove.\n"
