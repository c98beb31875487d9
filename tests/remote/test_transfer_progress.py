"""Transfer progress: objects and bytes reach the progress object, and the bar shows them."""

from __future__ import annotations

import io
import shutil

from rich.console import Console

from llmpipe.cli.render import CliProgress
from llmpipe.ops.transfer import TransferRequest, fetch, push
from llmpipe.repo import Repo


class Recorder:
    def __init__(self) -> None:
        self.totals: list[int | None] = []
        self.objects = 0
        self.bytes = 0

    def start(self, description: str, total: int | None) -> None:
        self.totals.append(total)

    def advance(self, n: int) -> None:
        self.objects += n

    def add_bytes(self, n: int) -> None:
        self.bytes += n

    def finish(self) -> None:
        pass


def test_push_and_fetch_report_every_object_and_byte(project, tmp_path) -> None:
    sizes = {f"data/f{i}.bin": 1000 + i for i in range(30)}
    for path, size in sizes.items():
        project.write(path, "x" * size)
    project.ok("add", "data")
    project.ok("remote", "add", "-d", "store", str(tmp_path / "remote"))
    repo = Repo(str(project.path))
    pushed = Recorder()
    push(repo, TransferRequest(audit=False), pushed)
    manifest = next((project.path / ".dvc" / "cache" / "files").rglob("*.dir"))
    manifest_size = manifest.stat().st_size
    assert pushed.objects == 31
    assert pushed.bytes == sum(sizes.values()) + manifest_size
    shutil.rmtree(project.path / ".dvc" / "cache")
    fetched = Recorder()
    fetch(Repo(str(project.path)), TransferRequest(audit=False), fetched)
    assert fetched.objects == 31
    assert fetched.bytes == pushed.bytes
    assert 30 in fetched.totals


def render(bar: CliProgress) -> str:
    out = Console(file=io.StringIO(), width=160, color_system=None)
    out.print(bar._bar.get_renderable())
    return out.file.getvalue()


def test_the_transfer_bar_shows_objects_bytes_and_speed() -> None:
    bar = CliProgress(console=Console(file=io.StringIO(), force_terminal=True))
    bar.start("pushing to store", 40)
    bar.advance(10)
    bar.add_bytes(3_000_000)
    text = render(bar)
    bar.finish()
    assert "pushing to store" in text
    assert "10/40" in text
    assert "3.0 MB" in text and "/s" in text


def test_no_bar_for_a_handful_of_objects_or_when_quiet() -> None:
    small = CliProgress(console=Console(file=io.StringIO(), force_terminal=True))
    small.start("pushing to store", 3)
    small.add_bytes(10)  # no bar: nothing to update, and no error
    assert small._bar is None
    quiet = CliProgress(enabled=False, console=Console(file=io.StringIO()))
    quiet.start("fetching from store", 500)
    assert quiet._bar is None
