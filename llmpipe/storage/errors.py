"""Storage failures, translated where they enter into the location's error family.

Backends raise `FileNotFoundError` for a missing object (an answer, not a
failure) and `MissingLocation` when the location itself is gone; everything
else a driver raises (botocore, asyncssh, obstore, OSError) is recognised by
its class names and becomes the auth, connection or not-found error of the
`Location`, with a message naming the place and the fix.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from ..errors import LlmpipeError, StorageError
from .location import Location

_AUTH_NAMES = {
    "NoCredentialsError",
    "PartialCredentialsError",
    "ProfileNotFound",
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


class MissingLocation(Exception):
    """Raised by a backend when the location itself (a bucket, say) does not exist."""


def _names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def _network_failure(exc: BaseException) -> bool:
    names = _names(exc)
    return bool(names & _CONNECTION_NAMES) and not names & _AUTH_NAMES


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: the network, not the request."""
    if isinstance(exc, LlmpipeError):
        return isinstance(exc, StorageError) and exc.transient
    return _network_failure(exc)


def translate(exc: BaseException, location: Location) -> LlmpipeError:
    """The error a user should see for what a backend raised at `location`."""
    if isinstance(exc, LlmpipeError):
        return exc
    where, kinds = location.where, location.errors
    detail = str(exc) or type(exc).__name__
    if "HostKeyNotVerifiable" in _names(exc):
        return kinds.auth(
            f"{where}: the server's host key is not known ({detail}). Connect once with "
            "'ssh' to check and record it in ~/.ssh/known_hosts, or set the remote's "
            "known_hosts option to a file that lists it"
        )
    if _names(exc) & _AUTH_NAMES:
        return kinds.auth(
            f"{where} refused access: {detail}; check the credentials ({location.credentials})"
        )
    if _network_failure(exc):
        error = kinds.connection(
            f"cannot reach {where}: {detail}; check that the server is up and run the "
            f"command again{location.resume}"
        )
        error.transient = True
        return error
    if isinstance(exc, MissingLocation):
        return kinds.not_found(f"{where}: {detail}")
    if isinstance(exc, FileNotFoundError):
        return kinds.not_found(f"{where}: not found: {exc}")
    return kinds.connection(f"{where} failed: {type(exc).__name__}: {exc}")


@contextlib.contextmanager
def translated(location: Location) -> Iterator[None]:
    """Turn what storage code raises inside the block into the error to show."""
    try:
        yield
    except LlmpipeError:
        raise
    except Exception as exc:  # noqa: BLE001 - the storage boundary
        raise translate(exc, location) from exc
