# ruff: noqa: E501
"""Dashboard benchmark: `llmpipe ui` on a project with 2,000 lineage records and 200 experiments.

The project (generated once, in a temporary folder): the 2-stage pipeline of the
dashboard's tests (tests/ui/experiments_project.py); 8 branches of
5 commits each (40 revisions, each with its params.yaml and committed metrics.json);
2 recorded sweeps of 80 jobs each, with their jobs' lineage records; 2,000 lineage
records in all (the jobs' and the branches' stage runs), in 20 Parquet files. With
the workspace that is 201 experiments.

Measured against a real server (`llmpipe ui --port 0`, a subprocess):

- time to first byte of each page (HTTP over loopback): the first request after the
  server starts (cold: every commit read from git, the lineage store parsed) and the
  best of `--repeat` later ones (warm: what a user clicking around sees);
- time to a rendered table: in headless Chromium (Playwright, Debian's `chromium`),
  from navigation start until the experiments table is built and its script has made
  it sortable (`performance.mark("experiments-ready")`), and the time one click takes
  to sort the 201 rows by a metric.

    python benchmarks/bench_ui.py [--repeat 5] [--output benchmarks/RESULTS.md]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import platform
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
ENV = {
    **os.environ,
    "PYTHONPATH": str(REPO),
    "GIT_AUTHOR_NAME": "bench",
    "GIT_AUTHOR_EMAIL": "bench@llmpipe.invalid",
    "GIT_COMMITTER_NAME": "bench",
    "GIT_COMMITTER_EMAIL": "bench@llmpipe.invalid",
}
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]  # fmt: skip
TARGETS = {"ttfb": 0.5, "table": 1.0}  # seconds, warm

BRANCHES, COMMITS, SWEEPS, JOBS, RECORDS = 8, 5, 2, 80, 2000


def sh(cwd: Path, *args: str) -> str:
    result = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def make_project(path: Path) -> None:
    path.mkdir(parents=True)
    sh(path, "git", "init", "-q", "-b", "main")
    sh(path, sys.executable, "-m", "llmpipe", "init")
    # The pipeline of the dashboard's tests (prepare -> train, a metric and a loss plot);
    # its stages are not run here: commits, sweeps and lineage are written directly.
    from tests.ui.experiments_project import DVC_YAML, PREPARE, TRAIN

    (path / "dvc.yaml").write_text(DVC_YAML)
    (path / "prepare.py").write_text(PREPARE)
    (path / "train.py").write_text(TRAIN)
    (path / "raw.txt").write_text("raw data\n")
    _commit_experiments(path)
    _write_sweeps_and_lineage(path)


def _commit_experiments(path: Path) -> None:
    rng = random.Random(1)
    for branch in range(BRANCHES):
        name = "main" if branch == 0 else f"exp-{branch}"
        if branch:
            sh(path, "git", "checkout", "-q", "-b", name, "main")
        for commit in range(COMMITS):
            lr = round(rng.uniform(0.001, 0.1), 5)
            (path / "params.yaml").write_text(
                f"train:\n  lr: {lr}\n  epochs: {10 + commit}\n  seed: 7\n"
            )
            metrics = {
                "loss": round(rng.uniform(0.2, 2.0), 5),
                "acc": round(rng.uniform(0.5, 0.99), 5),
            }
            (path / "metrics.json").write_text(json.dumps(metrics))
            sh(path, "git", "add", "-A")
            sh(path, "git", "commit", "-q", "-m", f"{name}: lr {lr}")
    sh(path, "git", "checkout", "-q", "main")


def _write_sweeps_and_lineage(path: Path) -> None:
    from llmpipe.hydra.results import JobResult, SweepRecord, save_record, sweeps_root
    from llmpipe.lineage.record import RunRecord
    from llmpipe.lineage.store import LineageStore

    rng = random.Random(2)
    start = datetime.now(timezone.utc) - timedelta(days=3)
    records: list[RunRecord] = []
    for sweep in range(SWEEPS):
        created = start + timedelta(hours=sweep)
        sweep_id = f"{created:%Y%m%d-%H%M%S}-{sweep:06x}"
        jobs = []
        for job in range(JOBS):
            overrides = [f"train.lr={0.001 * (job + 1)}", f"train.epochs={10 + job % 4}"]
            metrics = {
                "metrics.json:loss": round(rng.uniform(0.2, 2), 5),
                "metrics.json:acc": round(rng.uniform(0.5, 0.99), 5),
            }
            jobs.append(JobResult(job, overrides, "succeeded", 1.0, metrics, {"train": "ran"}))
            moment = created + timedelta(seconds=10 * job)
            records.append(_record("train", moment, overrides, rng))
        folder = Path(sweeps_root(str(path / ".llmpipe"))) / sweep_id
        (folder / "jobs").mkdir(parents=True)
        save_record(
            str(folder),
            SweepRecord(
                sweep_id,
                created.isoformat(timespec="seconds"),
                [],
                "basic",
                jobs,
                ["prepare"],
                100.0,
            ),
        )
    while len(records) < RECORDS:
        moment = start + timedelta(minutes=len(records))
        stage = "prepare" if len(records) % 2 else "train"
        records.append(_record(stage, moment, [], rng))
    store = LineageStore(str(path / ".llmpipe" / "lineage"))
    for index in range(0, len(records), 100):
        store.append(records[index : index + 100])


def _record(stage: str, moment: datetime, overrides: list[str], rng: random.Random):  # noqa: ANN202
    from llmpipe.lineage.record import ArtifactRef, RunRecord

    digest = f"{rng.getrandbits(128):032x}"
    deps = [ArtifactRef(f"{stage}.py", f"{rng.getrandbits(128):032x}", 100)]
    if stage == "train":
        deps.append(ArtifactRef("data/clean.txt", "0" * 32, 9))
        outs = [
            ArtifactRef("model.bin", digest, 10),
            ArtifactRef("logs/loss.csv", digest[::-1], 50),
        ]
    else:
        outs = [ArtifactRef("data/clean.txt", "0" * 32, 9)]
    params = (
        {"params.yaml": {"train": {"lr": 0.01, "epochs": 10, "seed": 7}}}
        if stage == "train"
        else {}
    )
    return RunRecord.new(stage=stage, cmd=f"python {stage}.py", started_at=moment,
                         ended_at=moment + timedelta(seconds=2), status="ran", deps=deps,
                         outs=outs, params=params, overrides=overrides)  # fmt: skip


class Server:
    """`llmpipe ui --port 0` on the project, until closed."""

    def __init__(self, project: Path, log: Path) -> None:
        self.output = open(log, "w")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "llmpipe", "ui", "--port", "0"], cwd=project, env=ENV,
            stdin=subprocess.DEVNULL, stdout=self.output, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            found = re.search(r"at http://127\.0\.0\.1:(\d+)/", log.read_text())
            if found:
                self.port = int(found.group(1))
                return
            time.sleep(0.02)
        raise SystemExit(f"llmpipe ui did not start:\n{log.read_text()}")

    def ttfb(self, path: str) -> tuple[float, float]:
        """Seconds to the first byte of the response, and to its last."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        start = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        first = time.perf_counter() - start
        response.read()
        total = time.perf_counter() - start
        connection.close()
        if response.status != 200:
            raise SystemExit(f"GET {path}: HTTP {response.status}")
        return first, total

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        self.output.close()


def measure_http(server: Server, repeat: int) -> list[tuple[str, float, float, float]]:
    """(page, cold TTFB, best warm TTFB, best warm total) for each page, experiments first."""
    read_by_all = "/lineage?path=data/clean.txt&hash=" + "0" * 32  # what every train run read
    pages = [
        "/experiments",
        "/pipeline",
        "/lineage?path=model.bin",
        read_by_all,
        "/plots",
        "/registry",
        "/audit",
    ]
    rows = []
    for page in pages:
        cold, _ = server.ttfb(page)
        warm = [server.ttfb(page) for _ in range(repeat)]
        rows.append((page, cold, min(w[0] for w in warm), min(w[1] for w in warm)))
    return rows


def measure_browser(port: int, repeat: int) -> tuple[float, float, int] | None:
    """(best seconds to a rendered, sortable table; best seconds for one sort click; rows)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return None
    if not os.access(CHROMIUM, os.X_OK):
        return None
    url = f"http://127.0.0.1:{port}/experiments"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        rendered, sorting = [], []
        for _ in range(repeat):
            page.goto(url)
            page.wait_for_selector("body[data-ready=experiments]")
            rendered.append(
                page.evaluate("performance.getEntriesByName('experiments-ready')[0].startTime")
                / 1000
            )
            sorting.append(page.evaluate(
                "() => { const t = performance.now();"
                " document.querySelector(\"th[data-col='metric:metrics.json:loss']\").click();"
                " return (performance.now() - t) / 1000; }"
            ))  # fmt: skip
        rows = page.locator("#experiments tbody tr").count()
        browser.close()
    return min(rendered), min(sorting), rows


def report(http_rows, browser, repeat: int, records: int, experiments: int) -> str:  # noqa: ANN001
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True
    ).stdout.strip()
    lines = [
        f"## Dashboard (`llmpipe ui`), run of {stamp}",
        "",
        f"Command: `python benchmarks/bench_ui.py --repeat {repeat}`. A project with {records} lineage "
        f"records and {experiments} experiments (workspace, {BRANCHES} branches x {COMMITS} commits, "
        f"{SWEEPS} sweeps x {JOBS} jobs); a real server on loopback. Cold: the first request after the "
        f"server starts; warm: best of {repeat}. Machine: {platform.platform()}, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs, llmpipe at {commit}.",
        "",
        "| page | cold: first byte (s) | warm: first byte (s) | warm: whole page (s) | target (warm first byte) | met |",
        "|---|---:|---:|---:|---|---|",
    ]
    for page, cold, warm, total in http_rows:
        met = "yes" if warm <= TARGETS["ttfb"] else "**no**"
        lines.append(
            f"| `{page}` | {cold:.3f} | {warm:.3f} | {total:.3f} | <= {TARGETS['ttfb']} s | {met} |"
        )
    lines.append("")
    if browser is None:
        lines.append("Browser timings skipped: needs Playwright and Chromium at /usr/bin/chromium.")
    else:
        rendered, sorting, rows = browser
        met = "yes" if rendered <= TARGETS["table"] else "**no**"
        lines += [
            "| in headless Chromium | seconds | target | met |",
            "|---|---:|---|---|",
            f"| experiments table ({rows} rows) rendered and sortable, from navigation start | {rendered:.3f} | <= {TARGETS['table']} s | {met} |",
            f"| one click sorting the {rows} rows by a metric | {sorting:.3f} | | |",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--output", help="Append the report to this file.")
    parser.add_argument("--keep", action="store_true", help="Keep the generated project.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-ui-"))
    try:
        project = work / "project"
        print("generating the project...", file=sys.stderr)
        make_project(project)
        server = Server(project, work / "ui.log")
        try:
            http_rows = measure_http(server, args.repeat)
            browser = measure_browser(server.port, args.repeat)
        finally:
            server.close()
        experiments = 1 + BRANCHES * COMMITS + SWEEPS * JOBS
        text = report(http_rows, browser, args.repeat, RECORDS, experiments)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    print(text)
    if args.output:
        with open(args.output, "a", encoding="utf-8") as handle:
            handle.write("\n" + text)


if __name__ == "__main__":
    main()
