"""The checkpoint contract: only folders renamed into place count as complete."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmpipe import checkpoint


def test_save_publishes_on_success_and_discards_on_error(tmp_path) -> None:
    with checkpoint.save(str(tmp_path), 5, metrics={"loss": 0.5}) as folder:
        assert not (tmp_path / "step-000005").exists()  # not visible before commit
        Path(folder, "w.bin").write_bytes(b"w")
    with pytest.raises(RuntimeError), checkpoint.save(str(tmp_path), 6) as folder:
        Path(folder, "w.bin").write_bytes(b"half")
        raise RuntimeError("killed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["step-000005"]
    (info,) = checkpoint.complete(str(tmp_path))
    assert (info.name, info.step, info.metrics) == ("step-000005", 5, {"loss": 0.5})


def test_hidden_folders_are_in_progress_and_steps_come_from_names(tmp_path) -> None:
    (tmp_path / ".step-000009.tmp").mkdir()
    (tmp_path / "epoch-12").mkdir()
    assert [(c.name, c.step) for c in checkpoint.complete(str(tmp_path))] == [("epoch-12", 12)]
    checkpoint.remove_incomplete(str(tmp_path))
    assert not (tmp_path / ".step-000009.tmp").exists()
    assert checkpoint.complete(str(tmp_path / "missing")) == []
