"""The cache objects the registry stands for: what `gc` keeps and `fetch NAME@REF` brings back.

A registered version names its artifact by content hash, and the remote its
objects were pushed to at registration. So the registry, like a lock file, is a
set of used outputs: every registered version's (or only those an alias points
at, when asked), each going to and coming from its registration remote.

A registry that cannot be read is an error (RegistryError): `gc` must never take
an unreadable registry for one that needs nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ..errors import RegistryError
from ..outputs import UsedOutput
from ..stage import HashInfo

if TYPE_CHECKING:
    from .state import RegistryState, Version


def registered_outputs(root: str, aliased_only: bool = False) -> list[UsedOutput]:
    """The artifact of every registered version (deprecated ones too), or with
    `aliased_only` only of the versions an alias points at now."""
    from .storage import read_state

    state = read_state(root)
    found = []
    for model in state.models.values():
        aliased = set(model.aliases.values())
        for version in model.versions.values():
            if not aliased_only or version.version in aliased:
                found.append(version_output(version))
    return found


def version_output(version: Version) -> UsedOutput:
    """The artifact of `version` as a used output, with the remote it was registered with."""
    info = HashInfo.from_lock_dict(dict(version.data.get("hash") or {}))
    if info is None:
        raise RegistryError(
            f"{version.model} {version.version}: its register event records no content hash"
        )
    path = str(version.data.get("path") or f"{version.model}@{version.version}")
    remote = version.data.get("remote")
    return UsedOutput(path, info, cache=True, remote=str(remote) if remote else None)


def split_refs(
    root: str, targets: Sequence[str], stage_names: set[str]
) -> tuple[tuple[str, ...], list[UsedOutput]]:
    """`targets` split into stage targets and the artifacts of versions named `NAME@REF`.

    A target is a registry reference when it has an `@`, names no stage (a
    foreach stage `train@1` stays a stage) and its NAME is a registered model;
    REF is a version or an alias (RegistryError when the model has neither).
    The registry is read only when some target could be a reference.
    """
    candidates = [t for t in targets if "@" in t and t not in stage_names]
    if not candidates:
        return tuple(targets), []
    from .storage import read_state

    state = read_state(root)
    refs = [t for t in candidates if t.partition("@")[0] in state.models]
    stages = tuple(t for t in targets if t not in refs)
    return stages, [_resolve(state, ref) for ref in dict.fromkeys(refs)]


def _resolve(state: RegistryState, ref: str) -> UsedOutput:
    name, _, which = ref.partition("@")
    return version_output(state.model(name).resolve(which))
