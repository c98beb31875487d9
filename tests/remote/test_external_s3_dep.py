"""A dependency named by `s3://` URL: tracked by the object's ETag, as dvc tracks it."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import GIT_ENV, llmpipe_env, needs_dvc
from tests.remote.conftest import BUCKET

pytestmark = [needs_dvc, pytest.mark.dvc]

PIPELINE = """\
stages:
  get:
    cmd: echo fetched > got.txt
    deps: ['s3://{bucket}/ext/data.csv']
    outs: [got.txt]
"""


def _run(cwd, env, *command: str, check: bool = True) -> subprocess.CompletedProcess:  # noqa: ANN001
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=check)


def test_s3_dep_is_tracked_by_its_etag_as_in_dvc(moto_s3, tmp_path) -> None:  # noqa: ANN001
    env = {
        **llmpipe_env(), **GIT_ENV,
        "AWS_ENDPOINT_URL": moto_s3.endpoint, "AWS_ACCESS_KEY_ID": moto_s3.key_id,
        "AWS_SECRET_ACCESS_KEY": moto_s3.secret, "AWS_DEFAULT_REGION": "us-east-1",
    }  # fmt: skip
    moto_s3.client.put_object(Bucket=BUCKET, Key="ext/data.csv", Body=b"a,b\n1,2\n")
    tools = {"llmpipe": [sys.executable, "-m", "llmpipe"], "dvc": ["dvc"]}
    locks, changed = {}, {}
    for name, tool in tools.items():
        root = tmp_path / name
        root.mkdir()
        _run(root, env, "git", "init", "-q")
        _run(root, env, *tool, "init")
        (root / "dvc.yaml").write_text(PIPELINE.format(bucket=BUCKET))
        _run(root, env, *tool, "repro")
        locks[name] = (root / "dvc.lock").read_text()
    assert locks["llmpipe"] == locks["dvc"]
    assert "etag:" in locks["llmpipe"]
    moto_s3.client.put_object(Bucket=BUCKET, Key="ext/data.csv", Body=b"a,b\n1,3\n")
    for name, tool in tools.items():
        out = _run(tmp_path / name, env, *tool, "status", "--json").stdout
        changed[name] = set(json.loads(out or "{}"))
    assert changed["llmpipe"] == changed["dvc"] == {"get"}
    assert os.path.exists(tmp_path / "llmpipe" / "got.txt")
