"""A save killed at any moment leaves only correct objects and ignorable temporaries."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from cache_trees import write_tree

from llmpipe.cache.gc import TEMP_GRACE_SECONDS, gc
from llmpipe.cache.odb import ObjectDB
from llmpipe.cache.save import OVERLAP_MIN_SIZE

ROOT = str(Path(__file__).resolve().parents[2])
_SAVER = """
import sys
sys.path.insert(0, sys.argv[1])
from llmpipe.cache.odb import ObjectDB
from llmpipe.cache.save import save
from llmpipe.cache.state import NoState
odb = ObjectDB(sys.argv[2])
print("go", flush=True)
for path in sys.argv[3:]:
    save(path, odb, NoState(), ["reflink", "copy"])
"""


def _kill_saver_midway(cache: str, paths: list[str], delay: float) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", _SAVER, ROOT, cache, *paths], stdout=subprocess.PIPE
    )
    assert proc.stdout.readline() == b"go\n"
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    proc.stdout.close()


def test_killed_saves_never_leave_a_wrong_object(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(1024) * (OVERLAP_MIN_SIZE // 1024 + 1))
    small = write_tree(tmp_path / "many", {f"d{i % 9}/f{i}": os.urandom(300) for i in range(400)})
    cache = str(tmp_path / "cache")
    for delay in (0.05, 0.15, 0.3):
        _kill_saver_midway(cache, [str(big), small], delay)
        odb = ObjectDB(cache)
        assert all(odb.verify(value) for value in odb.all_oids())
    for entry in ObjectDB(cache).temp_files():
        old = time.time() - TEMP_GRACE_SECONDS - 1
        os.utime(entry.path, (old, old))
    gc(ObjectDB(cache), [])
    assert list(ObjectDB(cache).temp_files()) == []
