"""S3 (and S3-compatible) storage through obstore, the Python binding of Rust's object_store.

Why not s3fs: with botocore every request costs about a millisecond of Python CPU
(signing, request building, XML parsing), which on a small machine caps the
request rate well below what S3 serves; object_store does the same work natively
and releases the GIL, so threads run requests truly in parallel.

Options are read as DVC names them (`endpointurl`, `region`, `profile`,
`access_key_id`, `secret_access_key`, `session_token`, `use_ssl`, `ssl_verify`).
Without keys in the options, credentials come from botocore's chain (environment,
`~/.aws` profiles, instance roles), as they would for dvc; without `endpointurl`,
so does the endpoint (`AWS_ENDPOINT_URL[_S3]`, a profile's `endpoint_url`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import BackendMissingError
from .backend import Backend
from .errors import MissingLocation, translate, translated
from .location import Location

_PAGE = 1000
_SMALL = 1 << 20  # objects read whole rather than streamed
_REFRESH = timedelta(minutes=5)
# Our own retry loop (remote/transfer.py) retries whole objects with a clear error at
# the end; object_store's retries stay short so a dead server is reported in seconds.
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
    "no AWS credentials found",
)
_CONNECTION_MARKS = (
    "error sending request",
    "connection",
    "Connection",
    "timed out",
    "status code: 5",
)
# A conditional PUT that lost to another writer: 412, or 409 while both are in flight.
_LOST_RACE = ("AlreadyExistsError", "PreconditionError")


class S3Backend(Backend):
    """Objects under `s3://bucket/prefix`; a PUT is atomic, so no temporary names."""

    def __init__(self, location: Location, store: Any, bucket: str) -> None:
        import obstore

        super().__init__(location)
        self._obs = obstore
        self.store = store
        self.bucket = bucket

    def _exists(self, relpath: str) -> bool:
        try:
            self._obs.head(self.store, relpath)
        except FileNotFoundError:
            return False
        return True

    def _list_files(self, prefix: str) -> Iterator[str]:
        folder = prefix.strip("/")
        pages = self._obs.list(
            self.store, prefix=f"{folder}/" if folder else None, chunk_size=_PAGE
        )
        for page in pages:
            for meta in page:
                if not meta["path"].endswith(".tmp"):
                    yield meta["path"]

    def _put_file(self, local: str, relpath: str) -> None:
        self._obs.put(self.store, relpath, Path(local))

    def _get_file(self, relpath: str, local: str, hasher: Any) -> bool:
        result = self._obs.get(self.store, relpath)
        # Small objects in one piece (fewer calls into Rust); large ones streamed.
        chunks = [result.bytes()] if result.meta["size"] <= _SMALL else result
        with open(local, "wb") as out:
            for chunk in chunks:
                if hasher is not None:
                    hasher.update(chunk)  # verified as it arrives: no second read
                out.write(chunk)
        return hasher is not None

    def _put_bytes(self, relpath: str, data: bytes) -> None:
        self._obs.put(self.store, relpath, data)

    def _get_bytes(self, relpath: str) -> bytes:
        return bytes(self._obs.get(self.store, relpath).bytes())

    def _create_bytes(self, relpath: str, data: bytes) -> bool:
        # A conditional PUT (If-None-Match: *): S3 stores it only where nothing is.
        try:
            self._obs.put(self.store, relpath, data, mode="create")
        except Exception as exc:
            if type(exc).__name__ in _LOST_RACE or "status code: 409" in str(exc):
                return False
            raise
        return True

    def _remove(self, relpath: str) -> None:
        self._obs.delete(self.store, relpath)

    def _fingerprint(self, relpath: str) -> tuple[str, str, int | None]:
        meta = self._obs.head(self.store, relpath)  # dvc records S3's ETag, unquoted
        return "etag", str(meta["e_tag"]).strip('"'), meta["size"]

    def _failure(self, exc: Exception) -> BaseException:
        """obstore reports failures as text: read it for what went wrong."""
        text = str(exc)
        if "NoSuchBucket" in text:
            missing = MissingLocation(
                f"bucket '{self.bucket}' does not exist: create it, or correct the URL"
            )
            return translate(missing, self.location)
        if isinstance(exc, FileNotFoundError):
            return exc
        if type(exc).__name__ in ("PermissionDeniedError", "UnauthenticatedError") or any(
            mark in text for mark in _AUTH_MARKS
        ):
            return translate(PermissionError(_first_line(text)), self.location)
        if any(mark in text for mark in _CONNECTION_MARKS):
            return translate(ConnectionError(_first_line(text)), self.location)
        return translate(exc, self.location)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text


def open_s3(location: Location, store_class: Any) -> S3Backend:
    """The backend for an `s3://bucket/prefix` location; `store_class` is obstore's S3Store."""
    parts = urlsplit(location.url)
    if not parts.netloc:
        raise location.errors.config(f"{location.where}: {location.url} names no bucket")
    opts = location.options
    keys = _keys(opts)
    with translated(location):
        session = None if keys and opts.get("endpointurl") else _botocore_session(opts)
        config: dict[str, Any] = {"region": _region(opts), **keys}
        client: dict[str, Any] = {"connect_timeout": timedelta(seconds=10)}
        endpoint = opts.get("endpointurl") or _configured_endpoint(session)
        if endpoint:
            config["endpoint"] = endpoint
            client["allow_http"] = endpoint.startswith("http://")
        if opts.get("use_ssl", "").lower() == "false":
            client["allow_http"] = True
        if opts.get("ssl_verify", "").lower() == "false":
            client["allow_invalid_certificates"] = True
        store = store_class(
            parts.netloc,
            prefix=parts.path.strip("/") or None,
            config=config,
            client_options=client,
            retry_config=_RETRY,
            credential_provider=None if keys else _BotocoreCredentials(session),
        )
    return S3Backend(location, store, parts.netloc)


def _region(opts: Mapping[str, str]) -> str:
    return (
        opts.get("region")
        or os.environ.get("AWS_REGION")
        or os.environ.get("AWS_DEFAULT_REGION")
        or "us-east-1"
    )


def _keys(opts: Mapping[str, str]) -> dict[str, str]:
    """Keys written in the options (`.dvc/config.local` for a remote), if any."""
    if not (opts.get("access_key_id") and opts.get("secret_access_key")):
        return {}
    keys = {"access_key_id": opts["access_key_id"], "secret_access_key": opts["secret_access_key"]}
    if opts.get("session_token"):
        keys["session_token"] = opts["session_token"]
    return keys


def _botocore_session(opts: Mapping[str, str]) -> Any:
    try:
        import botocore.session
    except ImportError as exc:
        raise BackendMissingError(
            "reading AWS credentials needs botocore: pip install 'llmpipe[s3]'"
        ) from exc
    return botocore.session.Session(profile=opts.get("profile"))


def _configured_endpoint(session: Any) -> str | None:
    """The S3 endpoint botocore would use (`AWS_ENDPOINT_URL_S3`, …, the profile's)."""
    if session is None or _ignores_configured_endpoints(session):
        return None
    from botocore.configprovider import ConfiguredEndpointProvider

    provider = ConfiguredEndpointProvider(
        full_config=session.full_config,
        scoped_config=session.get_scoped_config(),
        client_name="s3",
    )
    return provider.provide()


def _ignores_configured_endpoints(session: Any) -> bool:
    return bool(session.get_config_variable("ignore_configured_endpoint_urls"))


class _BotocoreCredentials:
    """obstore credential provider backed by botocore (profiles, SSO, instance roles)."""

    def __init__(self, session: Any) -> None:
        self.session = session

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
