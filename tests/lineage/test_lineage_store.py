from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pyarrow.parquet as pq
import pytest

from llmpipe.lineage.record import ArtifactRef
from llmpipe.lineage.store import LineageStore, lineage_schema

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _history(make_run):
    prepare = make_run(
        "prepare",
        0,
        deps=[("data/raw.csv", "a" * 32)],
        outs=[ArtifactRef("data/prepared", "b" * 32 + ".dir", 300, 3)],
        params={"params.yaml": {"prepare.seed": 42, "prepare.split": [0.8, 0.2]}},
        git_commit="c" * 40,
        git_dirty=True,
        batch_id="batch1",
    )
    train = make_run(
        "train@lr1",
        1,
        cmd=["python train.py", "python export.py"],
        deps=[("data/prepared", "b" * 32 + ".dir")],
        outs=[("model.pt", "d" * 32)],
        metrics={"metrics.json": {"loss": 0.25}},
        overrides=["train.lr=1"],
        from_run_cache=True,
        status="restored",
        batch_id="batch1",
    )
    failed = make_run("train@lr2", 2, status="failed", exit_status=3, error="boom")
    return [prepare, train, failed]


def _files(root):
    return sorted(os.path.join(d, n) for d, _, names in os.walk(root) for n in names)


def test_roundtrip_returns_equal_records_newest_first(tmp_path, make_run):
    store = LineageStore(str(tmp_path / "lineage"))
    records = _history(make_run)
    store.append(records[:2])
    store.append(records[2:])
    assert store.read() == list(reversed(records))
    assert store.warnings == []


def test_each_append_writes_one_dated_parquet_file(tmp_path, make_run):
    store = LineageStore(str(tmp_path))
    store.append([])
    assert store.files() == []
    store.append(_history(make_run))
    store.append([make_run("x", 5)])
    files = store.files()
    assert len(files) == 2 and _files(tmp_path) == files  # no temp file left behind
    relative = os.path.relpath(files[0], tmp_path).split(os.sep)
    assert relative[0] == "runs" and len(relative) == 5 and relative[-1].endswith(".parquet")
    assert os.path.basename(files[0]) < os.path.basename(files[1])  # names sort by time


def test_read_filters_by_stage_and_foreach_group_and_limits(tmp_path, make_run):
    store = LineageStore(str(tmp_path))
    store.append(_history(make_run))
    assert [r.stage for r in store.read(stage="prepare")] == ["prepare"]
    assert [r.stage for r in store.read(stage="train")] == ["train@lr2", "train@lr1"]
    assert [r.stage for r in store.read(stage="train@lr1")] == ["train@lr1"]
    assert store.read(stage="nope") == []
    assert [r.stage for r in store.read(limit=1)] == ["train@lr2"]


def test_empty_store_reads_empty(tmp_path):
    store = LineageStore(str(tmp_path / "missing"))
    assert store.read() == []
    assert store.table().schema == lineage_schema()


def test_plain_pyarrow_reads_the_store_with_nested_columns(tmp_path, make_run):
    store = LineageStore(str(tmp_path))
    store.append(_history(make_run))
    table = pq.read_table(str(tmp_path / "runs"))
    assert table.num_rows == 3
    assert str(table.schema.field("started_at").type) == "timestamp[us, tz=UTC]"
    rows = {row["stage"]: row for row in table.to_pylist()}
    assert rows["prepare"]["outs"][0] == {
        "path": "data/prepared", "hash": "b" * 32 + ".dir", "size": 300, "nfiles": 3
    }  # fmt: skip
    assert rows["train@lr1"]["cmd_json"] == '["python train.py", "python export.py"]'


def test_duckdb_queries_the_store(tmp_path, make_run):
    duckdb = pytest.importorskip("duckdb")
    store = LineageStore(str(tmp_path))
    store.append(_history(make_run))
    store.append([make_run("prepare", 9)])
    pattern = f"{tmp_path}/**/*.parquet"
    count = duckdb.sql(f"select count(*) from read_parquet('{pattern}') where stage = 'prepare'")
    assert count.fetchall() == [(2,)]
    sql = (
        f"select o.path, json_extract(metrics, '$.\"metrics.json\".loss')::double "
        f"from read_parquet('{pattern}'), unnest(outs) as u(o) where status = 'restored'"
    )
    assert duckdb.sql(sql).fetchall() == [("model.pt", 0.25)]


def test_corrupt_and_foreign_files_are_skipped_with_a_warning(tmp_path, make_run):
    store = LineageStore(str(tmp_path))
    store.append([make_run("good", 0)])
    day_dir = os.path.dirname(store.files()[0])
    with open(os.path.join(day_dir, "00-truncated.parquet"), "wb") as handle:
        handle.write(b"PAR1 truncated")
    with open(os.path.join(day_dir, ".in-progress.parquet.tmp"), "wb") as handle:
        handle.write(b"half")
    assert [r.stage for r in store.read()] == ["good"]
    assert len(store.warnings) == 1 and "00-truncated.parquet" in store.warnings[0]


def test_concurrent_appends_from_several_processes_all_land(tmp_path):
    writer = textwrap.dedent(
        """
        import sys
        from datetime import datetime, timezone
        from llmpipe.lineage.record import RunRecord
        from llmpipe.lineage.store import LineageStore

        store = LineageStore(sys.argv[1])
        for index in range(5):
            now = datetime.now(timezone.utc)
            record = RunRecord.new(stage=f"{sys.argv[2]}-{index}", cmd="true",
                                   started_at=now, ended_at=now, status="ran")
            store.append([record])
        """
    )
    procs = [
        subprocess.Popen([sys.executable, "-c", writer, str(tmp_path), f"p{n}"], cwd=REPO_ROOT)
        for n in range(4)
    ]
    assert [proc.wait(timeout=60) for proc in procs] == [0, 0, 0, 0]
    stages = sorted(record.stage for record in LineageStore(str(tmp_path)).read())
    assert stages == sorted(f"p{n}-{i}" for n in range(4) for i in range(5))
    assert len(_files(tmp_path)) == 20


def test_importing_lineage_and_scm_does_not_import_pyarrow():
    code = (
        "import sys, llmpipe.lineage, llmpipe.lineage.store, llmpipe.scm, llmpipe.repo\n"
        "assert 'pyarrow' not in sys.modules, 'pyarrow imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, check=True)


def test_files_from_an_older_schema_still_read(tmp_path, make_run):
    """A file written before a column existed reads with that column empty."""
    import pyarrow as pa

    from llmpipe.lineage.store import record_to_row

    store = LineageStore(str(tmp_path))
    store.append([make_run("new", 1, overrides=["a=1"])])
    old_row = record_to_row(make_run("old", 0, overrides=["x=1"], error="e"))
    old_schema = pa.schema([f for f in lineage_schema() if f.name not in ("overrides", "error")])
    old_table = pa.Table.from_pylist([old_row], schema=old_schema)
    pq.write_table(old_table, os.path.dirname(store.files()[0]) + "/00000000-old.parquet")
    old, new = sorted(store.read(), key=lambda r: r.stage, reverse=True)
    assert (old.stage, old.overrides, old.error) == ("old", (), None)
    assert new.overrides == ("a=1",) and store.warnings == []
