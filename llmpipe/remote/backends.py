"""A remote's storage: its `RemoteConfig` as a storage `Location`, failures named after it.

The backends themselves live in `llmpipe.storage` (shared with the registry and
deploy); here a remote becomes a location whose errors are `RemoteError`s
naming the remote and the `llmpipe remote modify` that fixes its credentials.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..config import RemoteConfig
from ..errors import (
    LlmpipeError,
    RemoteAuthError,
    RemoteConfigError,
    RemoteConnectionError,
    RemoteNotFoundError,
)
from ..storage import Backend, ErrorKinds, LocalBackend, Location, is_transient
from ..storage import open_backend as open_location
from ..storage import translate as translate_at
from ..storage import translated as translated_at

__all__ = ["Backend", "LocalBackend", "is_transient", "open_backend", "translate", "translated"]

REMOTE_ERRORS = ErrorKinds(
    auth=RemoteAuthError,
    connection=RemoteConnectionError,
    not_found=RemoteNotFoundError,
    config=RemoteConfigError,
)


def remote_location(remote: RemoteConfig) -> Location:
    """Where `remote` stores its objects, and how its failures are named."""
    return Location(
        remote.url,
        remote.options,
        label=f"remote '{remote.name}' ({remote.url})",
        credentials=f"'llmpipe remote modify --local {remote.name} …' or the environment",
        resume=" (finished transfers are kept)",
        errors=REMOTE_ERRORS,
    )


def open_backend(remote: RemoteConfig) -> Backend:
    """The backend serving `remote.url`; BackendMissingError says what to install."""
    return open_location(remote_location(remote))


def translate(exc: BaseException, remote: RemoteConfig) -> LlmpipeError:
    """The `RemoteError` a user should see for backend exception `exc`."""
    return translate_at(exc, remote_location(remote))


@contextlib.contextmanager
def translated(remote: RemoteConfig) -> Iterator[None]:
    """Turn what a backend raises inside the block into the `RemoteError` to show."""
    with translated_at(remote_location(remote)):
        yield
