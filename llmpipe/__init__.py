"""llmpipe: reproducible pipelines, data versioning and model management for LLM work.

The public API::

    from llmpipe import Repo

    with Repo.discover() as repo:
        result = repo.reproduce(["train"], jobs=2)
        for entry in repo.status():
            print(entry.address, [str(r) for r in entry.reasons])
"""

from .errors import LlmpipeError
from .repo import Repo
from .stage import Dep, HashInfo, Out, ParamRef, Stage

__version__ = "0.1.0"

__all__ = ["Dep", "HashInfo", "LlmpipeError", "Out", "ParamRef", "Repo", "Stage", "__version__"]
