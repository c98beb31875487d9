"""`llmpipe params show/diff`: the params files of stages across git revisions."""

from __future__ import annotations

from .metrics import compare_group

params = compare_group("params")
