"""The public API: every type a `Repo` method returns is importable from `llmpipe`."""

from __future__ import annotations

import importlib.metadata
import inspect
import re

import llmpipe
from llmpipe import Repo


def test_every_name_in_all_resolves():
    for name in llmpipe.__all__:
        assert getattr(llmpipe, name) is not None, name


def test_every_type_a_repo_method_returns_is_exported():
    returned = set()
    for name, method in inspect.getmembers(Repo, inspect.isfunction):
        if name.startswith("_"):
            continue
        annotation = inspect.signature(method).return_annotation
        returned.update(re.findall(r"[A-Z]\w+", str(annotation)))
    assert returned - {"Repo", "Project", "None"} <= set(llmpipe.__all__), returned


def test_the_version_comes_from_the_package_metadata():
    assert llmpipe.__version__ == importlib.metadata.version("llmpipe")
