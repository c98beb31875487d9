"""An append-only store of `RunRecord`s as Parquet files, readable by pyarrow or DuckDB.

Layout: `<store>/runs/YYYY/MM/DD/<UTC timestamp>-<uuid>.parquet`, one file per
`append` call. Files are never rewritten, so several processes can append at
once without a lock: each writes its own uniquely named file, through a temp file
in the same directory that is fsynced and then renamed. Query the whole store with
`duckdb.sql("select * from read_parquet('<store>/**/*.parquet')")`.

pyarrow is imported inside the methods: it costs ~0.2 s and a no-op `repro`
never reads or writes lineage.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import timezone
from functools import cache
from typing import TYPE_CHECKING, Any

from ..fsutil import atomic_path
from .record import ArtifactRef, RunRecord, new_id, utcnow

if TYPE_CHECKING:
    import pyarrow as pa

RUNS_DIR = "runs"
SCHEMA_VERSION = "1"


@cache
def lineage_schema() -> pa.Schema:
    """The Parquet schema of one run record (one row per stage run)."""
    import pyarrow as pa

    artifact = pa.struct(
        [("path", pa.string()), ("hash", pa.string()), ("size", pa.int64()), ("nfiles", pa.int64())]
    )
    moment = pa.timestamp("us", tz="UTC")
    columns = [
        ("run_id", pa.string()), ("batch_id", pa.string()), ("stage", pa.string()),
        ("dvcfile", pa.string()), ("cmd", pa.string()), ("cmd_json", pa.string()),
        ("deps", pa.list_(artifact)), ("params", pa.string()), ("outs", pa.list_(artifact)),
        ("metrics", pa.string()), ("git_commit", pa.string()), ("git_dirty", pa.bool_()),
        ("started_at", moment), ("ended_at", moment), ("duration_s", pa.float64()),
        ("exit_status", pa.int32()), ("status", pa.string()), ("from_run_cache", pa.bool_()),
        ("host", pa.string()), ("user", pa.string()), ("llmpipe_version", pa.string()),
        ("python_version", pa.string()), ("overrides", pa.list_(pa.string())),
        ("error", pa.string()), ("executor", pa.string()), ("job_id", pa.string()),
    ]  # fmt: skip
    return pa.schema(columns, metadata={"llmpipe.lineage.schema": SCHEMA_VERSION})


def record_to_row(record: RunRecord) -> dict[str, Any]:
    """The Parquet row of `record`: params and metrics as JSON text, artifacts as dicts."""
    row = {field.name: getattr(record, field.name) for field in fields(record)}
    row["deps"] = [asdict(ref) for ref in record.deps]
    row["outs"] = [asdict(ref) for ref in record.outs]
    # default=str: params files may hold YAML dates and other non-JSON scalars.
    row["params"] = json.dumps(record.params, sort_keys=True, default=str)
    row["metrics"] = json.dumps(record.metrics, sort_keys=True, default=str)
    row["overrides"] = list(record.overrides)
    return row


def record_from_row(row: dict[str, Any]) -> RunRecord:
    """Inverse of `record_to_row`; columns missing from older files read as empty."""
    values = dict(row)
    values["deps"] = tuple(ArtifactRef(**ref) for ref in row.get("deps") or ())
    values["outs"] = tuple(ArtifactRef(**ref) for ref in row.get("outs") or ())
    values["params"] = json.loads(row.get("params") or "{}")
    values["metrics"] = json.loads(row.get("metrics") or "{}")
    values["overrides"] = tuple(row.get("overrides") or ())
    values["started_at"] = row["started_at"].astimezone(timezone.utc)
    values["ended_at"] = row["ended_at"].astimezone(timezone.utc)
    values["executor"] = row.get("executor") or "local"  # files written before the column
    known = {field.name for field in fields(RunRecord)}
    return RunRecord(**{key: value for key, value in values.items() if key in known})


class LineageStore:
    """The lineage records of one project, in the directory `path`.

    `warnings` lists the files the last read had to skip (unreadable or of a
    foreign schema); reading never fails because of one bad file.
    """

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(path)
        self.warnings: list[str] = []

    def __repr__(self) -> str:
        return f"LineageStore({self.path!r})"

    def append(self, records: Sequence[RunRecord]) -> None:
        """Write `records` as one new Parquet file, atomically; no records, no file."""
        if not records:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist([record_to_row(r) for r in records], schema=lineage_schema())
        final = self._new_file_path()
        with atomic_path(final) as tmp:
            pq.write_table(table, tmp)
        _fsync_dir(os.path.dirname(final))

    def _new_file_path(self) -> str:
        now = utcnow()
        directory = os.path.join(self.path, RUNS_DIR, f"{now:%Y}", f"{now:%m}", f"{now:%d}")
        os.makedirs(directory, exist_ok=True)
        # The timestamp makes names sort by time; the uuid makes them unique across processes.
        return os.path.join(directory, f"{now:%Y%m%dT%H%M%S%fZ}-{new_id()}.parquet")

    def files(self) -> list[str]:
        """Every committed record file, oldest first (temp files are skipped)."""
        from .journal import recover_journals

        recover_journals(self)  # records of a killed run are still in its journal
        found: list[str] = []
        for directory, _subdirs, names in os.walk(os.path.join(self.path, RUNS_DIR)):
            found.extend(
                os.path.join(directory, name)
                for name in names
                if name.endswith(".parquet") and not name.startswith(".")
            )
        return sorted(found, key=os.path.basename)

    def table(self) -> pa.Table:
        """All records as one pyarrow Table with `lineage_schema()`, in file order."""
        import pyarrow as pa
        import pyarrow.dataset as ds

        self.warnings = []
        paths = self.files()
        if not paths:
            return lineage_schema().empty_table()
        try:
            return ds.dataset(paths, schema=lineage_schema(), format="parquet").to_table()
        except (OSError, pa.ArrowException):
            # Some file is bad: read them one by one to keep every good one.
            return self._table_skipping_bad_files(paths)

    def _table_skipping_bad_files(self, paths: list[str]) -> pa.Table:
        import pyarrow as pa
        import pyarrow.dataset as ds

        tables = []
        for path in paths:
            try:
                tables.append(
                    ds.dataset(path, schema=lineage_schema(), format="parquet").to_table()
                )
            except (OSError, pa.ArrowException) as exc:
                self.warnings.append(f"skipped unreadable lineage file '{path}': {exc}")
        if not tables:
            return lineage_schema().empty_table()
        return pa.concat_tables(tables)

    def read(self, stage: str | None = None, limit: int | None = None) -> list[RunRecord]:
        """Records newest first (by start time), optionally of one stage, at most `limit`.

        `stage` matches the stage name exactly and, for a foreach/matrix group
        name such as `train`, its members `train@...` too.
        """
        import pyarrow.compute as pc

        table = self.table()
        if stage is not None:
            is_member = pc.starts_with(table["stage"], f"{stage}@")
            table = table.filter(pc.or_(pc.equal(table["stage"], stage), is_member))
        order = pc.sort_indices(
            table, sort_keys=[("started_at", "descending"), ("ended_at", "descending")]
        )
        if limit is not None:
            order = order[: max(limit, 0)]
        return [record_from_row(row) for row in table.take(order).to_pylist()]


def _fsync_dir(directory: str) -> None:
    # Makes the rename itself durable; not possible on every platform, hence best effort.
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
