"""Fixtures for the dashboard's tests: a real `llmpipe ui` server, and a real browser.

The browser is Debian's headless Chromium (`apt-get install chromium`, done by
.ci/run) driven by Playwright for Python; Playwright's own browser download is
not used. One browser serves the whole session; each test gets a fresh page
whose console errors (and uncaught exceptions, and failed requests) fail it.
Screenshots go to `test-artifacts/ui/` (git-ignored); docs/ui.md shows copies.

Registered for every test directory through `pytest_plugins` in tests/conftest.py.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT, llmpipe_env

CHROMIUM = os.environ.get("LLMPIPE_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = ROOT / "test-artifacts" / "ui"
VIEWPORT = {"width": 1280, "height": 800}


@dataclass(frozen=True)
class Served:
    url: str  # no trailing slash
    log: Path  # what the command printed

    def output(self) -> str:
        return self.log.read_text()


@contextlib.contextmanager
def ui_server(project: Path, *args: str, env: dict[str, str] | None = None) -> Iterator[Served]:
    """`llmpipe ui --port 0 ARGS` serving `project` until the block ends.

    Its output goes to a file (a pipe nobody reads could fill up and stall the server).
    """
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "ui.log"
        with open(log, "w") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "llmpipe", "ui", "--port", "0", *args],
                cwd=project,
                env=env or llmpipe_env(),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        try:
            yield Served(_announced_url(process, log).rstrip("/"), log)
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _announced_url(process: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> str:
    """The URL the server prints once it listens."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"at (http://\S+/) ", log.read_text())
        if found:
            return found.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.05)
    raise AssertionError(f"llmpipe ui did not start (exit {process.poll()}):\n{log.read_text()}")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium for the session; the tests skip where it or Playwright is missing."""
    sync_api = pytest.importorskip(
        "playwright.sync_api", reason="browser tests need Playwright: pip install -e '.[dev]'"
    )
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM}: apt-get install chromium")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Page:
    """A browser page that records every console error, page error and failed request."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.errors: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        page.on("requestfailed", self._failed)
        page.on("response", self._response)

    def _console(self, message: Any) -> None:
        if message.type in ("error", "assert"):
            self.errors.append(f"console {message.type}: {message.text}")

    def _failed(self, request: Any) -> None:
        failure = request.failure or ""
        if "ERR_ABORTED" not in failure:  # a download or a navigation away
            self.errors.append(f"request failed: {request.url} {failure}")

    def _response(self, response: Any) -> None:
        if response.status >= 500:
            self.errors.append(f"HTTP {response.status}: {response.url}")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.page, name)

    def screenshot_as(self, name: str) -> Path:
        """Save a full-page screenshot as test-artifacts/ui/NAME.png."""
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def page(browser: Any) -> Iterator[Page]:
    """A fresh page (own context: no cookies or cache shared); console errors fail the test."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    context.set_default_timeout(15_000)
    wrapped = Page(context.new_page())
    try:
        yield wrapped
    finally:
        context.close()
    assert wrapped.errors == [], "the browser reported errors"
