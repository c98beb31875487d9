"""`import-url` and `update` of local paths and HTTP(S) URLs write the `.dvc` files dvc
writes, and `status`/`repro` treat them as dvc does (frozen: only `update` moves them)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import llmpipe_env, needs_dvc
from tests.functional.twins import Twins
from tests.http_server import serving

pytestmark = [needs_dvc, pytest.mark.dvc]

DVCFILES = ("f.txt.dvc", "d.dvc", "i.txt.dvc", "h.txt.dvc", "e.txt.dvc", "g.txt.dvc",
            "sub/f.txt.dvc", "r.txt.dvc", "rd.dvc")  # fmt: skip
DATA = ("f.txt", "d/x", "d/sub/y", "d/part.tmp", "i.txt", "h.txt", "e.txt", "g.txt", "sub/f.txt")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "dir" / "sub").mkdir(parents=True)
    (src / "f.txt").write_text("hello\n")
    (src / "dir" / "x").write_text("x\n")
    (src / "dir" / "sub" / "y").write_text("y\n")
    (src / "dir" / "part.tmp").write_text("a file like any other\n")
    return src


@pytest.fixture
def twins(project, tmp_path):
    project.write("inner/i.txt", "inside\n")
    (project.path / "sub").mkdir()
    project.commit("one")
    return Twins(project, tmp_path)


def _same(twins: Twins) -> None:
    twins.same_files(*DVCFILES, *DATA, ".gitignore", "sub/.gitignore")


def _status(twins: Twins) -> dict:
    ours, theirs = twins.both("status", "--json")
    assert json.loads(ours.stdout) == json.loads(theirs.stdout)
    return json.loads(ours.stdout)


def test_import_url_update_status_repro_as_dvc(twins, source):
    with serving(source, etag=True) as url, serving(source, etag=False) as plain:
        for step in [
            ("import-url", str(source / "f.txt")),
            ("import-url", str(source / "dir"), "d"),
            ("import-url", "inner/i.txt"),
            ("import-url", f"{url}/f.txt", "h.txt"),  # ETag recorded
            ("import-url", f"{plain}/f.txt", "e.txt"),  # no ETag: fsspec's checksum
            ("import-url", str(source / "f.txt"), "g.txt", "--no-exec"),
            ("import-url", str(source / "f.txt"), "sub"),
        ]:
            twins.both(*step)
            _same(twins)
        assert _status(twins) == {
            "g.txt.dvc": [{"changed outs": {"g.txt": "deleted"}}, "changed checksum"]
        }
        (source / "f.txt").write_text("hello, changed\n")
        (source / "dir" / "x").write_text("x, changed\n")
        assert set(_status(twins)) == {"g.txt.dvc"}  # frozen: a changed source is not shown
        twins.both("update", "f.txt.dvc", "d.dvc", "h.txt.dvc", "e.txt.dvc")
        _same(twins)
        assert twins.ours.read("f.txt") == "hello, changed\n"
        twins.both("update", "f.txt.dvc", "i.txt.dvc")  # nothing changed: nothing written
        _same(twins)
        twins.both("repro", "g.txt.dvc")  # a missing output is imported
        _same(twins)
        twins.shell("rm", "-rf", "d")  # frozen: a missing output stops repro, as in dvc
        failed = twins.ours.llmpipe("repro", "d.dvc")
        assert failed.returncode == 1 and "missing data 'source': d" in failed.stderr
        twins.both("checkout", "d.dvc")
        _same(twins)
        assert _status(twins) == {}


def test_import_url_to_remote_as_dvc(twins, source, tmp_path):
    stores = {}
    for name, root in (("ours", twins.ours.path), ("theirs", twins.theirs)):
        stores[name] = tmp_path / f"store-{name}"
        subprocess.run(["dvc", "remote", "add", "-d", "store", str(stores[name])], cwd=root,
                       check=True, env=llmpipe_env())  # fmt: skip
    twins.both("import-url", str(source / "f.txt"), "r.txt", "--to-remote")
    twins.both("import-url", str(source / "dir"), "rd", "--to-remote", "-r", "store")
    _same(twins)
    assert not (twins.ours.path / "r.txt").exists()
    assert _objects(stores["ours"]) == _objects(stores["theirs"]) and _objects(stores["ours"])
    assert not (twins.ours.path / ".dvc" / "cache" / "files").exists()
    (source / "f.txt").write_text("hello, changed\n")
    twins.both("update", "r.txt.dvc", "--to-remote")
    _same(twins)  # dvc keeps the stage's old md5 here: so does llmpipe
    assert _objects(stores["ours"]) == _objects(stores["theirs"])
    _status(twins)
    twins.ours.ok("pull", "r.txt.dvc")
    assert twins.ours.read("r.txt") == "hello, changed\n"


def _objects(store: Path) -> list[str]:
    found = store.rglob("*")
    return sorted(str(p.relative_to(store)) for p in found if p.is_file() and ".tmp" not in p.name)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("/nonexistent/x",), "failed to import /nonexistent/x. You could also try downloading"),
        (("http://127.0.0.1:1/x",), "cannot reach 'http://127.0.0.1:1/x'"),
        (("/tmp", "-r", "store"), "--remote can't be used without --to-remote"),
        (("/tmp", "t", "--to-remote", "--no-exec"), "cannot be combined with --to-remote"),
        (("/tmp", "t", "--to-remote", "-r", "nope"), "remote 'nope' is not configured"),
        (("/tmp", "t", "--to-remote", "--no-download"), "--no-download/--version-aware cannot"),
        (("/tmp", "t", "--fs-config", "a=b"), "'a' is not an option of local remotes"),
        (("/tmp", "t", "--fs-config", "jobs=x"), "'jobs' must be an integer"),
    ],
)
def test_import_url_errors(twins, args, message):
    ours, _ = twins.both("import-url", *args)
    assert ours.stderr.startswith("ERROR: ") and message in ours.stderr, ours.stderr
    assert len(ours.stderr.strip().splitlines()) == 1
    twins.same_files(*DVCFILES, ".gitignore", "t", "x")


def test_update_errors(twins, source):
    twins.both("import-url", str(source / "f.txt"))
    ours, _ = twins.both("update", "f.txt.dvc", "-r", "store")
    assert ours.stderr == "ERROR: --remote can't be used without --to-remote\n"
    (source / "f.txt").unlink()
    ours, _ = twins.both("update", "f.txt.dvc")
    assert "dependency '" in ours.stderr and "does not exist" in ours.stderr
    assert "Download the file or folder at URL" in twins.ours.ok("import-url", "--help").out


def test_import_url_no_download_then_pull_and_update_as_dvc(twins, source):
    twins.both("import-url", str(source / "f.txt"), "--no-download")
    twins.both("import-url", str(source / "dir"), "d", "--no-download")
    _same(twins)  # the source's hash, none for the output; the stage md5 as dvc computes it
    assert not (twins.ours.path / "f.txt").exists()
    assert _status(twins) == {
        "f.txt.dvc": [{"changed outs": {"f.txt": "deleted"}}],
        "d.dvc": [{"changed outs": {"d": "deleted"}}],
    }
    ours, theirs = twins.both("pull", "f.txt.dvc")  # fetched from the source; .dvc as it was
    assert ours.stdout.splitlines()[0] == theirs.stdout.splitlines()[0] == "A       f.txt"
    _same(twins)
    _status(twins)  # "modified", as in dvc: the .dvc file still records no output hash
    twins.both("update", "f.txt.dvc", "d.dvc")  # now downloaded and recorded
    _same(twins)
    assert _status(twins) == {}


def test_pull_of_a_no_download_import_fetches_folders_and_checks_the_source(twins, source):
    # dvc 3.67 creates an imported folder empty here; llmpipe fetches its files. And
    # where dvc would take whatever the source holds now, llmpipe refuses content other
    # than what the .dvc file records.
    twins.ours.ok("import-url", str(source / "dir"), "d", "--no-download")
    twins.ours.ok("import-url", str(source / "f.txt"), "--no-download")
    (source / "f.txt").write_text("changed since\n")
    failed = twins.ours.llmpipe("pull")
    assert failed.returncode == 1 and "run 'llmpipe update f.txt.dvc'" in failed.stderr
    assert not (twins.ours.path / "f.txt").exists() and not (twins.ours.path / "d").exists()
    twins.ours.ok("pull", "d.dvc")
    assert twins.ours.read("d/sub/y") == "y\n"


def test_import_url_fs_config_jobs_version_aware_as_dvc(twins, source):
    for step in [
        ("import-url", str(source / "f.txt"), "--fs-config", "jobs=2", "verify=false"),
        ("import-url", str(source / "dir"), "d", "-j", "2"),
        ("import-url", "inner/i.txt", "--version-aware", "--fs-config", "jobs=3"),
    ]:
        twins.both(*step)
        _same(twins)
    assert "fs_config:\n    jobs: '2'\n    verify: 'false'\n" in twins.ours.read("f.txt.dvc")
    (source / "f.txt").write_text("hello, changed\n")
    twins.both("update", "f.txt.dvc", "i.txt.dvc", "-j", "2")  # the recorded settings stay
    _same(twins)
    assert _status(twins) == {}


def test_version_aware_cloud_imports_are_refused(twins):
    for args in (("--version-aware",), ("--fs-config", "version_aware=true")):
        failed = twins.ours.llmpipe("import-url", "s3://bucket/data.csv", *args)
        assert failed.returncode == 1 and failed.stderr.count("\n") == 1, failed.stderr
        assert "version-aware imports (s3:// object versions) are not supported" in failed.stderr
    failed = twins.ours.llmpipe("import-url", "/tmp", "t", "--no-exec", "--no-download")
    assert failed.stderr == "ERROR: --no-exec and --no-download cannot be used together\n"
    assert not (twins.ours.path / "data.csv.dvc").exists()
