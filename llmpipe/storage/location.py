"""A `Location`: where storage is, how to connect to it, and how its failures read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import (
    ConfigError,
    StorageAuthError,
    StorageConnectionError,
    StorageNotFoundError,
)

LOCAL_SCHEMES = ("", "file", "local")


@dataclass(frozen=True)
class ErrorKinds:
    """The classes storage failures are raised as, so that each user keeps its family.

    Remotes raise `RemoteError`s, the shared registry and deploy `RegistryError`s;
    each class also derives from the matching `Storage…Error`.
    """

    auth: type[StorageAuthError] = StorageAuthError
    connection: type[StorageConnectionError] = StorageConnectionError
    not_found: type[StorageNotFoundError] = StorageNotFoundError
    config: type[ConfigError] = ConfigError


@dataclass(frozen=True)
class Location:
    """A storage location and the words its error messages use.

    `url` is a local path, a `file://` URL or `scheme://…`; `options` are the
    connection settings, named as DVC names a remote's (`endpointurl`, `profile`,
    `keyfile`, …). `label` names the location in messages (default: the URL),
    `credentials` says where to fix refused credentials, and `resume` what a
    rerun keeps (appended to "run the command again").
    """

    url: str
    options: Mapping[str, str] = field(default_factory=dict)
    label: str = ""
    credentials: str = "the environment"
    resume: str = ""
    errors: ErrorKinds = ErrorKinds()

    @property
    def scheme(self) -> str:
        return urlsplit(self.url).scheme if "://" in self.url else ""

    @property
    def local_path(self) -> str | None:
        """The folder of a local location (a path or a `file://` URL), else None."""
        scheme = self.scheme
        if scheme not in LOCAL_SCHEMES:
            return None
        return self.url.split("://", 1)[1] if scheme else self.url

    @property
    def where(self) -> str:
        return self.label or self.url
