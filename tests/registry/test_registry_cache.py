"""Registered versions outlive `gc`, come back with `fetch NAME@REF`, and `deploy` fetches them."""

from __future__ import annotations

import json
import shutil


def _in_cache(project, shown: dict) -> bool:  # noqa: ANN001
    """Whether the cache holds every object of the version `registry show --json` printed."""
    from llmpipe.cache.checkout import in_cache
    from llmpipe.project import Project
    from llmpipe.stage import HashInfo

    with Project(str(project.path)) as opened:
        return in_cache(opened.odb, HashInfo.from_lock_dict(shown["hash"]))


def _show(project, ref: str) -> dict:  # noqa: ANN001
    return json.loads(project.ok("registry", "show", ref, "--json").out)


def test_gc_keeps_every_registered_version_and_always_the_aliased_ones(models, tmp_path) -> None:  # noqa: ANN001
    project = models.project
    models.register()  # 0.1.0 (quality 0.7)
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    models.train(0.8)
    models.register()  # 0.1.1, no alias
    models.train(0.9)  # the workspace moves on, unregistered
    production, unaliased = _show(project, "llm@production"), _show(project, "llm@0.1.1")

    project.ok("gc", "-w", "-f")
    assert _in_cache(project, production) and _in_cache(project, unaliased)
    dest = tmp_path / "serving"
    project.ok("deploy", "llm@production", "--to", str(dest))
    assert (dest / "CURRENT").read_text().startswith("llm-0.1.0-")

    project.ok("gc", "-w", "-f", "--drop-unaliased")
    assert _in_cache(project, production) and not _in_cache(project, unaliased)


def test_fetch_and_pull_bring_back_a_registered_version(models, tmp_path) -> None:  # noqa: ANN001
    project = models.project
    project.ok("remote", "add", "-d", "storage", str(tmp_path / "remote"))
    models.register()  # 0.1.0, pushed to 'storage'
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    models.train(0.9)
    models.register()  # 0.1.1
    production, latest = _show(project, "llm@production"), _show(project, "llm@0.1.1")
    shutil.rmtree(project.path / ".dvc" / "cache")
    workspace = (project.path / "model" / "weights.bin").read_bytes()

    project.ok("fetch", "llm@production")
    assert _in_cache(project, production) and not _in_cache(project, latest)
    project.ok("pull", "llm@0.1.1")
    assert _in_cache(project, latest)
    assert (project.path / "model" / "weights.bin").read_bytes() == workspace  # only the cache
    unknown = project.cli("fetch", "llm@staging")
    assert unknown.code == 1 and "no version or alias 'staging'" in unknown.err


def test_deploy_fetches_what_the_cache_lacks_from_the_registration_remote(models, tmp_path) -> None:  # noqa: ANN001
    project = models.project
    project.ok("remote", "add", "-d", "storage", str(tmp_path / "remote"))
    models.register()
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    project.ok("remote", "add", "-d", "elsewhere", str(tmp_path / "empty"))  # not where it is
    shutil.rmtree(project.path / ".dvc" / "cache")
    dest = tmp_path / "serving"
    out = project.ok("deploy", "llm@production", "--to", str(dest)).out
    assert "Deployed llm 0.1.0 (production): 2 file(s)" in out
    assert (dest / "current" / "weights.bin").read_bytes() == bytes([70]) * 4096


def test_gc_cloud_keeps_registered_versions_on_the_remote(models, tmp_path) -> None:  # noqa: ANN001
    project = models.project
    project.ok("remote", "add", "-d", "storage", str(tmp_path / "remote"))
    models.register()  # 0.1.0, pushed to 'storage'
    project.ok("registry", "promote", "llm", "0.1.0", "--to", "production")
    models.train(0.9)  # the workspace moves on, unregistered
    project.ok("gc", "-w", "-c", "-f")
    production = _show(project, "llm@production")
    shutil.rmtree(project.path / ".dvc" / "cache")
    project.ok("fetch", "llm@production")
    assert _in_cache(project, production)
