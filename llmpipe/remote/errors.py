"""Remote errors: every backend failure is translated into one of these at the boundary."""

from __future__ import annotations

from ..errors import ConfigError, RemoteError


class RemoteConfigError(ConfigError):
    """A remote is not configured, or its settings are invalid."""


class BackendMissingError(RemoteError):
    """The fsspec package for a URL scheme is not installed."""


class RemoteAuthError(RemoteError):
    """The remote refused our credentials (or found none)."""


class RemoteConnectionError(RemoteError):
    """The remote could not be reached, even after retries."""


class RemoteNotFoundError(RemoteError):
    """The remote's location (bucket, folder, host path) does not exist."""


class EncryptedRemoteError(RemoteConfigError):
    """A remote configured as plain holds an encrypted remote's key check."""
