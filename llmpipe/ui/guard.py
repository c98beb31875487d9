"""What keeps the dashboard local and its writes deliberate.

- `Guard`, an ASGI middleware: requests must name an allowed host in their
  `Host` header (a web page elsewhere cannot reach 127.0.0.1 through a DNS name
  it controls), a POST from a page of another origin is refused, and every
  response forbids framing, sniffing and any script, style or connection that
  is not the dashboard's own.
- CSRF tokens: one random token per server, in every form; a POST without it
  is refused (`token_ok`).
- `project_path`: a path a user typed, as a repository-relative path that
  stays inside the project, or an error.
"""

from __future__ import annotations

import hmac
import posixpath
import secrets
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from ..errors import TargetError

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")

# Scripts, styles and images only from the dashboard itself; plots are inline SVG.
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
]

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_ok(expected: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).encode())


def host_of(header: str) -> str:
    """The host part of a `Host` header: `[::1]:8080` -> `::1`, `localhost:80` -> `localhost`."""
    header = header.strip().lower()
    if header.startswith("["):
        return header[1:].partition("]")[0]
    return header.rpartition(":")[0] if header.count(":") == 1 else header


class Guard:
    """Host check, same-origin POSTs and security headers around the app.

    `allowed_hosts` None accepts any `Host` (a server bound to a public address
    on purpose, reached under names it cannot know).
    """

    def __init__(self, app: App, allowed_hosts: Iterable[str] | None) -> None:
        self.app = app
        self.allowed = None if allowed_hosts is None else {h.lower() for h in allowed_hosts}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(scope, headers)
        if refusal:
            await _plain(send, 403 if "origin" in refusal else 400, refusal)
            return

        async def with_headers(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)

    def _refusal(self, scope: Scope, headers: dict[str, str]) -> str | None:
        host = headers.get("host", "")
        if self.allowed is not None and host_of(host) not in self.allowed:
            return f"unknown host {host!r}: this dashboard answers to {sorted(self.allowed)}"
        origin = headers.get("origin")
        if scope["method"] == "POST" and origin and origin.split("://", 1)[-1].lower() != host:
            return f"a page of another origin ({origin}) may not post to this dashboard"
        return None


async def _plain(send: Send, status: int, text: str) -> None:
    body = text.encode()
    headers = [(b"content-type", b"text/plain; charset=utf-8"), *SECURITY_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def project_path(text: str) -> str:
    """`text` as a normalized repository-relative posix path; TargetError if it leaves the
    project (absolute, `..`, or a drive) or is empty."""
    raw = text.strip().replace("\\", "/")
    path = posixpath.normpath(raw) if raw else ""
    if not raw or path in (".", "") or raw.startswith("/") or ":" in path.split("/")[0]:
        raise TargetError(f"'{text}' is not a path inside the project")
    if path == ".." or path.startswith("../"):
        raise TargetError(f"'{text}' is outside the project")
    return path
