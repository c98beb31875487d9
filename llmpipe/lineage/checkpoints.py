"""The lineage of streamed checkpoints, kept in the project's lineage store.

Every checkpoint a stage pushes to its remote is also appended here, on the machine
that ran it; `fetch`/`pull` copy the records of other machines' runs from the remote.
So a checkpoint's stage, step, metrics, run and parent stay queryable offline, and
after retention removed it from the remote.

Layout: `<lineage store>/checkpoints/YYYY/MM/DD/<UTC timestamp>-<uuid>.parquet`, one
file per `append`, written atomically like the run records (`store.py`). A record is
a plain mapping (the fields of `ckpt.records.CheckpointRecord` plus `remote`); the
same id appearing twice (pushed here, then fetched) is one record.

    duckdb.sql("select * from read_parquet('.llmpipe/lineage/checkpoints/**/*.parquet')")
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

from ..fsutil import atomic_path
from .record import new_id, utcnow
from .store import _fsync_dir

if TYPE_CHECKING:
    import pyarrow as pa

CHECKPOINTS_DIR = "checkpoints"


@cache
def checkpoint_schema() -> pa.Schema:
    import pyarrow as pa

    columns = [
        ("id", pa.string()), ("stage", pa.string()), ("run_id", pa.string()),
        ("seq", pa.int64()), ("name", pa.string()), ("step", pa.int64()),
        ("created", pa.string()), ("tree", pa.string()), ("size", pa.int64()),
        ("nfiles", pa.int64()), ("key", pa.string()), ("parent", pa.string()),
        ("metrics", pa.string()), ("remote", pa.string()),
    ]  # fmt: skip
    return pa.schema(columns, metadata={"llmpipe.lineage.checkpoints": "1"})


class CheckpointLog:
    """The checkpoint records under the lineage store at `store_path`."""

    def __init__(self, store_path: str) -> None:
        self.path = os.path.join(os.path.abspath(store_path), CHECKPOINTS_DIR)

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        """Write `records` as one new Parquet file, atomically; none, no file."""
        rows = [_to_row(record) for record in records]
        if not rows:
            return
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pylist(rows, schema=checkpoint_schema())
        final = self._new_file_path()
        with atomic_path(final) as tmp:
            pq.write_table(table, tmp)
        _fsync_dir(os.path.dirname(final))

    def read(self, stage: str | None = None) -> list[dict[str, Any]]:
        """The records (of `stage`), oldest first, each id once."""
        files = self._files()
        if not files:
            return []
        import pyarrow.dataset as ds

        table = ds.dataset(files, schema=checkpoint_schema(), format="parquet").to_table()
        found: dict[str, dict[str, Any]] = {}
        for row in table.to_pylist():
            if stage is None or row["stage"] == stage:
                found[row["id"]] = _from_row(row)
        return sorted(found.values(), key=lambda r: (r["created"], r["seq"]))

    def ids(self, stage: str | None = None) -> set[str]:
        return {record["id"] for record in self.read(stage)}

    def _files(self) -> list[str]:
        found = []
        for directory, _subdirs, names in os.walk(self.path):
            found.extend(
                os.path.join(directory, name)
                for name in names
                if name.endswith(".parquet") and not name.startswith(".")
            )
        return sorted(found, key=os.path.basename)

    def _new_file_path(self) -> str:
        now = utcnow()
        directory = os.path.join(self.path, f"{now:%Y}", f"{now:%m}", f"{now:%d}")
        os.makedirs(directory, exist_ok=True)
        return os.path.join(directory, f"{now:%Y%m%dT%H%M%S%fZ}-{new_id()}.parquet")


def _to_row(record: dict[str, Any]) -> dict[str, Any]:
    row = {name: record.get(name) for name in checkpoint_schema().names}
    row["metrics"] = json.dumps(record.get("metrics") or {}, sort_keys=True, default=str)
    return row


def _from_row(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "metrics": json.loads(row.get("metrics") or "{}")}


def chain(records: list[dict[str, Any]], newest: dict[str, Any]) -> list[dict[str, Any]]:
    """`newest` and its ancestors through `parent`, oldest first (as far as known here)."""
    by_id = {record["id"]: record for record in records}
    found, seen = [newest], {newest["id"]}
    while (parent := by_id.get(found[-1].get("parent") or "")) and parent["id"] not in seen:
        found.append(parent)
        seen.add(parent["id"])
    return found[::-1]
