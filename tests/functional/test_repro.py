"""`llmpipe repro` on real temporary git repositories with real stage commands."""

from __future__ import annotations

import json

import pytest

PIPELINE = """\
stages:
  prepare:
    cmd: python3 -c "import sys; open('clean.txt','w').write(open('raw.txt').read().upper())"
    deps: [raw.txt]
    outs: [clean.txt]
  count:
    cmd: python3 -c "open('count.txt','w').write(str(len(open('clean.txt').read())))"
    deps: [clean.txt]
    params: [count.scale]
    outs: [count.txt]
  report:
    cmd: >-
      python3 -c "import json; json.dump({'n': int(open('count.txt').read())}, open('metrics.json','w'))"
    deps: [count.txt]
    metrics:
    - metrics.json:
        cache: false
"""


@pytest.fixture
def pipeline(project):
    project.write("raw.txt", "hello world\n")
    project.write("params.yaml", "count:\n  scale: 1\nunused: 5\n")
    project.write("dvc.yaml", PIPELINE)
    return project


def ran_stages(result) -> list[str]:
    return [
        line.split("'")[1]
        for line in result.out.splitlines()
        if line.endswith("s") and " done in " in line
    ]


def test_first_repro_runs_every_stage_and_writes_the_lock(pipeline):
    result = pipeline.ok("repro")
    assert ran_stages(result) == ["prepare", "count", "report"]
    assert pipeline.read("clean.txt") == "HELLO WORLD\n"
    assert json.loads(pipeline.read("metrics.json")) == {"n": 12}
    lock = pipeline.read("dvc.lock")
    assert lock.startswith("schema: '2.0'\nstages:\n  prepare:\n")
    assert "count.scale: 1" in lock and "unused" not in lock


def test_second_repro_runs_nothing(pipeline):
    pipeline.ok("repro")
    result = pipeline.ok("repro")
    assert ran_stages(result) == []
    assert "up to date" in result.out


def test_changed_dep_reruns_its_stage_and_downstream(pipeline):
    pipeline.ok("repro")
    pipeline.write("raw.txt", "hello there world\n")
    assert ran_stages(pipeline.ok("repro")) == ["prepare", "count", "report"]


def test_early_cutoff_skips_downstream_when_output_is_identical(pipeline):
    pipeline.ok("repro")
    pipeline.write("raw.txt", "HELLO WORLD\n")  # same upper-cased output
    assert ran_stages(pipeline.ok("repro")) == ["prepare"]


def test_only_tracked_params_count(pipeline):
    pipeline.ok("repro")
    pipeline.write("params.yaml", "count:\n  scale: 1\nunused: 6\n")
    assert ran_stages(pipeline.ok("repro")) == []
    pipeline.write("params.yaml", "count:\n  scale: 2\nunused: 6\n")
    status = pipeline.ok("status", "--json")
    assert json.loads(status.out) == {
        "count": [{"changed deps": {"params.yaml": {"count.scale": "modified"}}}]
    }
    assert ran_stages(pipeline.ok("repro")) == ["count"]


def test_command_change_reruns_stage(pipeline):
    pipeline.ok("repro")
    pipeline.write("dvc.yaml", PIPELINE.replace("str(len(", "str(0+len("))
    assert "command changed" in pipeline.ok("status").out
    assert ran_stages(pipeline.ok("repro")) == ["count"]


def test_missing_output_is_restored_from_run_cache(pipeline):
    pipeline.ok("repro")
    (pipeline.path / "clean.txt").unlink()
    status = pipeline.ok("status")
    assert "out 'clean.txt' is missing" in status.out
    result = pipeline.ok("repro")
    assert "restored from run-cache" in result.out
    assert pipeline.read("clean.txt") == "HELLO WORLD\n"


def test_run_cache_restores_a_previous_param_value(pipeline):
    pipeline.ok("repro")
    pipeline.write("params.yaml", "count:\n  scale: 2\nunused: 5\n")
    pipeline.ok("repro")
    pipeline.write("params.yaml", "count:\n  scale: 1\nunused: 5\n")
    result = pipeline.ok("repro")
    assert "Stage 'count' restored from run-cache" in result.out
    result = pipeline.ok("repro", "--no-run-cache", "-f", "count", "-s")
    assert ran_stages(result) == ["count"]


def test_dry_run_changes_nothing(pipeline):
    result = pipeline.ok("repro", "--dry")
    assert "Would run stage 'prepare'" in result.out
    assert "Would run stage 'report'" in result.out
    assert not (pipeline.path / "dvc.lock").exists()
    assert not (pipeline.path / "clean.txt").exists()


def test_single_item_and_downstream_selection(pipeline):
    pipeline.ok("repro")
    assert ran_stages(pipeline.ok("repro", "-f", "-s", "count")) == ["count"]
    assert ran_stages(pipeline.ok("repro", "-f", "--downstream", "count")) == ["count", "report"]
    assert ran_stages(pipeline.ok("repro", "-f", "count")) == ["prepare", "count"]


def test_force_downstream(pipeline):
    pipeline.ok("repro")
    pipeline.write("raw.txt", "HELLO WORLD\n")
    result = pipeline.ok("repro", "--force-downstream")
    assert ran_stages(result) == ["prepare", "count", "report"]


def test_frozen_stage_never_runs(pipeline):
    pipeline.write("dvc.yaml", PIPELINE.replace("  count:\n", "  count:\n    frozen: true\n"))
    result = pipeline.cli("repro")
    assert "count" not in ran_stages(result)


def test_always_changed_stage_runs_every_time(pipeline):
    pipeline.write(
        "dvc.yaml", PIPELINE.replace("  report:\n", "  report:\n    always_changed: true\n")
    )
    pipeline.ok("repro")
    assert ran_stages(pipeline.ok("repro")) == ["report"]


def test_parallel_jobs_run_independent_stages(project):
    project.write("params.yaml", "n: [1, 2, 3, 4]\n")
    project.write(
        "dvc.yaml",
        """\
        stages:
          gen:
            foreach: ${n}
            do:
              cmd: python3 -c "import time; time.sleep(0.3); open('o${item}.txt','w').write('${item}')"
              outs:
                - o${item}.txt
          join:
            cmd: cat o1.txt o2.txt o3.txt o4.txt > all.txt
            deps: [o1.txt, o2.txt, o3.txt, o4.txt]
            outs: [all.txt]
        """,
    )
    result = project.ok("repro", "-j", "4")
    assert sorted(ran_stages(result)) == ["gen@1", "gen@2", "gen@3", "gen@4", "join"]
    assert ran_stages(result)[-1] == "join"
    assert project.read("all.txt") == "1234"


def test_outputs_are_gitignored_and_cached(pipeline):
    pipeline.ok("repro")
    assert "/clean.txt" in pipeline.read(".gitignore")
    assert "/metrics.json" not in pipeline.read(".gitignore")
    objects = list((pipeline.path / ".dvc/cache/files/md5").rglob("*"))
    assert any(p.is_file() for p in objects)


def test_lineage_is_recorded_for_each_run(pipeline):
    pipeline.ok("repro")
    log = json.loads(pipeline.ok("log", "--json").out)
    assert {entry["stage"] for entry in log} == {"prepare", "count", "report"}
    chain = json.loads(pipeline.ok("lineage", "metrics.json", "--json").out)
    text = json.dumps(chain)
    assert "raw.txt" in text and "prepare" in text and "count" in text


def test_subfolder_dvcyaml_has_its_own_lock_and_targets(project):
    project.write("raw.txt", "r\n")
    project.write(
        "dvc.yaml",
        "stages:\n  top:\n    cmd: cp raw.txt top.txt\n    deps: [raw.txt]\n    outs: [top.txt]\n",
    )
    project.write("sub/params.yaml", "k: 7\n")
    project.write(
        "sub/dvc.yaml",
        """\
        stages:
          inner:
            wdir: ..
            cmd: cat top.txt > sub/inner.txt && echo ${k} >> sub/inner.txt
            deps: [top.txt]
            outs: [sub/inner.txt]
        """,
    )
    result = project.ok("repro", "sub/dvc.yaml:inner")
    assert ran_stages(result) == ["top", "sub/dvc.yaml:inner"]
    assert project.read("sub/inner.txt") == "r\n7\n"
    assert "inner:" in project.read("sub/dvc.lock")
    assert "inner" not in project.read("dvc.lock")
    dag = json.loads(project.ok("dag", "--json").out)
    assert {"from": "top", "to": "sub/dvc.yaml:inner"} in dag["edges"]
    assert ran_stages(project.ok("repro", "-f", "sub/dvc.yaml")) == ["top", "sub/dvc.yaml:inner"]


def test_dag_formats(pipeline):
    assert "prepare -> count" not in pipeline.ok("dag").out
    assert '"prepare" -> "count";' in pipeline.ok("dag", "--dot").out
    assert "flowchart TD" in pipeline.ok("dag", "--mermaid").out
    assert "| prepare |" in pipeline.ok("dag", "report").out.splitlines()[1]


def test_python_api_never_prints(pipeline, capsys, monkeypatch):
    from llmpipe import Repo

    capsys.readouterr()
    with Repo(str(pipeline.path)) as repo:
        result = repo.reproduce(jobs=2)
        assert [o.kind for o in result.outcomes] == ["ran", "ran", "ran"]
        assert all(not entry.reasons for entry in repo.status())
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""


def test_blake3_is_an_opt_in_hash(project):
    pytest.importorskip("blake3")
    (project.path / ".llmpipe" / "config").write_text("[llmpipe]\nhash = blake3\n")
    project.write("in.txt", "x\n")
    project.write(
        "dvc.yaml",
        "stages:\n  a:\n    cmd: cp in.txt o.txt\n    deps: [in.txt]\n    outs: [o.txt]\n",
    )
    project.ok("repro")
    lock = project.read("dvc.lock")
    assert "hash: blake3" in lock and "md5" not in lock
    assert list((project.path / ".dvc/cache/files/blake3").rglob("*"))
    assert project.ok("status").out.strip() == "Data and pipelines are up to date."
