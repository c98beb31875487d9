"""The dashboard's pages through the ASGI test client, on a project with 3 branches and a
6-job sweep: what each page shows is what the library (and the CLI) says."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from llmpipe.hydra.results import load_record
from tests.conftest import llmpipe_env
from tests.ui.experiments_project import BRANCHES, llmpipe
from tests.ui.pagetext import rows, text

PAGES = ["/pipeline", "/experiments", "/plots", "/lineage", "/registry", "/audit"]


def sweep_of(root):  # noqa: ANN001, ANN201
    return load_record(str(root / ".llmpipe"))


def test_every_page_renders_and_links_nothing_outside(experiments_project, client) -> None:  # noqa: ANN001
    web = client(experiments_project)
    assert web.get("/", follow_redirects=False).headers["location"] == "/pipeline"
    for path in PAGES:
        page = web.get(path)
        assert page.status_code == 200, (path, page.text[:500])
        assert f'<a href="{path}" class="active" aria-current="page">' in page.text
        assert "read-only" in page.text
        # Scripts, styles and images are the dashboard's own: nothing is fetched elsewhere.
        assert not re.search(r"(src|href)=\"(https?:)?//", page.text), path


def test_experiments_are_the_workspace_branches_and_sweep_jobs(experiments_project, client) -> None:  # noqa: ANN001
    page = client(experiments_project).get("/experiments")
    table = {row["_id"]: row for row in rows(page.text, "experiments")}
    sweep = sweep_of(experiments_project)
    jobs = [f"job:{sweep.id}:{n}" for n in range(6)]
    assert set(table) == {"workspace", *(f"branch:{b}" for b in BRANCHES), *jobs}
    for branch, (lr, epochs) in BRANCHES.items():
        row = table[f"branch:{branch}"]
        assert (row["kind"], row["train.lr"], row["train.epochs"]) == (
            "branch",
            str(lr),
            str(epochs),
        )
        assert row["note"] == f"experiment {branch}: lr {lr}"
    for job in sweep.jobs:
        row = table[f"job:{sweep.id}:{job.job}"]
        shown = json.loads(llmpipe(experiments_project, "sweep", "show", "--json"))["jobs"][job.job]
        assert row["status"] == "succeeded" and row["note"] == " ".join(shown["overrides"])
        assert float(row["loss"]) == pytest.approx(shown["metrics"]["metrics.json:loss"], rel=1e-4)
        lr, epochs = (o.split("=")[1] for o in job.overrides)
        assert (row["train.lr"], row["train.epochs"]) == (lr, epochs)
        assert (
            row["train.seed"] == "7"
        )  # tracked by the job's stage runs (lineage), not an override
    # The same values `metrics show -A --params` prints for each branch.
    for branch in BRANCHES:
        shown = json.loads(llmpipe(experiments_project, "metrics", "show", "-a", "--json"))
        expected = shown[branch]["data"]["metrics.json"]["data"]["acc"]
        assert float(table[f"branch:{branch}"]["acc"]) == pytest.approx(expected, rel=1e-4)


def test_older_commits_are_rows_of_their_own(experiments_copy, client) -> None:  # noqa: ANN001
    before = subprocess.run(
        ["git", "rev-parse", "main"], cwd=experiments_copy, capture_output=True, text=True
    ).stdout.strip()
    (experiments_copy / "notes.txt").write_text("a commit after the experiment\n")
    llmpipe_git(experiments_copy, "add", "notes.txt")
    llmpipe_git(experiments_copy, "commit", "-q", "-m", "notes")
    table = {
        r["_id"]: r for r in rows(client(experiments_copy).get("/experiments").text, "experiments")
    }
    assert table[f"commit:{before}"]["experiment"] == before[:7]
    assert table[f"commit:{before}"]["note"] == "experiment main: lr 0.1"
    narrow = client(experiments_copy, max_commits=0).get("/experiments").text
    assert f"commit:{before}" not in narrow


def llmpipe_git(path, *args: str) -> None:  # noqa: ANN001
    subprocess.run(["git", *args], cwd=path, check=True, env=llmpipe_env())


def test_compare_two_rows(experiments_project, client) -> None:  # noqa: ANN001
    job = f"job:{sweep_of(experiments_project).id}:5"  # lr 0.2, 16 epochs
    page = client(experiments_project).get(f"/experiments/compare?a=branch:exp-fast&b={job}")
    assert page.status_code == 200
    params = {r["param"]: r for r in rows(page.text, "diff-params")}
    assert (params["train.lr"]["exp-fast"], params["train.lr"]["change"]) == ("0.3", "-0.1")
    assert params["train.epochs"]["relative"] == "+60.00%"
    assert params["train.seed"]["change"] == "0"
    metrics = {r["metric"]: r for r in rows(page.text, "diff-metrics")}
    assert set(metrics) == {"acc", "loss"}
    unknown = client(experiments_project).get("/experiments/compare?a=branch:nope&b=workspace")
    assert unknown.status_code == 404 and "no experiment 'branch:nope'" in text(unknown.text)


def test_plots_overlay_branches_and_sweep_jobs(experiments_project, client) -> None:  # noqa: ANN001
    sweep = sweep_of(experiments_project)
    query = f"rows=branch:exp-slow&rows=job:{sweep.id}:3&rows=workspace"
    page = client(experiments_project).get(f"/plots?{query}")
    series = re.findall(
        r'<polyline class="series"[^>]*points="([^"]+)"><title>([^<]+)</title>', page.text
    )
    series = [(name, points) for points, name in series]
    short = sweep.id.rsplit("-", 1)[-1]
    assert [name for name, _ in series] == ["exp-slow", f"{short}#3", "workspace"]
    # exp-slow trained 12 epochs, job 3 16 (read from the cache by the job's lineage), main 10.
    assert [len(points.split()) for _, points in series] == [12, 16, 10]


def test_plot_exports(experiments_project, client) -> None:  # noqa: ANN001
    web = client(experiments_project)
    svg = web.get("/plots/export.svg?rows=workspace&plot=logs/loss.csv")
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert 'filename="logs_loss.csv.svg"' in svg.headers["content-disposition"]
    assert svg.text.startswith("<svg") and "<title>workspace</title>" in svg.text
    pytest.importorskip("PIL", reason="PNG export needs Pillow (llmpipe[plots])")
    png = web.get("/plots/export.png?rows=workspace&rows=branch:exp-fast&plot=logs/loss.csv")
    assert png.headers["content-type"] == "image/png"
    assert png.content.startswith(b"\x89PNG\r\n\x1a\n")
    assert web.get("/plots/export.svg?rows=workspace&plot=nope").status_code == 404


def test_lineage_walks_back_to_the_raw_data_and_forward_to_every_run_reading_it(
    experiments_project, client
) -> None:  # noqa: ANN001
    page = client(experiments_project).get("/lineage?path=data/clean.txt")
    assert page.status_code == 200
    assert "the version dvc.lock records" in page.text
    upstream = re.findall(
        r'<article class="run-card run-\w+" data-stage="(\w+)"', _section(page.text, "upstream")
    )
    assert upstream == ["prepare"]
    assert [r["path"] for r in rows(page.text, "raw-inputs")] == ["prepare.py", "raw.txt"]
    derived = re.findall(r'data-stage="(\w+)"', _section(page.text, "downstream"))
    # Every train run read this data: the three branches' and each sweep job's.
    assert derived.count("train") >= 3 + 6 and set(derived) == {"train"}
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="graph lineage-graph"' in page.text


def _section(html: str, element_id: str) -> str:
    match = re.search(rf'<div id="{element_id}">(.*?)</div>', html, re.S)
    assert match, f"no #{element_id}"
    return match.group(1)


def test_lineage_start_page_lists_outputs(experiments_project, client) -> None:  # noqa: ANN001
    page = client(experiments_project).get("/lineage")
    assert "logs/loss.csv" in text(page.text) and "data/clean.txt" in text(page.text)
    assert "No registered models." in page.text


@pytest.mark.parametrize(
    "asked", ["../../etc/passwd", "/etc/passwd", "data/../../outside", "C:/Windows"]
)
def test_lineage_refuses_paths_outside_the_project(experiments_project, client, asked) -> None:  # noqa: ANN001
    page = client(experiments_project).get("/lineage", params={"path": asked})
    assert page.status_code == 404
    shown = text(page.text)
    assert "is outside the project" in shown or "is not a path inside the project" in shown


def test_only_the_packaged_static_files_are_served(experiments_project, client) -> None:  # noqa: ANN001
    web = client(experiments_project)
    assert web.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert web.get("/static/style.css").status_code == 200
    for path in (
        "/static/..%2f..%2f..%2fpyproject.toml",
        "/static/%2e%2e/app.py",
        "/static/templates",
        "/static/__init__.py",
        "/dvc.yaml",
        "/params.yaml",
    ):
        assert web.get(path).status_code == 404, path


def test_the_host_header_must_name_this_machine(experiments_project, client) -> None:  # noqa: ANN001
    from llmpipe.ui.guard import LOOPBACK_HOSTS

    for base in ("http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"):
        web = client(experiments_project, allowed_hosts=LOOPBACK_HOSTS)
        web.base_url = base
        assert web.get("/pipeline").status_code == 200, base
    rebound = client(experiments_project, allowed_hosts=LOOPBACK_HOSTS)
    rebound.base_url = "http://attacker.example:8080"  # a DNS name pointed at 127.0.0.1
    refused = rebound.get("/experiments")
    assert refused.status_code == 400 and "unknown host" in refused.text


def test_responses_forbid_foreign_scripts_and_framing(experiments_project, client) -> None:  # noqa: ANN001
    headers = client(experiments_project).get("/pipeline").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


def test_stage_page(experiments_project, client) -> None:  # noqa: ANN001
    page = client(experiments_project).get("/pipeline/stage?name=train")
    assert page.status_code == 200
    assert "python train.py" in page.text
    runs = rows(page.text, "runs")
    assert runs and {r["status"].split()[0] for r in runs} <= {"ran", "restored"}
    assert any("train.lr=0.2" in r["overrides"] for r in runs)  # the sweep's runs
    missing = client(experiments_project).get("/pipeline/stage?name=nope")
    assert missing.status_code == 404 and "no stage 'nope'" in text(missing.text)


def test_pipeline_states_and_reasons(experiments_copy, client) -> None:  # noqa: ANN001
    web = client(experiments_copy)
    states = {r["stage"]: r for r in rows(web.get("/pipeline").text, "stages")}
    assert {s: r["state"] for s, r in states.items()} == {
        "prepare": "up-to-date",
        "train": "up-to-date",
    }
    params = (experiments_copy / "params.yaml").read_text().replace("lr: 0.1", "lr: 0.5")
    (experiments_copy / "params.yaml").write_text(params)
    states = {r["stage"]: r for r in rows(web.get("/pipeline").text, "stages")}
    assert states["train"]["state"] == "changed"
    assert states["train"]["why"] == "param 'train' changed"
    (experiments_copy / "train.py").write_text("raise SystemExit(3)\n")
    failed = subprocess.run(
        [sys.executable, "-m", "llmpipe", "repro"], cwd=experiments_copy, env=llmpipe_env(),
        capture_output=True, text=True,
    )  # fmt: skip
    assert failed.returncode != 0
    states = {r["stage"]: r for r in rows(web.get("/pipeline").text, "stages")}
    assert states["train"]["state"] == "failed"
    assert "exit status 3" in text(web.get("/pipeline/stage?name=train").text)


def test_a_broken_pipeline_is_shown_not_raised(experiments_copy, client) -> None:  # noqa: ANN001
    (experiments_copy / "dvc.yaml").write_text("stages:\n  train:\n    cmd: [\n")
    page = client(experiments_copy).get("/pipeline")
    assert page.status_code == 200 and 'id="pipeline-error"' in page.text
    assert "dvc.yaml" in text(page.text)
