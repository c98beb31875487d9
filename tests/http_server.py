"""A local HTTP server that tests start themselves (URL dependencies)."""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import os
import threading
from collections.abc import Iterator
from pathlib import Path


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder; with `etag`, each file's md5 as its ETag, as many servers do."""

    etag = True

    def end_headers(self) -> None:
        path = self.translate_path(self.path)
        if self.etag and os.path.isfile(path):
            digest = hashlib.md5(Path(path).read_bytes()).hexdigest()
            self.send_header("ETag", f'"{digest}"')
        super().end_headers()

    def log_message(self, *args: object) -> None:
        pass


@contextlib.contextmanager
def serving(folder: Path, etag: bool) -> Iterator[str]:
    """A local HTTP server for `folder`, started by the test; yields its base URL."""
    handler = type("Handler", (_Handler,), {"etag": etag})
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
