"""One storage layer for remotes, the shared registry and deploy destinations.

A `Location` (URL, connection options, and how its failures are named) opens
a `Backend` (`open_backend`): a local folder, S3 through obstore, SSH through
sshfs, or another fsspec filesystem (GCS, Azure, memory). Every backend offers
the same operations (exists, list, get/put bytes and files, exclusive create,
remove) and translates driver errors where they enter, into the location's
error family (`ErrorKinds`). Above this layer: remote transfer, the registry's
event store, deploy.
"""

from __future__ import annotations

from .backend import Backend
from .errors import is_transient, translate, translated
from .external import external_hash
from .local import LocalBackend
from .location import ErrorKinds, Location
from .protocols import PROTOCOLS, open_backend

__all__ = [
    "PROTOCOLS",
    "Backend",
    "ErrorKinds",
    "LocalBackend",
    "external_hash",
    "Location",
    "is_transient",
    "open_backend",
    "translate",
    "translated",
]
