"""Sweep records on disk (`.llmpipe/sweeps/<ID>/`) and result tables.

Layout of one sweep: `plan.json` (what to run; written before any job starts),
`jobs/<n>.json` (each job's status, written by the job itself, atomically, so
any launcher on a shared filesystem can report), and `sweep.json` (the summary).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from ..errors import ConfigError

SWEEPS_DIR = "sweeps"


@dataclass
class JobResult:
    """One job of a sweep: `status` is pending, running, succeeded, failed or not-run."""

    job: int
    overrides: list[str]
    status: str = "pending"
    duration_s: float | None = None
    metrics: dict[str, Any] = field(default_factory=dict)  # "file:key.path" -> scalar
    stages: dict[str, str] = field(default_factory=dict)  # stage -> ran/restored/skipped/failed
    error: str | None = None
    experiment: str | None = None  # the experiment ref the job was saved as (`exp show`)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobResult:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


@dataclass
class SweepRecord:
    id: str
    created: str
    overrides: list[str]
    launcher: str
    jobs: list[JobResult]
    shared_stages: list[str] = field(default_factory=list)
    duration_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SweepRecord:
        values = dict(data)
        values["jobs"] = [JobResult.from_dict(j) for j in data.get("jobs", [])]
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})

    def counts(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for job in self.jobs:
            found[job.status] = found.get(job.status, 0) + 1
        return found


def sweeps_root(llmpipe_dir: str) -> str:
    return os.path.join(llmpipe_dir, SWEEPS_DIR)


def write_json(path: str, data: Any) -> None:
    from ..fsutil import atomic_write_text

    atomic_write_text(path, json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: str) -> Any:
    with open(path, encoding="utf-8") as handle:
        return json.load(handle)


def save_record(sweep_dir: str, record: SweepRecord) -> None:
    write_json(os.path.join(sweep_dir, "sweep.json"), record.to_dict())


def list_sweeps(llmpipe_dir: str) -> list[str]:
    """Sweep ids, oldest first (ids start with a UTC timestamp)."""
    root = sweeps_root(llmpipe_dir)
    if not os.path.isdir(root):
        return []
    return sorted(
        d for d in os.listdir(root) if os.path.exists(os.path.join(root, d, "sweep.json"))
    )


def load_record(llmpipe_dir: str, sweep_id: str | None = None) -> SweepRecord:
    """The sweep `sweep_id` (a unique prefix is enough), or the latest one."""
    ids = list_sweeps(llmpipe_dir)
    if not ids:
        raise ConfigError("no sweeps recorded yet: run 'llmpipe sweep key=a,b' first")
    if sweep_id is None:
        chosen = ids[-1]
    else:
        matches = [i for i in ids if i.startswith(sweep_id)]
        if len(matches) != 1:
            from .overrides import did_you_mean

            what = "matches several sweeps" if matches else "is not a recorded sweep"
            raise ConfigError(
                f"'{sweep_id}' {what}{did_you_mean(sweep_id, ids)}; see 'llmpipe sweep show --list'"
            )
        chosen = matches[0]
    return SweepRecord.from_dict(
        read_json(os.path.join(sweeps_root(llmpipe_dir), chosen, "sweep.json"))
    )


def metric_names(jobs: Sequence[JobResult]) -> dict[str, str]:
    """Full metric name -> the short name shown (the key alone when no other file has it)."""
    full = sorted({name for job in jobs for name in job.metrics})
    keys = [name.split(":", 1)[1] for name in full]
    return {
        name: key if keys.count(key) == 1 else name for name, key in zip(full, keys, strict=True)
    }


def resolve_metric(jobs: Sequence[JobResult], wanted: str) -> str:
    """The full metric name for `wanted` (full or short); ConfigError with close matches."""
    names = metric_names(jobs)
    for full, short in names.items():
        if wanted in (full, short):
            return full
    from .overrides import did_you_mean

    known = list(names.values())
    raise ConfigError(
        f"no metric '{wanted}' in this sweep{did_you_mean(wanted, known)}; "
        f"metrics: {', '.join(known) or 'none'}"
    )


def sorted_jobs(
    jobs: Sequence[JobResult], sort_by: str | None, descending: bool = False
) -> list[JobResult]:
    """Jobs ordered by a metric (jobs without it last), or by job number."""
    if not sort_by:
        return sorted(jobs, key=lambda j: j.job)
    full = resolve_metric(jobs, sort_by)
    present = [j for j in jobs if isinstance(j.metrics.get(full), (int, float))]
    missing = [j for j in jobs if j not in present]
    present.sort(key=lambda j: j.metrics[full], reverse=descending)
    return present + sorted(missing, key=lambda j: j.job)


def table(
    record: SweepRecord,
    sort_by: str | None = None,
    descending: bool = False,
    metrics: Sequence[str] = (),
) -> tuple[list[str], list[list[str]]]:
    """Header and rows: job, overrides, chosen metrics (default all), duration, status."""
    names = metric_names(record.jobs)
    chosen = [resolve_metric(record.jobs, m) for m in metrics] if metrics else list(names)
    header = ["job", "overrides", *(names[m] for m in chosen), "duration", "status"]
    rows = []
    for job in sorted_jobs(record.jobs, sort_by, descending):
        cells = [_cell(job.metrics.get(m)) for m in chosen]
        duration = "-" if job.duration_s is None else f"{job.duration_s:.1f}s"
        rows.append([str(job.job), " ".join(_varying(record, job)), *cells, duration, job.status])
    return header, rows


def _varying(record: SweepRecord, job: JobResult) -> list[str]:
    # The overrides every job shares say nothing about this one; show the rest.
    shared = (
        set.intersection(*(set(j.overrides) for j in record.jobs))
        if len(record.jobs) > 1
        else set()
    )
    return [o for o in job.overrides if o not in shared] or job.overrides


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)
