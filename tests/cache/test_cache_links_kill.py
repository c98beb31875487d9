"""A checkout killed mid-copy leaves no partial file under an output's name (#15 item 10).

Found by the fault-injection suite: a partial copy at the final name looked like a
file the user wrote, and the next `checkout` refused to overwrite it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from tests.conftest import ROOT

SIZE = 4 * 1024 * 1024
COPY_MANY = """
import sys
from llmpipe.cache.links import Linker
linker = Linker(["copy"])
print("go", flush=True)
for i in range(200):
    linker.link_new(sys.argv[1], f"{sys.argv[2]}/f{i:03d}.bin")
"""


def test_a_killed_copy_leaves_whole_files_or_none(tmp_path):
    obj = tmp_path / "object"
    obj.write_bytes(os.urandom(SIZE))
    for attempt in range(3):
        dst = tmp_path / f"out{attempt}"
        dst.mkdir()
        process = subprocess.Popen(
            [sys.executable, "-c", COPY_MANY, str(obj), str(dst)],
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=subprocess.PIPE,
        )
        assert process.stdout.readline() == b"go\n"
        time.sleep(0.2 + 0.1 * attempt)
        process.send_signal(signal.SIGKILL)
        process.wait()
        process.stdout.close()
        sizes = {p.name: p.stat().st_size for p in dst.iterdir() if not p.name.endswith(".tmp")}
        assert all(size == SIZE for size in sizes.values()), sizes


def test_a_temporary_left_by_a_killed_checkout_is_not_unsaved_work(project):
    project.write(
        "dvc.yaml", "stages:\n  make:\n    cmd: mkdir -p out && echo a > out/a\n    outs: [out]\n"
    )
    project.ok("repro")
    stray = project.path / "out" / f".a.{'0f' * 16}.tmp"
    stray.write_text("half a cop")
    project.ok("checkout")  # no --force needed
    assert not stray.exists()
    mine = project.path / "out" / "notes.tmp"  # a user's file is still protected
    mine.write_text("mine")
    assert project.cli("checkout").code == 1
    assert mine.exists()
