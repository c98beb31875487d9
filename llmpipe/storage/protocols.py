"""Which backend serves a URL: a lazy table from scheme to class and install hint.

Local paths and `file://` are served directly (`LocalBackend`); S3 through
obstore, SSH through sshfs, and the rest through their fsspec filesystem.
Drivers are imported only when a location of their kind is opened.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import BackendMissingError
from .backend import Backend
from .errors import translated
from .location import Location

# scheme -> (module, class, extra that installs it; "" when the core install has it)
PROTOCOLS: dict[str, tuple[str, str, str]] = {
    "s3": ("obstore.store", "S3Store", "s3"),
    "ssh": ("sshfs", "SSHFileSystem", "ssh"),
    "gs": ("gcsfs", "GCSFileSystem", "gs"),
    "gcs": ("gcsfs", "GCSFileSystem", "gs"),
    "azure": ("adlfs", "AzureBlobFileSystem", "azure"),
    "az": ("adlfs", "AzureBlobFileSystem", "azure"),
    "memory": ("fsspec.implementations.memory", "MemoryFileSystem", ""),
}
# Options that configure llmpipe, not the filesystem they would be passed to.
_NOT_FOR_FSSPEC = frozenset({"jobs", "encrypt", "key_file", "key_env", "known_hosts", "verify"})


def open_backend(location: Location) -> Backend:
    """The backend serving `location`.

    The location's config error for an unsupported scheme, BackendMissingError
    naming the extra to install, and its translated errors when connecting fails.
    """
    path = location.local_path
    if path is not None:
        from .local import LocalBackend

        return LocalBackend(path, location)
    scheme = location.scheme
    if scheme not in PROTOCOLS:
        supported = ", ".join(s + "://" for s in PROTOCOLS)
        raise location.errors.config(
            f"{location.where}: unsupported URL scheme '{scheme}://' "
            f"(supported: local paths, file://, {supported})"
        )
    cls = _load_class(scheme, location)
    if scheme == "s3":
        from .s3 import open_s3

        return open_s3(location, cls)
    if scheme == "ssh":
        from .ssh import open_ssh

        return open_ssh(location, cls)
    return _generic(location, cls)


def _load_class(scheme: str, location: Location) -> Any:
    module_name, class_name, extra = PROTOCOLS[scheme]
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        package = module_name.split(".")[0]
        raise BackendMissingError(
            f"{location.where}: {scheme}:// needs the '{package}' package: "
            f"pip install 'llmpipe[{extra}]'"
        ) from exc
    return getattr(module, class_name)


def _generic(location: Location, cls: Any) -> Backend:
    from .generic import FsspecBackend

    options = {k: v for k, v in location.options.items() if k not in _NOT_FOR_FSSPEC}
    with translated(location):
        fs = cls(**options)
    return FsspecBackend(location, fs, location.url.split("://", 1)[1], atomic_put=True)
