"""Rendering shared by commands: stage lines, progress bars, JSON, common options."""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:  # only annotations: importing run.status would slow every command's start
    from ..run.status import Reason
    from ..stage import Stage

# Below these sizes a bar would only flicker; hashing is over before it draws.
_BAR_MIN_BYTES = 64 << 20
_BAR_MIN_ITEMS = 2000
_BAR_MIN_TRANSFERS = 20  # network objects take long enough to be worth a bar


def emit_json(data: Any, like_dvc: bool = False) -> None:
    """`data` as JSON; `like_dvc` prints it as dvc does (on one line unless on a terminal)."""
    indent = None if like_dvc and not sys.stdout.isatty() else 2
    click.echo(json.dumps(data, indent=indent, default=str))


def verbose_option(func):  # noqa: ANN001, ANN201
    return click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")(func)


def quiet_option(func):  # noqa: ANN001, ANN201
    return click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")(func)


def quiet_stdout(func):  # noqa: ANN001, ANN201
    """`-q/--quiet` as dvc has it on commands that print data: nothing on stdout (errors
    and warnings still go to stderr)."""

    @functools.wraps(func)
    def run(*args: Any, quiet: bool, **kwargs: Any) -> Any:
        if not quiet:
            return func(*args, **kwargs)
        with open(os.devnull, "w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
            return func(*args, **kwargs)

    return quiet_option(run)


def files_summary(counts: Iterable[tuple[str, int]]) -> str:
    """dvc's "5 files fetched, 1 file modified and 4 files added" from (what, how many);
    "" when every count is 0."""
    parts = [f"{n} file{'s' if n > 1 else ''} {what}" for what, n in counts if n]
    if len(parts) < 2:
        return "".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def describe_reasons(reasons: list[Reason] | tuple[Reason, ...]) -> str:
    return "; ".join(str(r) for r in reasons)


class CliReporter:
    """Prints a line when a stage starts, is skipped, restored, finishes or fails."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._lock = threading.Lock()

    def _say(self, text: str, err: bool = False, **style: Any) -> None:
        if self.quiet and not err:
            return
        with self._lock:
            click.secho(text, err=err, **style)

    def stage_skipped(self, stage: Stage, why: str) -> None:
        self._say(f"Stage '{stage.address}' is {why}, skipping", dim=True)

    def stage_started(self, stage: Stage, reasons: list[Reason]) -> None:
        self._say(f"Running stage '{stage.address}' ({describe_reasons(reasons)})", bold=True)

    def stage_restored(self, stage: Stage, duration: float) -> None:
        self._say(f"Stage '{stage.address}' restored from run-cache ({duration:.2f}s)", fg="cyan")

    def stage_finished(self, stage: Stage, duration: float) -> None:
        self._say(f"Stage '{stage.address}' done in {duration:.2f}s", fg="green")

    def stage_failed(self, stage: Stage, error: str) -> None:
        # An `ERROR:` line, as every failure gets; most messages name the stage already.
        named = error.startswith(f"stage '{stage.address}'")
        self._say(
            f"ERROR: {error if named else f'stage {stage.address!r} failed: {error}'}",
            err=True,
            fg="red",
        )

    def would_run(self, stage: Stage, reasons: list[Reason]) -> None:
        self._say(f"Would run stage '{stage.address}': {describe_reasons(reasons)}")

    def stage_event(self, stage: Stage, event: str, detail: str) -> None:
        name = stage.address
        if event == "output":
            # The worker's output, collected when the stage ended, each line marked.
            self._say("\n".join(f"{name}| {line}" for line in detail.splitlines()))
        elif event == "lost":
            self._say(f"Stage '{name}' lost its worker ({detail}); sending it again", fg="yellow")
        else:
            self._say(f"Stage '{name}' {event} on {detail}", dim=event == "queued")


_TRANSFERS = ("pushing", "fetching")


class CliProgress:
    """A rich progress bar that appears only for work big enough to be worth watching.

    Hashing counts bytes; transfers ("pushing …", "fetching …") count objects on
    the bar and also show the bytes moved and their speed; other work counts items.
    """

    def __init__(self, enabled: bool = True, console: Any = None) -> None:
        self.enabled = enabled and (console is not None or sys.stderr.isatty())
        self.console = console
        self._bar = None
        self._task = None
        self._bytes = 0
        self._lock = threading.Lock()

    def start(self, description: str, total: int | None) -> None:
        if not self.enabled or not total:
            return
        counts_bytes = description.startswith("hashing")
        min_total = _BAR_MIN_BYTES if counts_bytes else _BAR_MIN_ITEMS
        if description.startswith(_TRANSFERS):
            min_total = _BAR_MIN_TRANSFERS
        if total < min_total:
            return
        from rich import progress as bars

        if counts_bytes:
            columns = (bars.DownloadColumn(), bars.TransferSpeedColumn())
        elif description.startswith(_TRANSFERS):
            columns = (bars.MofNCompleteColumn(), *_byte_columns())
        else:
            columns = (bars.MofNCompleteColumn(),)
        with self._lock:
            self.finish_unlocked()
            self._bar = bars.Progress(
                "[progress.description]{task.description}",
                bars.BarColumn(),
                *columns,
                bars.TimeRemainingColumn(),
                transient=True,
                console=self.console,
            )
            self._bar.start()
            self._bytes = 0
            self._task = self._bar.add_task(description, total=total, moved=0)

    def advance(self, n: int) -> None:
        if self._bar is not None and self._task is not None:
            self._bar.advance(self._task, n)

    def add_bytes(self, n: int) -> None:
        with self._lock:
            if self._bar is None or self._task is None:
                return
            self._bytes += n
            self._bar.update(self._task, moved=self._bytes)

    def finish(self) -> None:
        with self._lock:
            self.finish_unlocked()

    def finish_unlocked(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar, self._task = None, None


def _byte_columns() -> tuple[Any, Any]:
    """Columns for a transfer's bytes so far and their rate (the bar itself counts objects)."""
    from rich.filesize import decimal
    from rich.progress import ProgressColumn
    from rich.text import Text

    class MovedColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            return Text(decimal(int(task.fields.get("moved", 0))), style="progress.download")

    class RateColumn(ProgressColumn):
        def render(self, task: Any) -> Text:
            elapsed = task.elapsed or 0.0
            moved = int(task.fields.get("moved", 0))
            if elapsed <= 0 or not moved:
                return Text("?", style="progress.data.speed")
            return Text(f"{decimal(int(moved / elapsed))}/s", style="progress.data.speed")

    return MovedColumn(), RateColumn()
