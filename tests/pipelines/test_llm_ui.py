"""The reference pipeline in the dashboard, in a real headless Chromium: each page loads
without a console error; a stage opens from the graph; lineage walks from the released
model back to the corpus; a promotion from the page (writes enabled) lands in the audit
trail. The screenshots (test-artifacts/ui/) are the ones docs/ui.md shows."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.browser import ui_server
from tests.conftest import llmpipe_env
from tests.pipelines.conftest import needs_torch

needs_torch()
pytest.importorskip("starlette", reason="the dashboard needs: pip install -e '.[ui]'")

GATES = """\
gates:
  production:
    - metrics.test_perplexity < metrics.uniform_perplexity / 5
"""


@pytest.fixture
def released(built_copy, key_home, monkeypatch):  # noqa: ANN001, ANN201
    """The built pipeline with its release registered as tiny-gpt 0.1.0 by a key in use."""
    from llmpipe.security import keys

    key = keys.generate_key("ci")
    monkeypatch.setenv("LLMPIPE_KEY_FILE", os.fspath(key.path))
    (built_copy.path / ".llmpipe" / "registry.yaml").write_text(GATES)
    registered = subprocess.run(
        [sys.executable, "-m", "llmpipe", "registry", "register", "tiny-gpt", "models/release",
         "-m", "tiny reference model"],
        cwd=built_copy.path, env=llmpipe_env(), capture_output=True, text=True,
    )  # fmt: skip
    assert registered.returncode == 0, registered.stderr
    return built_copy


def test_reference_pipeline_pages_lineage_and_a_promotion(released, page) -> None:  # noqa: ANN001
    with ui_server(released.path, "--allow-writes") as server:
        page.goto(f"{server.url}/pipeline")
        assert page.locator("svg.pipeline-graph g.node.state-up-to-date").count() == 4
        page.screenshot_as("pipeline")
        page.click("svg.pipeline-graph g.node[data-id='train'] a")
        page.wait_for_url("**/pipeline/stage?name=train")
        assert "python -m pipelines.llm.train" in page.inner_text("main")
        page.screenshot_as("stage")
        for name in ("experiments", "plots"):
            page.goto(f"{server.url}/{name}")
            assert page.locator("nav a.active").inner_text().lower() == name
        assert page.locator("section.figure[data-plot='reports/train_log.csv']").count() == 1

        # From the released model back to the corpus.
        page.goto(f"{server.url}/registry")
        page.click("tr[data-version='0.1.0'] a.lineage-link")
        page.wait_for_selector("#upstream")
        stages = page.locator("#upstream article").evaluate_all("a => a.map(e => e.dataset.stage)")
        assert stages == ["prepare", "train", "checkpoint"]
        page.screenshot_as("lineage")
        page.click("#upstream article[data-stage='checkpoint'] a.walk:text-is('data/prepared')")
        page.wait_for_selector("#walk-title:has-text('data/prepared')")
        corpus = page.locator("#upstream article[data-stage='prepare']")
        assert 'data.source="stdlib"' in corpus.inner_text()

        # A promotion from the page, through the gates and into the audit trail.
        page.goto(f"{server.url}/registry")
        assert page.inner_text("#registry-verify").startswith("Verified: 1 event(s)")
        form = page.locator("tr[data-version='0.1.0'] form.promote")
        form.locator("select").select_option("production")
        form.locator("button").click()
        page.wait_for_selector("#notice")
        assert "Promoted tiny-gpt 0.1.0 to 'production'" in page.inner_text("#notice")
        assert "PASS metrics.test_perplexity < metrics.uniform_perplexity / 5" in page.inner_text(
            "#notice"
        )
        assert page.inner_text("#model-tiny-gpt .alias[data-alias='production']") == (
            "production → 0.1.0"
        )
        page.screenshot_as("registry")
        page.goto(f"{server.url}/audit")
        latest = page.locator("#audit-records tbody tr").first
        assert "registry promote tiny-gpt 0.1.0 --to production" in latest.inner_text()
        assert latest.locator("td.result").inner_text() == "ok"
        page.screenshot_as("audit")
