"""Storage backends behind one small interface; fsspec does the talking.

A lazy table maps a URL scheme to the fsspec class that serves it and to the
pip command that installs it. Local folders get a direct implementation (no
fsspec layer: it is the hot path of the benchmarks). Third-party exceptions
are translated into `RemoteError` subclasses here, where they enter.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

from ..config import RemoteConfig
from ..errors import (
    BackendMissingError,
    LlmpipeError,
    RemoteAuthError,
    RemoteConfigError,
    RemoteConnectionError,
    RemoteNotFoundError,
)

# scheme -> (module, class, extra that installs it)
PROTOCOLS: dict[str, tuple[str, str, str]] = {
    "s3": ("obstore.store", "S3Store", "s3"),  # served by remote/s3.py, not fsspec
    "ssh": ("sshfs", "SSHFileSystem", "ssh"),
    "gs": ("gcsfs", "GCSFileSystem", "gs"),
    "gcs": ("gcsfs", "GCSFileSystem", "gs"),
    "azure": ("adlfs", "AzureBlobFileSystem", "azure"),
    "az": ("adlfs", "AzureBlobFileSystem", "azure"),
}

_AUTH_NAMES = {
    "NoCredentialsError",
    "PartialCredentialsError",
    "PermissionDenied",
    "PermissionError",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "HostKeyNotVerifiable",
}
_CONNECTION_NAMES = {
    "ConnectionError",
    "ConnectionRefusedError",
    "ConnectionResetError",
    "ConnectionAbortedError",
    "BrokenPipeError",
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "TimeoutError",
    "ConnectionLost",
    "DisconnectError",
    "ChannelOpenError",
    "ClientConnectorError",
    "ServerDisconnectedError",
    "ClientOSError",
    "ResponseStreamingError",
    "IncompleteReadError",
    "SFTPConnectionLost",
    "SFTPNoConnection",
}


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: the network, not the request."""
    if isinstance(exc, LlmpipeError):
        return isinstance(exc, RemoteConnectionError)
    names = _names(exc)
    return bool(names & _CONNECTION_NAMES) and not names & _AUTH_NAMES


@contextlib.contextmanager
def translated(remote: RemoteConfig) -> Iterator[None]:
    """Turn what a backend raises inside the block into the `RemoteError` to show."""
    try:
        yield
    except LlmpipeError:
        raise
    except Exception as exc:  # noqa: BLE001 - the backend boundary
        raise translate(exc, remote) from exc


def translate(exc: BaseException, remote: RemoteConfig) -> LlmpipeError:
    """The `RemoteError` a user should see for backend exception `exc`."""
    if isinstance(exc, LlmpipeError):
        return exc
    names = _names(exc)
    where = f"remote '{remote.name}' ({remote.url})"
    if names & _AUTH_NAMES:
        return RemoteAuthError(
            f"{where} refused access: {exc or type(exc).__name__}; check the credentials "
            f"('llmpipe remote modify --local {remote.name} …' or the environment)"
        )
    if is_transient(exc):
        return RemoteConnectionError(
            f"cannot reach {where}: {exc or type(exc).__name__}; check that the server is up "
            "and run the command again (finished transfers are kept)"
        )
    if isinstance(exc, FileNotFoundError):
        return RemoteNotFoundError(f"{where}: not found: {exc}")
    return RemoteConnectionError(f"{where} failed: {type(exc).__name__}: {exc}")


class Backend:
    """Files under one root of a storage system, addressed by posix relative paths."""

    atomic_put = True  # put_file never exposes a partial object under its final name

    def exists(self, relpath: str) -> bool:
        raise NotImplementedError

    def list_files(self, prefix: str) -> Iterator[str]:
        """Relative paths of every file below `prefix` (missing prefix: nothing)."""
        raise NotImplementedError

    def put_file(self, local: str, relpath: str) -> None:
        """Store `local` as `relpath`: it appears complete or not at all."""
        raise NotImplementedError

    def get_file(self, relpath: str, local: str, hasher: Any = None) -> bool:
        """Copy `relpath` to `local` (FileNotFoundError when it does not exist).

        Returns True when every byte written also went through `hasher.update`,
        which saves the caller reading the file again to verify it.
        """
        raise NotImplementedError

    def put_bytes(self, relpath: str, data: bytes) -> None:
        raise NotImplementedError

    def get_bytes(self, relpath: str) -> bytes:
        raise NotImplementedError

    def remove(self, relpath: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Release connections (a no-op by default)."""


class LocalBackend(Backend):
    """A folder on a local or mounted filesystem."""

    def __init__(self, root: str) -> None:
        self.root = root
        self._prefix = os.path.join(root, "")
        self._made: set[str] = set()

    def _path(self, relpath: str) -> str:
        if os.sep == "/":
            return self._prefix + relpath  # what join would give, without its cost per object
        return os.path.join(self.root, *relpath.split("/"))

    def local_path(self, relpath: str) -> str:
        """Where `relpath` is on this machine's filesystem."""
        return self._path(relpath)

    def exists(self, relpath: str) -> bool:
        return os.path.isfile(self._path(relpath))

    def list_files(self, prefix: str) -> Iterator[str]:
        base = self._path(prefix)
        for dirpath, _, files in os.walk(base):
            rel = os.path.relpath(dirpath, self.root).replace(os.sep, "/")
            for name in files:
                if not name.endswith(".tmp"):
                    yield f"{rel}/{name}"

    def _parent(self, relpath: str) -> str:
        path = self._path(relpath)
        directory = os.path.dirname(path)
        if directory not in self._made:
            os.makedirs(directory, exist_ok=True)
            self._made.add(directory)
        return path

    def put_file(self, local: str, relpath: str) -> None:
        final = self._parent(relpath)
        if _share_inode(local, final):
            return
        tmp = f"{final}.{uuid.uuid4().hex[:12]}.tmp"
        try:
            _link_or_copy(local, tmp)
            os.replace(tmp, final)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def get_file(self, relpath: str, local: str, hasher: Any = None) -> bool:
        _link_or_copy(self._path(relpath), local)
        return False

    def put_bytes(self, relpath: str, data: bytes) -> None:
        from ..fsutil import atomic_write_bytes

        atomic_write_bytes(self._parent(relpath), data, durable=False)

    def get_bytes(self, relpath: str) -> bytes:
        with open(self._path(relpath), "rb") as handle:
            return handle.read()

    def remove(self, relpath: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._path(relpath))


def _share_inode(src: str, final: str) -> bool:
    """Hard-link read-only `src` as `final` (a link appears whole, so no temporary).

    False when `src` is writable or the filesystem can't link it there. A `final`
    that exists already holds the object: the object names its content.
    """
    try:
        if os.stat(src).st_mode & 0o222:
            return False
        os.link(src, final)
    except FileExistsError:
        return True
    except OSError:
        return False
    return True


def _link_or_copy(src: str, dst: str) -> None:
    """Hard-link `src` to `dst` where both sit on one filesystem, else copy it.

    Objects are immutable and read-only on both sides (and verified against their
    hash when fetched), so a folder remote on the cache's own filesystem can share
    inodes with the cache instead of holding a second copy of every byte.
    """
    try:
        if not os.stat(src).st_mode & 0o222:
            os.link(src, dst)
            return
    except OSError:
        pass
    shutil.copyfile(src, dst)


class FsspecBackend(Backend):
    """Any fsspec filesystem; object stores put atomically, SFTP through a rename."""

    def __init__(self, fs: Any, root: str, atomic_put: bool) -> None:
        self.fs = fs
        self.root = root.rstrip("/")
        self.atomic_put = atomic_put
        self._made: set[str] = set()

    def _path(self, relpath: str) -> str:
        return f"{self.root}/{relpath}"

    def exists(self, relpath: str) -> bool:
        return bool(self.fs.exists(self._path(relpath)))

    def list_files(self, prefix: str) -> Iterator[str]:
        base = self._path(prefix).rstrip("/")
        try:
            found = self.fs.find(base)
        except FileNotFoundError:
            return
        cut = len(self.fs._strip_protocol(self.root).rstrip("/")) + 1
        for path in found:
            rel = self.fs._strip_protocol(path)[cut:]
            if not rel.endswith(".tmp"):
                yield rel

    def _makedirs(self, relpath: str) -> None:
        directory = self._path(relpath).rsplit("/", 1)[0]
        if directory not in self._made:
            self.fs.makedirs(directory, exist_ok=True)
            self._made.add(directory)

    def put_file(self, local: str, relpath: str) -> None:
        if self.atomic_put:
            self.fs.put_file(local, self._path(relpath))
            return
        self._makedirs(relpath)
        final = self._path(relpath)
        tmp = f"{final}.{uuid.uuid4().hex[:12]}.tmp"
        try:
            self.fs.put_file(local, tmp)
            self.fs.mv(tmp, final)
        except BaseException:
            with contextlib.suppress(Exception):
                self.fs.rm_file(tmp)
            raise

    def get_file(self, relpath: str, local: str, hasher: Any = None) -> bool:
        # The filesystem's own get_file (e.g. SFTP's pipelined reads) beats a read loop.
        self.fs.get_file(self._path(relpath), local)
        return False

    def put_bytes(self, relpath: str, data: bytes) -> None:
        if not self.atomic_put:
            self._makedirs(relpath)
        self.fs.pipe_file(self._path(relpath), data)

    def get_bytes(self, relpath: str) -> bytes:
        return bytes(self.fs.cat_file(self._path(relpath)))

    def remove(self, relpath: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.fs.rm_file(self._path(relpath))


def open_backend(remote: RemoteConfig) -> Backend:
    """The backend serving `remote.url`; BackendMissingError says what to install."""
    scheme = urlsplit(remote.url).scheme if "://" in remote.url else ""
    if scheme in ("", "file", "local"):
        path = remote.url[len("file://") :] if scheme == "file" else remote.url
        return LocalBackend(path)
    if scheme not in PROTOCOLS:
        raise RemoteConfigError(
            f"remote '{remote.name}': unsupported URL scheme '{scheme}://' "
            f"(supported: local paths, file://, {', '.join(s + '://' for s in PROTOCOLS)})"
        )
    cls = _load_class(scheme)
    if scheme == "s3":
        from .s3 import open_s3

        return open_s3(remote, cls)
    if scheme == "ssh":
        return _ssh_backend(cls, remote)
    root = remote.url.split("://", 1)[1]
    return FsspecBackend(cls(**_generic_options(remote)), root, atomic_put=True)


def _load_class(scheme: str) -> Any:
    import importlib

    module_name, class_name, extra = PROTOCOLS[scheme]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        package = module_name.split(".")[0]
        raise BackendMissingError(
            f"{scheme}:// remotes need the '{package}' package: pip install 'llmpipe[{extra}]'"
        ) from exc
    return getattr(module, class_name)


def _ssh_backend(cls: Any, remote: RemoteConfig) -> Backend:
    parts = urlsplit(remote.url)
    opts = remote.options
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
    known = opts.get("known_hosts")
    if known:
        kwargs["known_hosts"] = None if known.lower() == "none" else os.path.expanduser(known)
    kwargs["connect_timeout"] = float(opts.get("timeout", 30))
    host = opts.get("host") or parts.hostname or ""
    try:
        fs = cls(host, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the connection is made here; translate it
        raise translate(exc, remote) from exc
    return FsspecBackend(fs, parts.path or "/", atomic_put=False)


def _generic_options(remote: RemoteConfig) -> dict[str, Any]:
    skip = {"jobs", "encrypt", "key_file", "key_env", "known_hosts"}
    return {k: v for k, v in remote.options.items() if k not in skip}
