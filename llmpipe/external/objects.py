"""The objects of a source's data: found in a cache at hand, else fetched from its remote.

Caches are asked in order: the one fetches land in (`into`: this project's cache,
or a scratch one), then the source's own (a local folder's). What none holds comes
from the source's remote (its default, or the one named), verified as `fetch`
verifies, into `into`. A missing object is an error naming the path it serves:
never a silently partial copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from ..cache.odb import ObjectDB
from ..errors import CacheError, RemoteError, SourceError
from .source import Source


class SourceObjects:
    """Object lookup for one `Source`; fetched objects are stored in `into`."""

    def __init__(
        self,
        source: Source,
        into: ObjectDB,
        scratch: str,
        remote: str | None = None,
        jobs: int | None = None,
    ) -> None:
        self.source = source
        self.jobs = jobs  # parallel downloads from a remote (default: the remote's setting)
        self.into = into
        self.scratch = scratch  # a folder for partial downloads
        self.remote_name = remote
        self.odbs = [odb for odb in (into, source.odb) if odb is not None]

    def path(self, oid: str) -> str | None:
        """A readable file holding object `oid` in one of the caches, or None."""
        for odb in self.odbs:
            path = odb.oid_path(oid)
            if os.path.isfile(path):
                return path
        return None

    def require(self, oids: Iterable[str], what: str) -> None:
        """Make every object of `oids` readable through `path`, fetching what is missing.

        `what` names the data they hold, for the error when the remote lacks some.
        """
        missing = [oid for oid in dict.fromkeys(oids) if self.path(oid) is None]
        if missing:
            self._fetch(missing, what)

    def manifest(self, dir_oid: str, what: str) -> list[tuple[str, str]]:
        """The (relpath, oid) entries of directory object `dir_oid`, fetched if needed."""
        self.require([dir_oid], what)
        for odb in self.odbs:
            if odb.exists(dir_oid):
                return odb.read_manifest(dir_oid)
        raise CacheError(f"directory object {dir_oid} of {what} vanished from the cache")

    def copy_into_cache(self, oids: Iterable[str]) -> None:
        """Give `into` its own copy (a hard link where it can) of each of `oids`."""
        for oid in dict.fromkeys(oids):
            if self.into.exists(oid):
                continue
            src = self.path(oid)
            if src is None:
                raise CacheError(f"object {oid} is not in any cache at hand")
            if not self.into.link_object(src, oid, os.stat(src).st_ino):
                self.into.add_file(src, oid, move=False)

    def _fetch(self, oids: list[str], what: str) -> None:
        from ..progress import NoProgress
        from ..remote.backends import open_backend
        from ..remote.layout import Layout, open_cipher
        from ..remote.ops import default_jobs
        from ..remote.transfer import download_task, run_tasks
        from ..storage import LocalBackend

        if not self.source.config.remotes and self.remote_name is None:
            raise SourceError(
                f"{what} is not in the cache of '{self.source.url}' and that project has no "
                "remote to fetch it from (push it there, or configure a default remote)"
            )
        remote = self.source.remote(self.remote_name)
        backend = open_backend(remote)
        try:
            layout = Layout(backend, self.into.hash_name, open_cipher(backend, remote, False))
            os.makedirs(self.scratch, exist_ok=True)
            task = download_task(self.into, layout, self.scratch, verify=remote.verify)
            local = isinstance(backend, LocalBackend)
            jobs = 1 if local else self.jobs or remote.jobs or default_jobs()
            result = run_tasks(oids, task, remote, jobs, NoProgress())
        finally:
            backend.close()
        if result.failed:
            first = result.failed[0]
            raise RemoteError(
                f"cannot fetch {what} from remote '{remote.name}' of '{self.source.url}': "
                f"{len(result.failed)} object(s) failed, e.g. {first.oid}: {first.reason}"
            )
