"""SSH through sshfs (SFTP): connection options as DVC names them, an exclusive create.

Options: `user`, `port`, `keyfile`, `password`, `passphrase`, `known_hosts`
(a file, or `none`), `timeout` (connect, seconds), `host`. Without `keyfile`,
asyncssh's default keys (`~/.ssh`) are tried. The server's host key is checked
as OpenSSH checks it: against `known_hosts` when given, else against
`~/.ssh/known_hosts` and `/etc/ssh/ssh_known_hosts`; a host in neither is refused
(sshfs, and so dvc, would accept any key: whoever sits between you and the
server could then read and replace the data). `known_hosts = none` turns the
check off.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from typing import Any
from urllib.parse import urlsplit

from .errors import translate
from .generic import FsspecBackend
from .location import Location


class SSHBackend(FsspecBackend):
    """Files under a folder of an SFTP server; puts go through a temporary and a rename."""

    def _create_bytes(self, relpath: str, data: bytes) -> bool:
        from fsspec.asyn import sync

        # SFTP's plain RENAME fails when the new name exists (unlike posix-rename, which
        # `mv` uses): written whole under a temporary, the object is created exclusively.
        self._makedirs(relpath)
        final = self._path(relpath)
        tmp = f"{final}.{uuid.uuid4().hex[:12]}.tmp"
        self.fs.pipe_file(tmp, data)
        try:
            sync(self.fs.loop, self._rename_new, tmp, final)
        except Exception:
            with contextlib.suppress(Exception):
                self.fs.rm_file(tmp)
            if self.fs.exists(final):
                return False
            raise
        return True

    async def _rename_new(self, old: str, new: str) -> None:
        async with self.fs.client.start_sftp_client() as sftp:
            await sftp.rename(old, new)


_DEFAULT_KNOWN_HOSTS = ("~/.ssh/known_hosts", "/etc/ssh/ssh_known_hosts")


def _known_hosts(option: str | None) -> Any:
    """What asyncssh checks the host key against (None: no check, only when asked)."""
    if option:
        return None if option.lower() == "none" else os.path.expanduser(option)
    found = [p for p in map(os.path.expanduser, _DEFAULT_KNOWN_HOSTS) if os.path.exists(p)]
    if found:
        return found
    import asyncssh

    # No known_hosts file at all: asyncssh would then skip the check; an empty list
    # of known hosts makes every host unknown, and so refused, instead.
    return asyncssh.import_known_hosts("")


def open_ssh(location: Location, filesystem_class: Any) -> SSHBackend:
    """The backend for `ssh://[user@]host[:port]/path`; connects now (errors translated)."""
    parts = urlsplit(location.url)
    opts = location.options
    kwargs: dict[str, Any] = {"skip_instance_cache": True}
    user = opts.get("user") or parts.username
    if user:
        kwargs["username"] = user
    port = opts.get("port") or parts.port
    if port:
        kwargs["port"] = int(port)
    if opts.get("keyfile"):
        kwargs["client_keys"] = [os.path.expanduser(opts["keyfile"])]
    for key in ("password", "passphrase"):
        if opts.get(key):
            kwargs[key] = opts[key]
    kwargs["known_hosts"] = _known_hosts(opts.get("known_hosts"))
    kwargs["connect_timeout"] = float(opts.get("timeout", 30))
    host = opts.get("host") or parts.hostname or ""
    try:
        fs = filesystem_class(host, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the connection is made here; translate it
        raise translate(exc, location) from exc
    return SSHBackend(location, fs, parts.path or "/", atomic_put=False)
