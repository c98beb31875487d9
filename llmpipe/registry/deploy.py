"""Deploy a registered version: verify, then publish its files and model card atomically.

Layout at the destination (a local folder, a storage URL, or `remote://NAME/path`,
see `location`):

    releases/<model>-<version>-<digest 12>/   the files, MODEL_CARD.md, deployment.json
    CURRENT                                   the name of the live release (written last)
    current -> releases/<...>                 (local folders only) a symlink, swapped atomically

Every name in that layout is checked (`names`): the release folder must be
`<model>-<version>-<digest 12>` and resolve directly inside `releases/`, and
every file name must stay inside it, whatever the signed events say.

Local: the release is copied into a temporary sibling folder and renamed into
place, then the `current` symlink and `CURRENT` are replaced by rename. A
release folder that no longer holds exactly the verified files (edited, extra
or linked files) is left alone and a fresh copy is published beside it, under
`<release>-<8 hex>`; the deploy event records the folder `CURRENT` names. Other
destinations (S3, SSH, …, through `llmpipe.storage`): each file is uploaded
whole under the release's own prefix (no reader looks there yet) and `CURRENT`
is written last, replacing the old one whole, so readers that follow `CURRENT`
never see a half-written model. Releases are kept, so a rollback redeploys
without copying to a local folder (a remote one gets the files again).
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import RegistryError
from ..stage import HashInfo
from .names import check_relpath, release_name

if TYPE_CHECKING:
    from ..project import Project
    from ..storage import Location
    from .ops import Writer
    from .state import ModelState, Version
    from .storage import EventStore

CARD = "MODEL_CARD.md"
CARD_FALLBACK = "MODEL_CARD.registry.md"  # when the model ships its own MODEL_CARD.md
MANIFEST = "deployment.json"


@dataclass(frozen=True)
class Published:
    release: str  # the folder name CURRENT holds (and the deploy event records)
    location: str  # where that folder lives


@dataclass(frozen=True)
class DeployResult:
    version: str
    release: str
    location: str
    files: int
    event: dict[str, Any]


def deploy(
    repo: Project,
    store: EventStore,
    writer: Writer,
    name: str,
    ref: str,
    url: str,
    fetch: Callable[[Version], None] | None = None,
) -> DeployResult:
    """Verify the registry and the artifact, publish version `ref` of `name` at `url`.

    Whether the writer may deploy is for the caller to check; `fetch`, called once
    the registry verifies, brings the version's objects the cache lacks.
    """
    from .location import storage_location
    from .ops import record
    from .state import replay
    from .verify import verify_log

    report = verify_log(repo.root, store)
    if not report.ok:
        raise RegistryError(
            "the registry does not verify, deploy refused: "
            + "; ".join(report.problems[:3])
            + " (run 'llmpipe registry verify')"
        )
    model = replay(store.events(), store.location).model(name)
    version = model.resolve(ref)
    if fetch is not None:
        fetch(version)
    files = verified_files(repo, version)
    release = release_name(name, version.version, version.digest)
    contents = _release_contents(model, version, ref, files)
    published = publish(storage_location(repo.root, url, "deploy destination"), release, contents)
    data = {"version": version.version, "ref": ref, "url": url, "release": published.release}
    data["digest"] = version.digest
    event = record(store, writer, "deploy", name, data)
    return DeployResult(version.version, published.release, published.location, len(files), event)


def verified_files(repo: Project, version: Version) -> list[tuple[str, str]]:
    """(name at the destination, cache path) of the version's files, digest checked."""
    from ..cache.complete import in_cache
    from .artifact import cache_files, strong_digest

    info = HashInfo.from_lock_dict(dict(version.data.get("hash") or {}))
    if info is None or not in_cache(repo.odb, info):
        remote = version.data.get("remote")
        where = (
            f"fetching them from remote '{remote}', where it was registered, did not bring them"
            if remote
            else "it was registered without a remote, so only a cache that has them can deploy it"
        )
        raise RegistryError(
            f"the files of {version.model} {version.version} are not in the cache, and {where}"
        )
    files = cache_files(repo.odb, info)
    digest, _ = strong_digest(files, info.isdir)
    if digest != version.digest:
        raise RegistryError(
            f"{version.model} {version.version}: the cached files do not match the registered "
            f"digest ({digest} != {version.digest}); deploy refused"
        )
    if not info.isdir:
        return [(os.path.basename(str(version.data.get("path"))), files[0][1])]
    return files


def _release_contents(
    model: ModelState, version: Version, ref: str, files: list[tuple[str, str]]
) -> list[tuple[str, str | bytes]]:
    """(relpath, local source path or bytes) of everything the release holds."""
    from .card import render_card

    names = {check_relpath(rel, "file name in a release") for rel, _ in files}
    card_name = CARD_FALLBACK if CARD in names else CARD
    manifest = {
        "model": model.name,
        "version": version.version,
        "digest": version.digest,
        "files": sorted(names),
        "card": card_name,
    }
    extra: list[tuple[str, str | bytes]] = [
        (card_name, render_card(model, version, ref).encode("utf-8")),
        (MANIFEST, (json.dumps(manifest, indent=2) + "\n").encode("utf-8")),
    ]
    return [*files, *extra]


def publish(
    destination: Location | str, release: str, contents: list[tuple[str, str | bytes]]
) -> Published:
    """Write the release at `destination` (a plain URL or path as a str) and make it current.

    Returns what was published where.
    """
    if isinstance(destination, str):
        from .location import storage_location

        destination = storage_location(os.getcwd(), destination, "deploy destination")
    path = destination.local_path
    if path is not None:
        return _publish_local(os.path.abspath(path), release, contents)
    return _publish_remote(destination, release, contents)


def _publish_local(dest: str, release: str, contents: list[tuple[str, str | bytes]]) -> Published:
    releases = os.path.join(dest, "releases")
    os.makedirs(releases, exist_ok=True)
    final = _release_folder(releases, release)
    if _holds(final, contents):
        # A redeploy (after a rollback): the release is there, byte for byte;
        # only the card and manifest are refreshed, each atomically.
        _refresh_generated(final, contents)
    else:
        if os.path.lexists(final):  # damaged: publish a fresh copy under a new name
            release = f"{release}-{uuid.uuid4().hex[:8]}"
            final = _release_folder(releases, release)
        _stage_and_rename(releases, final, contents)
    _make_current(dest, release)
    return Published(release, final)


def _release_folder(releases: str, release: str) -> str:
    """`releases/<release>`, refused unless it is one name directly inside `releases`.

    A last check after `names`: whatever an event said, nothing is written elsewhere
    (an existing folder there that is a link is never written into: see `_holds`).
    """
    final = os.path.join(releases, release)
    inside = os.path.dirname(os.path.normpath(final)) == os.path.normpath(releases)
    if "/" in release or os.sep in release or release in ("", ".", "..") or not inside:
        raise RegistryError(
            f"release folder '{release}' would be written outside {releases}; deploy refused"
        )
    return final


def _refresh_generated(final: str, contents: list[tuple[str, str | bytes]]) -> None:
    from ..fsutil import atomic_write_bytes

    for rel, source in contents:
        if isinstance(source, bytes):
            atomic_write_bytes(os.path.join(final, *rel.split("/")), source)


def _make_current(dest: str, release: str) -> None:
    from ..fsutil import atomic_write_text

    link_tmp = os.path.join(dest, f".current-{uuid.uuid4().hex[:8]}")
    os.symlink(os.path.join("releases", release), link_tmp)
    os.replace(link_tmp, os.path.join(dest, "current"))
    atomic_write_text(os.path.join(dest, "CURRENT"), release + "\n")


def _holds(final: str, contents: list[tuple[str, str | bytes]]) -> bool:
    """Whether `final` is a real folder holding exactly the release's files.

    The model's files must match byte for byte and be regular files (a link's
    target could change later); the card and manifest are rewritten anyway.
    """
    from .artifact import file_sha256

    if os.path.islink(final) or not os.path.isdir(final):
        return False
    if _entries(final) != {rel for rel, _ in contents}:
        return False
    for rel, source in contents:
        if isinstance(source, str):
            path = os.path.join(final, *rel.split("/"))
            if not _regular_file(path) or file_sha256(path) != file_sha256(source):
                return False
    return True


def _regular_file(path: str) -> bool:
    return not os.path.islink(path) and os.path.isfile(path)


def _entries(folder: str) -> set[str]:
    """Relative paths of every file and link under `folder` (links are not followed)."""
    found = set()
    for top, dirs, files in os.walk(folder):
        links = [d for d in dirs if os.path.islink(os.path.join(top, d))]
        for name in files + links:
            found.add(os.path.relpath(os.path.join(top, name), folder).replace(os.sep, "/"))
    return found


def _stage_and_rename(releases: str, final: str, contents: list[tuple[str, str | bytes]]) -> None:
    staging = os.path.join(releases, f".tmp-{uuid.uuid4().hex[:12]}")
    try:
        for rel, source in contents:
            _write_local(os.path.join(staging, *rel.split("/")), source)
        os.rename(staging, final)
    finally:
        if os.path.isdir(staging):
            shutil.rmtree(staging, ignore_errors=True)


def _write_local(path: str, source: str | bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(source, bytes):
        with open(path, "wb") as handle:
            handle.write(source)
    else:
        shutil.copyfile(source, path)
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _publish_remote(
    destination: Location, release: str, contents: list[tuple[str, str | bytes]]
) -> Published:
    from ..storage import open_backend

    _release_folder("releases", release)  # one name directly inside releases/
    backend = open_backend(destination)
    try:
        prefix = f"releases/{release}"
        for rel, source in contents:
            if isinstance(source, bytes):
                backend.put_bytes(f"{prefix}/{rel}", source)
            else:
                backend.put_file(source, f"{prefix}/{rel}")
        backend.put_bytes("CURRENT", (release + "\n").encode("utf-8"))
    finally:
        backend.close()
    return Published(release, f"{destination.url.rstrip('/')}/{prefix}")
