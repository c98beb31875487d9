"""External dependencies: a stage's dep named by URL, fingerprinted as dvc records it.

dvc never downloads such a dep to decide whether it changed; it records what the
server says about it: over HTTP(S) the `ETag` (or `Content-MD5`) header, quotes
kept, as `checksum` (without either, fsspec's token of the file's info); on S3
the ETag, unquoted, as `etag`; elsewhere (SSH, …) the md5 of the bytes. The lock
entry says `hash: md5` in every case, as dvc writes it.
"""

from __future__ import annotations

from ..errors import BackendMissingError
from ..stage import HashInfo
from .errors import translated
from .location import Location
from .protocols import open_backend


def external_hash(url: str, options: dict[str, str] | None = None) -> HashInfo | None:
    """What dvc records for the external dependency `url`; None when it does not exist.

    Failures to reach it raise the location's (translated) storage error.
    """
    location = Location(url, options or {}, label=f"external dependency '{url}'")
    try:
        if location.scheme in ("http", "https"):
            return _http_hash(location)
        return _stored_hash(location)
    except FileNotFoundError:
        return None


def _http_hash(location: Location) -> HashInfo:
    try:
        from fsspec.implementations.http import HTTPFileSystem
    except ImportError as exc:
        raise BackendMissingError(
            f"{location.where}: http(s):// needs the 'aiohttp' package: pip install 'llmpipe[http]'"
        ) from exc
    with translated(location):
        fs = HTTPFileSystem()
        info = fs.info(location.url)
        value = info.get("ETag") or info.get("Content-MD5") or str(fs.checksum(location.url))
    return HashInfo("checksum", value, size=info.get("size"))


def _stored_hash(location: Location) -> HashInfo:
    parent, _, name = location.url.rstrip("/").rpartition("/")
    folder = Location(parent, location.options, location.label)
    backend = open_backend(folder)
    try:
        kind, value, size = backend.fingerprint(name)
    finally:
        backend.close()
    return HashInfo(kind, value, size=size)
