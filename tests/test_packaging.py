"""pyproject.toml: every core dependency is used, and extras do not repeat each other."""

from __future__ import annotations

import ast
import importlib.metadata
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
tomllib = pytest.importorskip("tomllib")

# Found by Hydra from `hydra/launcher=joblib` (llmpipe/hydra/launch.py), not imported.
PLUGINS = {"hydra-joblib-launcher": "hydra/launcher={chosen}"}


def project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        return tomllib.load(handle)["project"]


def name_of(requirement: str) -> str:
    return re.split(r"[\s\[<>=!~;]", requirement, maxsplit=1)[0].lower()


def applies_here(requirement: str) -> bool:
    """Whether `requirement`'s environment marker (if any) holds for this interpreter."""
    from packaging.requirements import Requirement

    marker = Requirement(requirement).marker
    return marker is None or marker.evaluate()


def imported_modules() -> set[str]:
    found = set()
    for path in (ROOT / "llmpipe").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return found


def test_every_core_dependency_has_a_caller() -> None:
    modules = importlib.metadata.packages_distributions()
    used = {dist.lower() for module in imported_modules() for dist in modules.get(module, ())}
    launch = (ROOT / "llmpipe" / "hydra" / "launch.py").read_text(encoding="utf-8")
    for requirement in project()["dependencies"]:
        if not applies_here(requirement):
            continue  # e.g. tomli, needed on Python 3.10 only (metrics.py imports it there)
        name = name_of(requirement)
        if name in PLUGINS:
            assert PLUGINS[name] in launch, name
        else:
            assert name in used, f"{name} is a core dependency that llmpipe never imports"


def test_extras_reuse_each_other_by_self_reference() -> None:
    extras = project()["optional-dependencies"]
    owner: dict[str, str] = {}
    for extra, requirements in extras.items():
        for requirement in requirements:
            if name_of(requirement) == "llmpipe":
                named = re.search(r"\[(.*)\]", requirement)
                assert named and set(named.group(1).split(",")) <= set(extras), requirement
                continue
            name = name_of(requirement)
            assert name not in owner, f"{name} is in both [{owner[name]}] and [{extra}]"
            owner[name] = extra
    core = {name_of(r) for r in project()["dependencies"]}
    assert not core & set(owner), "an extra repeats a core dependency"


def test_the_core_install_covers_sweeps_and_signing() -> None:
    core = {name_of(r) for r in project()["dependencies"]}
    assert {"hydra-core", "hydra-joblib-launcher", "cryptography", "configobj"} <= core
    assert not {"torch", "obstore", "sshfs", "gcsfs", "adlfs"} & core


def test_ruamel_is_bounded_to_the_series_tested_against_dvc() -> None:
    # dvc.lock and .dvc bytes are compared with dvc's output under the installed ruamel.
    (ruamel,) = [r for r in project()["dependencies"] if name_of(r) == "ruamel.yaml"]
    major, minor = importlib.metadata.version("ruamel.yaml").split(".")[:2]
    assert f">={major}.{minor}" in ruamel and f"<{major}.{int(minor) + 1}" in ruamel
