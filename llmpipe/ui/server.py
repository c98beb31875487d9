"""Serving the app: a listening socket on the address asked for, and uvicorn on it.

The socket is bound before uvicorn starts so that the caller knows the port
(`--port 0` picks a free one) and can print the address before the first request.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

from ..errors import LlmpipeError


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """A socket listening on `host`:`port`; LlmpipeError when the address cannot be had."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError as exc:
        sock.close()
        raise LlmpipeError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): choose another port "
            "with --port (0 picks a free one)"
        ) from None
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


def serve(app: Any, sock: socket.socket, verbose: bool = False) -> None:
    """Serve `app` on `sock` until interrupted (Ctrl-C)."""
    import uvicorn

    config = uvicorn.Config(
        app,
        log_level="info" if verbose else "warning",
        access_log=verbose,
        lifespan="off",
        server_header=False,
    )
    uvicorn.Server(config).run(sockets=[sock])
