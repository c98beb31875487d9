"""S3 (and S3-compatible) remotes through obstore, the Python binding of Rust's object_store.

Why not s3fs: with botocore every request costs about a millisecond of Python CPU
(signing, request building, XML parsing), which on a small machine caps the
request rate well below what S3 serves; object_store does the same work natively
and releases the GIL, so threads run requests truly in parallel.

Options are read as DVC names them (`endpointurl`, `region`, `profile`,
`access_key_id`, `secret_access_key`, `session_token`, `use_ssl`, `ssl_verify`).
Without keys in the config, credentials come from botocore's chain (environment,
`~/.aws` profiles, instance roles), as they would for dvc. Errors leave this
module as the built-in types that `backends.translate` understands.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..config import RemoteConfig
from ..errors import BackendMissingError, RemoteConfigError
from .backends import Backend

_PAGE = 1000
_SMALL = 1 << 20  # objects read whole rather than streamed
_REFRESH = timedelta(minutes=5)
# Our own retry loop (transfer.py) retries whole objects with a clear error at the
# end; object_store's retries stay short so a dead server is reported in seconds.
_RETRY = {
    "max_retries": 2,
    "backoff": {
        "init_backoff": timedelta(milliseconds=100),
        "max_backoff": timedelta(seconds=1),
        "base": 2.0,
    },
    "retry_timeout": timedelta(seconds=15),
}
_AUTH_MARKS = (
    "status code: 401",
    "status code: 403",
    "InvalidAccessKeyId",
    "SignatureDoesNotMatch",
    "AccessDenied",
    "ExpiredToken",
)
_CONNECTION_MARKS = (
    "error sending request",
    "connection",
    "Connection",
    "timed out",
    "status code: 5",
)


@contextlib.contextmanager
def _errors() -> Iterator[None]:
    """Re-raise obstore's errors as PermissionError / ConnectionError where they are such."""
    try:
        yield
    except FileNotFoundError:
        raise
    except Exception as exc:
        name = type(exc).__name__
        text = str(exc)
        if name in ("PermissionDeniedError", "UnauthenticatedError") or any(
            mark in text for mark in _AUTH_MARKS
        ):
            raise PermissionError(_first_line(text)) from exc
        if any(mark in text for mark in _CONNECTION_MARKS):
            raise ConnectionError(_first_line(text)) from exc
        raise


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


class S3Backend(Backend):
    """Objects under `s3://bucket/prefix`; a PUT is atomic, so no temporary names."""

    def __init__(self, store: Any) -> None:
        import obstore

        self._obs = obstore
        self.store = store

    def exists(self, relpath: str) -> bool:
        with _errors():
            try:
                self._obs.head(self.store, relpath)
            except FileNotFoundError:
                return False
        return True

    def list_files(self, prefix: str) -> Iterator[str]:
        with _errors():
            folder = prefix.strip("/")
            pages = self._obs.list(
                self.store, prefix=f"{folder}/" if folder else None, chunk_size=_PAGE
            )
            for page in pages:
                for meta in page:
                    if not meta["path"].endswith(".tmp"):
                        yield meta["path"]

    def put_file(self, local: str, relpath: str) -> None:
        with _errors():
            self._obs.put(self.store, relpath, Path(local))

    def get_file(self, relpath: str, local: str, hasher: Any = None) -> bool:
        with _errors():
            result = self._obs.get(self.store, relpath)
            # Small objects in one piece (fewer calls into Rust); large ones streamed.
            chunks = [result.bytes()] if result.meta["size"] <= _SMALL else result
            with open(local, "wb") as out:
                for chunk in chunks:
                    if hasher is not None:
                        hasher.update(chunk)  # verified as it arrives: no second read
                    out.write(chunk)
        return hasher is not None

    def put_bytes(self, relpath: str, data: bytes) -> None:
        with _errors():
            self._obs.put(self.store, relpath, data)

    def get_bytes(self, relpath: str) -> bytes:
        with _errors():
            return bytes(self._obs.get(self.store, relpath).bytes())

    def remove(self, relpath: str) -> None:
        with _errors():
            self._obs.delete(self.store, relpath)


def open_s3(remote: RemoteConfig, store_class: Any) -> S3Backend:
    """The backend for an `s3://bucket/prefix` remote; `store_class` is obstore's S3Store."""
    parts = urlsplit(remote.url)
    if not parts.netloc:
        raise RemoteConfigError(f"remote '{remote.name}': {remote.url} names no bucket")
    opts = remote.options
    config: dict[str, Any] = {"region": _region(opts)}
    client: dict[str, Any] = {"connect_timeout": timedelta(seconds=10)}
    endpoint = opts.get("endpointurl")
    if endpoint:
        config["endpoint"] = endpoint
        client["allow_http"] = endpoint.startswith("http://")
    if opts.get("use_ssl", "").lower() == "false":
        client["allow_http"] = True
    if opts.get("ssl_verify", "").lower() == "false":
        client["allow_invalid_certificates"] = True
    keys = _keys(opts)
    config.update(keys)
    store = store_class(
        parts.netloc,
        prefix=parts.path.strip("/") or None,
        config=config,
        client_options=client,
        retry_config=_RETRY,
        credential_provider=None if keys else _BotocoreCredentials(opts.get("profile")),
    )
    return S3Backend(store)


def _region(opts: dict[str, str]) -> str:
    return (
        opts.get("region")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1"
    )


def _keys(opts: dict[str, str]) -> dict[str, str]:
    """Keys written in the config (`.dvc/config.local`), if any."""
    if not (opts.get("access_key_id") and opts.get("secret_access_key")):
        return {}
    keys = {"access_key_id": opts["access_key_id"], "secret_access_key": opts["secret_access_key"]}
    if opts.get("session_token"):
        keys["session_token"] = opts["session_token"]
    return keys


class _BotocoreCredentials:
    """obstore credential provider backed by botocore (profiles, SSO, instance roles)."""

    def __init__(self, profile: str | None) -> None:
        try:
            import botocore.session
        except ImportError as exc:
            raise BackendMissingError(
                "reading AWS credentials needs botocore: pip install 'llmpipe[s3]'"
            ) from exc
        self.session = botocore.session.Session(profile=profile)

    def __call__(self) -> dict[str, Any]:
        found = self.session.get_credentials()
        if found is None:
            raise PermissionError(
                "no AWS credentials found (set access_key_id/secret_access_key on the "
                "remote, a profile, or the AWS_* environment variables)"
            )
        frozen = found.get_frozen_credentials()
        # Temporary credentials (a token) are asked for again after a while; botocore
        # refreshes them when they near their own expiry.
        expires = datetime.now(timezone.utc) + _REFRESH if frozen.token else None
        return {
            "access_key_id": frozen.access_key,
            "secret_access_key": frozen.secret_key,
            "token": frozen.token,
            "expires_at": expires,
        }
