"""`repro` says in one line when Hydra composition or `-S` rewrote params.yaml."""

from __future__ import annotations

LINE = "params.yaml rewritten (Hydra composition / -S overrides):"


def test_repro_names_the_keys_composition_changed(hydra_project) -> None:  # noqa: ANN001
    first = hydra_project.ok("repro").out
    assert first.count(LINE) == 1  # the first composition writes every key
    assert "up to date" in hydra_project.ok("repro").out
    assert LINE not in hydra_project.ok("repro").out  # nothing rewritten, nothing said
    hydra_project.write(
        "conf/config.yaml", hydra_project.read("conf/config.yaml").replace("0.1", "0.7")
    )
    out = hydra_project.ok("repro").out
    assert f"{LINE} train.lr\n" in out
    out = hydra_project.ok("repro", "-S", "model=small").out
    assert f"{LINE} model.layers\n" in out


def test_plain_overrides_are_reported_too(plain_project) -> None:  # noqa: ANN001
    out = plain_project.ok("repro", "-S", "train.lr=0.3").out
    assert f"{LINE} train.lr\n" in out
