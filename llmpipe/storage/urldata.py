"""Data at a URL or an outside path, read as `import-url` reads it.

A `UrlData` is the file or folder at a URL (a local path, `s3://`, `ssh://`, any
scheme the storage layer serves, or `http(s)://` through fsspec, files only). It
lists the files, fingerprints them as dvc records the dependency (`external`:
S3's ETag, HTTP's checksum; elsewhere the md5 of the bytes, which is the
downloaded content's own hash, so nothing is read twice), and downloads them.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Any

from ..errors import BackendMissingError
from ..fsutil import walk_files
from ..stage import HashInfo
from .backend import Backend
from .errors import is_transient, translate, translated
from .location import Location
from .protocols import open_backend


class UrlData:
    """The file or folder at `url`. FileNotFoundError (from `files`) when nothing is there;
    the location's storage errors when it cannot be reached."""

    def __init__(self, url: str, options: dict[str, str] | None = None) -> None:
        self.url = url.rstrip("/") if "://" in url else url
        self.location = Location(self.url, options or {}, label=f"'{url}'")
        self.is_http = self.location.scheme in ("http", "https")
        self._backend: Backend | None = None
        self._file_backend: Backend | None = None

    def files(self) -> list[str]:
        """Relative paths of the files below the URL, sorted; `[""]` when it is a file."""
        if self.is_http:
            self._http_info()
            return [""]
        local = self.location.local_path
        if local is not None and os.path.isfile(local):
            return [""]
        if local is not None:  # every file (a backend's listing leaves out `*.tmp`)
            found = sorted(relpath for relpath, _ in walk_files(local))
        else:
            found = sorted(r for r in self._folder().list_files("") if r)
        if found:
            return found
        if self._parent().exists(self._name):
            return [""]
        raise FileNotFoundError(self.url)

    def download(self, relpath: str, local: str) -> None:
        """Copy the file `relpath` (`""`: the URL itself) to the local path `local`."""
        if self.is_http:
            with translated(self.location):
                self._http().get_file(self.url, local)
        elif relpath:
            self._folder().get_file(relpath, local)
        else:
            self._parent().get_file(self._name, local)

    @property
    def fingerprinted(self) -> bool:
        """True where the store fingerprints files itself (S3's ETag, HTTP's headers)."""
        return self.is_http or self.location.scheme == "s3"

    def dep_hash(self, files: list[str], content: HashInfo | None) -> HashInfo:
        """What dvc records for the dependency: the store's fingerprint where it has one,
        else `content` (the hash of the downloaded bytes, required then)."""
        if self.is_http:
            info = self._http_info()
            value = info.get("ETag") or info.get("Content-MD5")
            return HashInfo("checksum", str(value or self._http().checksum(self.url)),
                            size=info.get("size"))  # fmt: skip
        if self.location.scheme != "s3":
            assert content is not None, "dvc records the md5 of the bytes: download first"
            return content  # the same md5 as the downloaded copy's
        if files == [""]:
            return HashInfo(*self._parent().fingerprint(self._name))
        entries, size = [], 0
        for relpath in files:
            _kind, etag, length = self._folder().fingerprint(relpath)
            entries.append({"etag": etag, "relpath": relpath})
            size += length or 0
        # dvc's tree of the folder, its entries keyed by ETag: the md5 of its JSON.
        text = json.dumps(sorted(entries, key=lambda e: e["relpath"]), sort_keys=True)
        digest = hashlib.md5(text.encode("utf-8")).hexdigest()
        return HashInfo("md5", digest + ".dir", size=size, nfiles=len(files))

    def close(self) -> None:
        for backend in (self._backend, self._file_backend):
            if backend is not None:
                backend.close()

    def __enter__(self) -> UrlData:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- helpers

    @property
    def _name(self) -> str:
        return self.url.replace(os.sep, "/").rstrip("/").rpartition("/")[2]

    def _folder(self) -> Backend:
        if self._backend is None:
            self._backend = open_backend(self.location)
        return self._backend

    def _parent(self) -> Backend:
        if self._file_backend is None:
            parent = self.url.replace(os.sep, "/").rstrip("/").rpartition("/")[0]
            where = Location(parent or "/", self.location.options, self.location.label)
            self._file_backend = open_backend(where)
        return self._file_backend

    def _http(self) -> Any:
        try:
            from fsspec.implementations.http import HTTPFileSystem
        except ImportError as exc:
            raise BackendMissingError(
                f"{self.location.where}: http(s):// needs the 'aiohttp' package:"
                " pip install 'llmpipe[http]'"
            ) from exc
        return HTTPFileSystem()

    def _http_info(self) -> dict[str, Any]:
        fs = self._http()
        try:
            return fs.info(self.url)
        except FileNotFoundError as exc:
            # fsspec says "not found" for a server it cannot reach too: tell them apart.
            if exc.__cause__ is not None and is_transient(exc.__cause__):
                raise translate(exc.__cause__, self.location) from exc
            raise
        except Exception as exc:  # noqa: BLE001 - the storage boundary
            raise translate(exc, self.location) from exc
