"""Names that become paths: one strict rule for each, checked wherever a name enters.

A deploy writes `releases/<model>-<version>-<digest 12>/<file>` at its
destination, and an event's signature proves only who wrote it, not that its
names are safe (any member who may register can sign any version string). So
every name an event carries is checked when the event is written (`ops`), when
the log is replayed or verified (`state`, `verify`) and again at deploy, which
also checks that the folder it writes resolves inside the destination.

- model: a letter or digit, then letters, digits, `.`, `_`, `-` (at most 100), no `..`;
- version: `MAJOR.MINOR.PATCH` exactly as the registry stores it (see `semver`),
  at most 64 characters;
- alias: a letter or digit, then letters, digits, `_`, `-` (at most 64);
- digest: `sha256:` and 64 lowercase hex digits;
- release folder: `<model>-<version>-<12 hex of the digest>`, optionally `-<8 hex>`
  (a fresh copy published beside a damaged one);
- a file inside a release, or a registered path: a relative `/`-separated path
  without empty, `.` or `..` parts, backslashes or NUL.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import RegistryError
from . import semver

_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")
_ALIAS = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")
_COPY_SUFFIX = re.compile(r"(-[0-9a-f]{8})?")
_MAX_VERSION = 64  # the release folder's name must stay well under a file name's 255 bytes


def check_model_name(name: Any) -> str:
    if not isinstance(name, str) or not _MODEL.fullmatch(name) or ".." in name:
        raise RegistryError(
            f"{name!r} is not a valid model name: a letter or digit, then letters, digits, "
            "'.', '_', '-' (at most 100, no '..')"
        )
    return name


def check_version(version: Any) -> str:
    """`version` itself, when it is a version as stored (`1.2.0`, not `v1.2.0` or `1.2`)."""
    try:
        normal = semver.normalize(version) if isinstance(version, str) else None
    except RegistryError:
        normal = None
    if normal != version or len(version) > _MAX_VERSION:
        raise RegistryError(
            f"{version!r} is not a semantic version as the registry stores it "
            "(MAJOR.MINOR.PATCH, e.g. 1.2.0)"
        )
    return version


def check_alias(alias: Any) -> str:
    if not isinstance(alias, str) or not _ALIAS.fullmatch(alias):
        raise RegistryError(
            f"{alias!r} is not a valid alias name: a letter or digit, then letters, digits, "
            "'_', '-' (at most 64)"
        )
    return alias


def check_ref(ref: Any) -> str:
    """An alias or a version (what `deploy NAME@REF` and `monitor NAME@REF` name)."""
    if isinstance(ref, str) and _ALIAS.fullmatch(ref):
        return ref
    try:
        return check_version(ref)
    except RegistryError:
        raise RegistryError(f"{ref!r} is neither an alias nor a semantic version") from None


def check_digest(digest: Any) -> str:
    if not isinstance(digest, str) or not _DIGEST.fullmatch(digest):
        raise RegistryError(f"{digest!r} is not a sha256 digest ('sha256:' and 64 hex digits)")
    return digest


def release_name(model: str, version: str, digest: str) -> str:
    """The release folder of a version at a deploy destination (every part checked)."""
    model, version = check_model_name(model), check_version(version)
    return f"{model}-{version}-{check_digest(digest).split(':', 1)[1][:12]}"


def check_release(release: Any, model: str, version: str, digest: str) -> str:
    """`release` when it is the release folder of that version (or a fresh copy of it)."""
    expected = release_name(model, version, digest)
    if not (
        isinstance(release, str)
        and release.startswith(expected)
        and _COPY_SUFFIX.fullmatch(release[len(expected) :])
    ):
        raise RegistryError(
            f"{release!r} is not the release folder of {model} {version} ('{expected}')"
        )
    return release


def check_relpath(path: Any, what: str = "path") -> str:
    """A relative `/`-separated path that stays where it is put (no '..', '.', '', '\\')."""
    parts = path.split("/") if isinstance(path, str) else [""]
    if (
        not isinstance(path, str)
        or "\\" in path
        or "\0" in path
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise RegistryError(f"{path!r} is not a safe {what}: a relative path without '..'")
    return path


def check_event_names(event: Mapping[str, Any]) -> None:
    """Raise RegistryError naming the field when a name the event carries is unsafe."""
    check_model_name(event.get("model"))
    data = event.get("data")
    if not isinstance(data, Mapping):
        raise RegistryError("its 'data' is not a mapping")
    for key, check in _FIELDS.get(str(event.get("type")), {}).items():
        if key in data:
            try:
                check(data[key])
            except RegistryError as exc:
                raise RegistryError(f"'{key}': {exc}") from None
    if event.get("type") == "deploy":
        model, version, digest = str(event["model"]), data.get("version"), data.get("digest")
        try:
            check_release(data.get("release"), model, version, digest)  # type: ignore[arg-type]
        except RegistryError as exc:
            raise RegistryError(f"'release': {exc}") from None


def _optional(check: Callable[[Any], str]) -> Callable[[Any], Any]:
    return lambda value: value if value is None else check(value)


def _aliases(values: Any) -> Any:
    if not isinstance(values, list):
        raise RegistryError(f"{values!r} is not a list of aliases")
    return [check_alias(v) for v in values]


_FIELDS: dict[str, dict[str, Callable[[Any], Any]]] = {
    "register": {"version": check_version, "digest": check_digest, "path": check_relpath},
    "promote": {
        "version": check_version,
        "alias": check_alias,
        "previous": _optional(check_version),
    },
    "rollback": {
        "version": check_version,
        "alias": check_alias,
        "from": check_version,
        "to": check_version,
    },
    "deprecate": {"version": check_version, "aliases": _aliases},
    "deploy": {"version": check_version, "ref": check_ref, "digest": check_digest},
    "monitor": {"version": check_version, "alias": check_ref},
}
