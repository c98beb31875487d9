"""The end of a test run says which suites were skipped and the one command that enables each.

A developer without OpenSSH or an extra installed would otherwise see only a count
of skips. Skips that no install enables (a backend without credentials, say) are
not listed.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

# (what a skip reason mentions, the suite, the one command that enables it)
ENABLERS: tuple[tuple[str, str, str], ...] = (
    (r"OpenSSH", "SSH remotes", "apt-get install -y openssh-server openssh-client"),
    (r"torch|safetensors|\[llm\]", "reference LLM pipeline", "pip install -e '.[llm]'"),
    (r"sshfs|\[ssh\]", "SSH remotes", "pip install -e '.[ssh]'"),
    (r"moto|obstore|dvc.s3|\[s3\]", "S3 remotes", "pip install -e '.[dev]'"),
    (r"\bdvc\b", "comparisons with the real dvc", "pip install -e '.[dev]'"),
    (r"blake3", "blake3 hashing", "pip install -e '.[blake3]'"),
    (r"PIL|Pillow", "PNG plots", "pip install -e '.[plots]'"),
    (r"duckdb", "lineage through DuckDB", "pip install -e '.[dev]'"),
    (r"hypothesis", "fuzzing", "pip install -e '.[dev]'"),
)
# Skips that describe the test's own situation, not a missing tool.
BY_DESIGN = re.compile(r"no credentials|no server to stop|best effort|not in this checkout")


# Heavy suites that ran bounded in this run: (suite, how much ran, the full run's command).
BOUNDED: list[tuple[str, str, str]] = []


def note_bounded(suite: str, amount: str, full_command: str) -> None:
    """Record that `suite` ran only `amount` (printed at the end of the run)."""
    BOUNDED.append((suite, amount, full_command))


def skipped_suites(reasons: list[str]) -> dict[tuple[str, str], int]:
    """{(suite, command): number of skipped tests}; unknown reasons are their own suite."""
    found: Counter[tuple[str, str]] = Counter()
    for reason in reasons:
        if BY_DESIGN.search(reason):
            continue
        match = next((e for e in ENABLERS if re.search(e[0], reason)), None)
        found[(match[1], match[2]) if match else (reason, "")] += 1
    return dict(found)


def _reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    text = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return text.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ANN001, ARG001
    if BOUNDED:
        terminalreporter.section("bounded suites", sep="-")
        for suite, amount, command in BOUNDED:
            terminalreporter.write_line(f"{suite}: ran {amount}; the full run: `{command}`")
    reasons = [_reason(r) for r in terminalreporter.stats.get("skipped", ())]
    suites = skipped_suites(reasons)
    if not suites:
        return
    terminalreporter.section("skipped suites", sep="-")
    for (suite, command), count in sorted(suites.items()):
        how = f": enable with `{command}`" if command else ""
        terminalreporter.write_line(f"{suite} ({count} test{'s' * (count != 1)}){how}")
