"""The dashboard in a real headless Chromium, on a project with 3 branches and a 6-job
sweep: every page loads without a console error, the experiments table sorts, filters,
chooses columns and compares two rows, plots overlay a branch and sweep jobs, a stage
opens from the graph, lineage walks from a file to its raw data, and the pipeline page
follows a `repro` running in another process. Screenshots: test-artifacts/ui/."""

from __future__ import annotations

import pytest

from llmpipe.hydra.results import load_record
from tests.browser import ui_server
from tests.ui.test_live import held_train

LOSS = "metric:metrics.json:loss"


@pytest.fixture(scope="module")
def served(experiments_project):  # noqa: ANN001, ANN201
    with ui_server(experiments_project) as server:
        yield server


def column(page, key: str) -> list[str]:  # noqa: ANN001
    """The values of column `key` in the rows shown, top to bottom."""
    return page.eval_on_selector_all(
        "#experiments tbody tr:not(.hidden)",
        "(rows, key) => rows.map(r => r.querySelector(`td[data-col='${key}']`).dataset.value)",
        key,
    )


def test_experiments_sort_filter_columns_and_compare(served, page, experiments_project) -> None:  # noqa: ANN001
    page.goto(f"{served.url}/experiments")
    page.wait_for_selector("body[data-ready=experiments]")
    assert page.locator("#experiments tbody tr").count() == 10
    page.screenshot_as("experiments")
    page.click(f"#experiments th[data-col='{LOSS}']")
    losses = [float(v) for v in column(page, LOSS)]
    assert losses == sorted(losses)
    page.click(f"#experiments th[data-col='{LOSS}']")
    assert [float(v) for v in column(page, LOSS)] == sorted(losses, reverse=True)
    page.fill("#filter", "exp-")
    assert page.locator("#experiments tbody tr:not(.hidden)").count() == 2
    assert page.inner_text("#row-count") == "2 of 10 rows"
    page.fill("#filter", "")
    seed = "#experiments th[data-col='param:params.yaml:train.seed']"
    assert not page.is_visible(seed)  # the same in every row: hidden until chosen
    page.click("#columns-menu summary")
    page.check("[data-toggle-col='param:params.yaml:train.seed']")
    assert page.is_visible(seed)
    page.click("#columns-menu summary")
    job = f"job:{load_record(str(experiments_project / '.llmpipe')).id}:5"
    assert page.is_disabled("#compare")
    page.check("input.row-select[value='branch:exp-fast']")
    page.check(f"input.row-select[value='{job}']")
    page.click("#compare")
    page.wait_for_url("**/experiments/compare?*")
    assert page.inner_text("#diff-params").count("train.lr") == 1
    page.check("input.hide-same[data-table='diff-params']")
    assert not page.is_visible("#diff-params tr.same")
    page.screenshot_as("compare")


def test_plots_of_a_branch_and_sweep_jobs_export_as_svg_and_png(
    served, page, experiments_project
) -> None:  # noqa: ANN001
    sweep = load_record(str(experiments_project / ".llmpipe")).id
    page.goto(f"{served.url}/experiments")
    page.wait_for_selector("body[data-ready=experiments]")
    for row in ("branch:exp-slow", f"job:{sweep}:1", f"job:{sweep}:5", "workspace"):
        page.check(f"input.row-select[value='{row}']")
    page.click("#plot")
    page.wait_for_url("**/plots?*")
    assert page.locator("section.figure polyline.series").count() == 4
    page.screenshot_as("plots")
    for kind, magic in (("svg", b"<svg"), ("png", b"\x89PNG")):
        with page.expect_download() as download:
            page.click(f"section.figure a.export-{kind}")
        assert download.value.suggested_filename == f"logs_loss.csv.{kind}"
        with open(download.value.path(), "rb") as handle:
            assert handle.read(4) == magic


def test_stage_lineage_registry_and_audit_pages(served, page) -> None:  # noqa: ANN001
    page.goto(f"{served.url}/pipeline")
    page.click("svg.pipeline-graph g.node[data-id='train'] a")
    page.wait_for_url("**/pipeline/stage?name=train")
    assert "python train.py" in page.inner_text("main")
    page.goto(f"{served.url}/lineage")
    page.click("#output-starts a.start:text-is('logs/loss.csv')")
    page.wait_for_selector("#walk-title")
    page.click("#upstream a.walk:text-is('data/clean.txt') >> nth=0")
    page.wait_for_selector("#raw-inputs")
    raw = page.locator("#raw-inputs tbody td:first-child").all_inner_texts()
    assert raw == ["prepare.py", "raw.txt"]
    assert page.locator("#downstream article[data-stage='train']").count() >= 9
    for name in ("registry", "audit"):
        page.goto(f"{served.url}/{name}")
        assert page.locator("nav a.active").inner_text().lower() == name


def test_the_pipeline_page_follows_a_repro_in_another_process(
    experiments_copy, page, tmp_path
) -> None:  # noqa: ANN001
    gate = tmp_path / "go"
    with ui_server(experiments_copy) as server:
        page.goto(f"{server.url}/pipeline")
        assert page.locator("g.node.state-up-to-date").count() == 2
        repro = held_train(experiments_copy, gate)
        try:
            page.wait_for_selector("g.node.state-running[data-id='train']", timeout=60_000)
            page.wait_for_selector("g.node.state-ran[data-id='prepare']")
            assert page.is_visible("#run-banner")
            page.screenshot_as("pipeline-running")
        finally:
            gate.touch()
            repro.communicate(timeout=120)
        page.wait_for_selector("g.node.state-up-to-date[data-id='train']", timeout=30_000)
        assert not page.is_visible("#run-banner")
