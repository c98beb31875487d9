import os

import pytest

from llmpipe.errors import SpecError
from llmpipe.spec import load_dvcfile, read_dvcfile_hash, write_dvcfile
from llmpipe.stage import HashInfo, Out

FILE_HASH = HashInfo("md5", "b1946ac92492d2347c6235b4d2611184", size=6)
DIR_HASH = HashInfo("md5", "562ee692a592790b08e880eff9046f72.dir", size=4, nfiles=2)


def test_write_file_entry_in_dvc_add_order(tmp_path):
    write_dvcfile(str(tmp_path), "data/raw.txt.dvc", "raw.txt", FILE_HASH)
    assert (tmp_path / "data/raw.txt.dvc").read_text() == (
        "outs:\n- md5: b1946ac92492d2347c6235b4d2611184\n  size: 6\n  hash: md5\n  path: raw.txt\n"
    )


def test_write_directory_and_executable_entries(tmp_path):
    write_dvcfile(str(tmp_path), "d.dvc", "d", DIR_HASH)
    assert (tmp_path / "d.dvc").read_text() == (
        "outs:\n- md5: 562ee692a592790b08e880eff9046f72.dir\n  size: 4\n  nfiles: 2\n"
        "  hash: md5\n  path: d\n"
    )
    exe = HashInfo("md5", "a" * 32, size=2, isexec=True)
    write_dvcfile(str(tmp_path), "run.sh.dvc", "run.sh", exe)
    assert "  size: 2\n  isexec: true\n  hash: md5\n" in (tmp_path / "run.sh.dvc").read_text()


def test_round_trip_hash_and_stage(tmp_path):
    write_dvcfile(str(tmp_path), "sub/d.dvc", "d", DIR_HASH)
    assert read_dvcfile_hash(str(tmp_path), "sub/d.dvc") == DIR_HASH
    stage = load_dvcfile(str(tmp_path), "sub/d.dvc")
    assert (stage.name, stage.dvcfile, stage.wdir, stage.cmd) == (
        "sub/d.dvc",
        "sub/d.dvc",
        "sub",
        None,
    )
    assert stage.outs == (Out("d"),)
    assert stage.is_data_source and stage.repo_path("d") == "sub/d"


def test_legacy_dvc2_file_without_hash_key(tmp_path):
    (tmp_path / "x.dvc").write_text("outs:\n- md5: abc\n  size: 3\n  path: x\n")
    # DVC 2's md5 (text files hashed after CRLF -> LF), as dvc 3 reads it.
    assert read_dvcfile_hash(str(tmp_path), "x.dvc") == HashInfo("md5-dos2unix", "abc", size=3)


def test_out_options_are_read(tmp_path):
    (tmp_path / "x.dvc").write_text(
        "outs:\n- path: x\n  cache: false\n  remote: r\n  push: false\n"
    )
    assert load_dvcfile(str(tmp_path), "x.dvc").outs == (
        Out("x", cache=False, remote="r", push=False),
    )
    assert read_dvcfile_hash(str(tmp_path), "x.dvc") is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("- a\n", "must be a mapping"),
        ("outs: []\n", "non-empty 'outs' list"),
        ("outs:\n- md5: abc\n", "needs a 'path'"),
        ("outs:\n- path: ../x\n", "points outside the repository"),
        ("outs: [\n", "x.dvc:2:1: invalid YAML"),
    ],
)
def test_malformed_dvcfiles(tmp_path, text, expected):
    (tmp_path / "x.dvc").write_text(text)
    with pytest.raises(SpecError, match=expected.replace("(", r"\(")):
        load_dvcfile(str(tmp_path), "x.dvc")


def test_write_is_atomic_and_leaves_no_temp_files(tmp_path):
    write_dvcfile(str(tmp_path), "a.dvc", "a", FILE_HASH)
    write_dvcfile(str(tmp_path), "a.dvc", "a", DIR_HASH)
    assert os.listdir(tmp_path) == ["a.dvc"]
    assert read_dvcfile_hash(str(tmp_path), "a.dvc") == DIR_HASH
