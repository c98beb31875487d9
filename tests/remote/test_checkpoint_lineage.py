"""Checkpoint lineage in the local lineage store: on the machine that ran, and after a fetch.

The real CLI, the training script of `test_checkpoint_stream`, a folder remote and an
encrypted one.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.remote.test_checkpoint_stream import clone, make_origin, run_cli


def local_records(repo: Path) -> list[dict]:
    return json.loads(run_cli(repo, "checkpoints", "list", "train", "--local", "--json").stdout)


def traced(repo: Path, path: str) -> dict:
    return json.loads(run_cli(repo, "lineage", path, "--json").stdout)


@pytest.mark.parametrize("remote_kind", ["folder", "encrypted"], indirect=True)
def test_checkpoint_records_are_in_the_lineage_store_here_and_after_a_fetch(
    tmp_path, remote_kind
) -> None:
    kind, site = remote_kind
    encrypt = kind == "encrypted"
    origin = make_origin(tmp_path)
    a = clone(origin, tmp_path / "a", site, encrypt)
    run_cli(a, "repro", env={"DIE_AFTER": "2", "SYNC": "1"}, check=False)

    # On the machine that ran: every pushed record, with its lineage, without the remote.
    here = local_records(a)
    assert [r["step"] for r in here] == [1, 2]
    assert here[1]["parent"] == here[0]["id"] and here[1]["metrics"] == {"loss": 0.5}
    assert here[0]["run_id"] == here[1]["run_id"] and here[1]["stage"] == "train"
    assert [r["id"] for r in here] == [
        r["id"] for r in json.loads(run_cli(a, "checkpoints", "list", "train", "--json").stdout)
    ]
    # The run was killed: no run record, yet `lineage` answers with the checkpoints.
    answer = traced(a, "ckpts/step-000002")
    assert answer["runs"] == [] and [c["id"] for c in answer["checkpoints"]] == [
        r["id"] for r in here
    ]
    text = run_cli(a, "lineage", "ckpts/step-000002").stdout
    assert f"{here[1]['id']}  step 2" in text and "loss=0.5" in text

    # Another clone knows nothing until it fetches; then it knows the same records.
    b = clone(origin, tmp_path / "b", site, encrypt)
    assert local_records(b) == []
    run_cli(b, "fetch")
    assert local_records(b) == here
    shown = json.loads(run_cli(b, "checkpoints", "show", "train", here[1]["id"], "--local").stdout)
    assert shown["step"] == 2 and shown["on_remote"] is None and shown["run"] is None
    assert [c["step"] for c in traced(b, "ckpts/step-000002")["checkpoints"]] == [1, 2]

    # b resumes and finishes: its records join the store, the parent chain crosses machines.
    run_cli(b, "repro", env={"SYNC": "1"})
    after = local_records(b)
    assert [r["step"] for r in after] == [1, 2, 3, 4]
    assert after[2]["parent"] == here[1]["id"] and after[2]["run_id"] != here[1]["run_id"]
    finished = traced(b, "ckpts")
    assert [r["stage"] for r in finished["runs"]] == ["train"]
    assert [c["step"] for c in finished["checkpoints"]] == [1, 2, 3, 4]
    run_cli(b, "fetch")
    assert local_records(b) == after  # fetched twice: each record once
