"""SIGKILL at random moments damages nothing (#15 item 10): a bounded number of trials.

The full run is `python -m tests.resilience.faults --trials 1000` (see faults.py);
LLMPIPE_FAULT_TRIALS sets the number here.
"""

from __future__ import annotations

import os
import random

import pytest

from tests.resilience.faults import SCENARIOS, run_trials, summary
from tests.run_summary import note_bounded

pytestmark = [pytest.mark.slow, pytest.mark.fault]

TRIALS = int(os.environ.get("LLMPIPE_FAULT_TRIALS", str(3 * len(SCENARIOS))))
FULL = "python -m tests.resilience.faults --trials 1000"


def test_random_kills_leave_nothing_corrupt_lost_or_locked(tmp_path):
    seed = int(os.environ.get("LLMPIPE_FAULT_SEED", random.randrange(1 << 30)))
    results = run_trials(TRIALS, seed, tmp_path)
    note_bounded("fault injection", f"{len(results)} trials", FULL)
    found = summary(results)
    assert not found["problems"], f"seed {seed}: {found}"
    assert {t.scenario for t in results} == {s.name for s in SCENARIOS}
