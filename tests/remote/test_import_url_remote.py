"""`import-url` from S3 (against dvc, on the moto server) and SSH (the loopback sshd;
dvc's SSH plugin is not installed, so the files are checked against dvc's rule: the dep
records the md5 of the bytes)."""

from __future__ import annotations

import json
import subprocess
import sys
from itertools import count
from pathlib import Path

import pytest

from tests.conftest import GIT_ENV, llmpipe_env, needs_dvc
from tests.remote.conftest import BUCKET

TOOLS = {"llmpipe": [sys.executable, "-m", "llmpipe"], "dvc": ["dvc"]}
FILES = ("f.txt.dvc", "d.dvc", "f.txt", "d/x", "d/sub/y", ".gitignore")
_prefixes = count()


def _run(cwd: Path, env: dict, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)  # fmt: skip


def _both(roots: dict[str, Path], env: dict, *args: str) -> dict[str, str]:
    done = {name: _run(roots[name], env, *tool, *args) for name, tool in TOOLS.items()}
    assert done["llmpipe"].returncode == done["dvc"].returncode == 0, done
    return {name: result.stdout for name, result in done.items()}


def _same(roots: dict[str, Path]) -> None:
    for relpath in FILES:
        ours, theirs = roots["llmpipe"] / relpath, roots["dvc"] / relpath
        assert ours.exists() == theirs.exists(), relpath
        if theirs.exists():
            assert ours.read_bytes() == theirs.read_bytes(), relpath


@needs_dvc
@pytest.mark.dvc
def test_s3_import_url_and_update_as_dvc(moto_s3, tmp_path):
    env = {
        **llmpipe_env(), **GIT_ENV,
        "AWS_ENDPOINT_URL": moto_s3.endpoint, "AWS_ACCESS_KEY_ID": moto_s3.key_id,
        "AWS_SECRET_ACCESS_KEY": moto_s3.secret, "AWS_DEFAULT_REGION": "us-east-1",
    }  # fmt: skip
    prefix = f"imp{next(_prefixes)}"
    put = moto_s3.client.put_object
    put(Bucket=BUCKET, Key=f"{prefix}/f.txt", Body=b"hello\n")
    put(Bucket=BUCKET, Key=f"{prefix}/dir/x", Body=b"x\n")
    put(Bucket=BUCKET, Key=f"{prefix}/dir/sub/y", Body=b"y\n")
    roots = {}
    for name in TOOLS:
        roots[name] = tmp_path / name
        roots[name].mkdir()
        _run(roots[name], env, "git", "init", "-q")
        _run(roots[name], env, "dvc", "init", "-q")
    _both(roots, env, "import-url", f"s3://{BUCKET}/{prefix}/f.txt")
    _both(roots, env, "import-url", f"s3://{BUCKET}/{prefix}/dir", "d")
    _same(roots)
    assert "etag: " in (roots["llmpipe"] / "f.txt.dvc").read_text()
    put(Bucket=BUCKET, Key=f"{prefix}/f.txt", Body=b"hello, changed\n")
    put(Bucket=BUCKET, Key=f"{prefix}/dir/x", Body=b"x, changed\n")
    status = _both(roots, env, "status", "--json")
    assert json.loads(status["llmpipe"] or "{}") == json.loads(status["dvc"] or "{}") == {}
    _both(roots, env, "update", "f.txt.dvc", "d.dvc")
    _same(roots)
    assert (roots["llmpipe"] / "d" / "x").read_text() == "x, changed\n"
    before = (roots["llmpipe"] / "f.txt.dvc").stat().st_mtime_ns
    _both(roots, env, "update", "f.txt.dvc")  # unchanged: one request, nothing rewritten
    assert (roots["llmpipe"] / "f.txt.dvc").stat().st_mtime_ns == before


def test_ssh_import_url_through_a_remote(openssh, project, tmp_path):
    src = tmp_path / "sshsrc"
    (src / "dir" / "sub").mkdir(parents=True)
    (src / "f.txt").write_text("hello\n")
    (src / "dir" / "x").write_text("x\n")
    (src / "dir" / "sub" / "y").write_text("y\n")
    openssh.site(src).configure(project, name="ss")
    project.ok("import-url", "remote://ss/f.txt")
    project.ok("import-url", "remote://ss/dir", "d")
    assert project.read("d/sub/y") == "y\n"
    for dvcfile in ("f.txt.dvc", "d.dvc"):
        text = project.read(dvcfile)
        dep, out = text.split("outs:\n")
        assert dep.split("deps:\n")[1].split("  path:")[0] == out.split("  path:")[0]
    assert "path: remote://ss/dir\n" in project.read("d.dvc")
    (src / "dir" / "x").write_text("x, changed\n")
    project.ok("update", "d.dvc")
    assert project.read("d/x") == "x, changed\n"
    assert project.ok("status").out.strip() == "Data and pipelines are up to date."
    openssh.stop()
    try:
        failed = project.llmpipe("update", "d.dvc")
    finally:
        openssh.start()
    assert failed.returncode == 1 and failed.stderr.startswith("ERROR: cannot reach")
