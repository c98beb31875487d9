"""`llmpipe lineage PATH` traces the run that produced the content PATH has, on real branches."""

from __future__ import annotations

import json

DVC_YAML = """\
stages:
  train:
    cmd: python train.py
    deps: [train.py]
    params: [lr]
    outs: [model.json]
"""
TRAIN = (
    "import yaml, json\njson.dump(yaml.safe_load(open('params.yaml')), open('model.json', 'w'))\n"
)


def _trace(project, *args: str) -> dict:  # noqa: ANN001
    return json.loads(project.ok("lineage", "model.json", "--json", *args).out)


def _two_branches(project) -> None:  # noqa: ANN001
    """main trains with lr 0.1; branch `other` then trains with lr 0.2 (the latest run)."""
    project.write("dvc.yaml", DVC_YAML)
    project.write("train.py", TRAIN)
    project.write("params.yaml", "lr: 0.1\n")
    project.ok("repro")
    project.commit("lr 0.1")
    project.git("checkout", "-q", "-b", "other")
    project.write("params.yaml", "lr: 0.2\n")
    project.ok("repro")
    project.commit("lr 0.2")


def test_lineage_follows_the_content_in_the_workspace_not_the_latest_run(project) -> None:  # noqa: ANN001
    _two_branches(project)
    assert _trace(project)["runs"][-1]["params"] == {"params.yaml": {"lr": 0.2}}
    project.git("checkout", "-q", "main")
    project.ok("checkout")
    traced = _trace(project)
    assert traced["runs"][-1]["params"] == {"params.yaml": {"lr": 0.1}}
    assert traced["source"] == "workspace"
    text = project.ok("lineage", "model.json").out
    assert "lr=0.1" in text and "lr=0.2" not in text


def test_lineage_at_a_revision_and_by_hash(project) -> None:  # noqa: ANN001
    _two_branches(project)
    at_main = _trace(project, "--rev", "main")
    assert at_main["runs"][-1]["params"] == {"params.yaml": {"lr": 0.1}}
    assert at_main["source"].startswith("revision main (")
    by_hash = _trace(project, "--hash", at_main["hash"][:10])
    assert by_hash["hash"] == at_main["hash"]
    assert by_hash["runs"][-1]["run_id"] == at_main["runs"][-1]["run_id"]
    unknown = project.cli("lineage", "model.json", "--rev", "no-such-branch")
    assert unknown.code == 1 and "unknown revision 'no-such-branch'" in unknown.err


def test_content_no_run_produced_is_an_error_not_another_run(project) -> None:  # noqa: ANN001
    _two_branches(project)
    (project.path / "model.json").unlink()
    (project.path / "model.json").write_text('{"lr": 0.3}')
    result = project.cli("lineage", "model.json")
    assert result.code == 1
    assert "no recorded run produced 'model.json' with content" in result.err
    assert "2 recorded run(s) wrote other content" in result.err
    (project.path / "model.json").unlink()
    missing = project.cli("lineage", "model.json")
    assert missing.code == 1 and "not in the workspace" in missing.err
