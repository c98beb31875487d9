"""The dashboard's ASGI app: one route per page, the read-only switch, CSRF on every write.

Pages are rendered on the server from the library's values (`pipeline`,
`experiments`, `plots`, `lineage`, `registry`, `audit`) with a little vanilla
JavaScript for sorting, filtering and live updates. Static files are the
package's own, served by name from a fixed list: nothing else on disk is ever
sent. Each request opens the project anew; what is costly to read and cannot
change under it (a commit's metrics, a parsed lineage store that did not grow)
is kept between requests.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from ..errors import LlmpipeError, TargetError
from ..project import Project
from . import guard
from .experiments import ExperimentReader
from .lineage import RecordCache
from .render import render

if TYPE_CHECKING:
    from ..lineage.record import RunRecord
    from ..registry.ops import Writer
    from ..security.keys import PassphraseSource

STATIC_FILES = {
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
    "favicon.svg": "image/svg+xml",
}
PAGES = ("pipeline", "experiments", "plots", "lineage", "registry", "audit")


@dataclass
class UiOptions:
    """How the dashboard serves the project at `root`.

    Writes need `allow_writes` and a `writer` (the signing key, loaded once);
    `passphrase` unlocks that key again for the audit record. `allowed_hosts`
    are the names the `Host` header may carry (None: any, for a public address).
    """

    root: str
    allow_writes: bool = False
    writer: Writer | None = None
    passphrase: PassphraseSource | None = None
    allowed_hosts: tuple[str, ...] | None = guard.LOOPBACK_HOSTS
    max_commits: int = 50
    csrf_token: str = field(default_factory=guard.new_token)


class Dashboard:
    """The state the pages share: options, caches, and notices after a write."""

    def __init__(self, options: UiOptions) -> None:
        self.options = options
        self.records = RecordCache()
        self.experiments = ExperimentReader(options.max_commits)
        self.notices: dict[str, dict[str, Any]] = {}
        self._notice_ids = itertools.count(1)
        self._mutex = threading.Lock()

    @property
    def writable(self) -> bool:
        return self.options.allow_writes and self.options.writer is not None

    def project(self) -> Project:
        return Project(self.options.root)

    def lineage(self, project: Project) -> tuple[list[RunRecord], list[str]]:
        """Every lineage record (newest first) and the store's warnings."""
        return self.records.records(project.lineage)

    def page(self, template: str, active: str, **context: Any) -> HTMLResponse:
        html = render(
            template,
            active=active,
            pages=PAGES,
            project_name=os.path.basename(self.options.root),
            project_root=self.options.root,
            writable=self.writable,
            csrf=self.options.csrf_token,
            **context,
        )
        return HTMLResponse(html)

    def add_notice(self, notice: dict[str, Any]) -> str:
        with self._mutex:
            key = str(next(self._notice_ids))
            self.notices[key] = notice
            for old in list(self.notices)[:-50]:  # a few recent ones are enough
                del self.notices[old]
        return key


def create_app(options: UiOptions) -> Any:
    """The ASGI app serving `options.root`, wrapped in `guard.Guard`."""
    from . import routes

    dashboard = Dashboard(options)
    handlers: list[tuple[str, Callable[..., Any], list[str]]] = [
        ("/", _home, ["GET"]),
        ("/static/{name}", _static, ["GET"]),
        *routes.table(),
    ]
    app = Starlette(
        routes=[
            Route(path, _wrap(dashboard, handler), methods=methods)
            for path, handler, methods in handlers
        ],
    )
    return guard.Guard(app, options.allowed_hosts)


def _wrap(dashboard: Dashboard, handler: Callable[..., Any]) -> Callable[..., Any]:
    """Give a handler the dashboard, and turn a user error into an error page."""
    import inspect

    from starlette.concurrency import run_in_threadpool

    async def endpoint(request: Request) -> Response:
        try:
            if inspect.iscoroutinefunction(handler):
                return await handler(dashboard, request)
            return await run_in_threadpool(handler, dashboard, request)
        except LlmpipeError as exc:
            return _error_page(dashboard, 404 if isinstance(exc, TargetError) else 400, str(exc))
        except Exception as exc:  # a bug: one line on the page, the traceback in the log
            logging.getLogger(__name__).exception("bug in llmpipe ui at %s", request.url.path)
            return _error_page(
                dashboard, 500, f"this is a bug in llmpipe ({type(exc).__name__}: {exc}); "
                "the server's output has the traceback: please report it",
            )  # fmt: skip

    return endpoint


def _error_page(dashboard: Dashboard, status: int, message: str) -> Response:
    response = dashboard.page("error.html", "", message=message)
    response.status_code = status
    return response


def _home(dashboard: Dashboard, request: Request) -> Response:
    return RedirectResponse("/pipeline", status_code=302)


def _static(dashboard: Dashboard, request: Request) -> Response:
    name = request.path_params["name"]
    if name not in STATIC_FILES:
        return PlainTextResponse("not found", status_code=404)
    data = resources.files("llmpipe.ui").joinpath("static", name).read_bytes()
    return Response(data, media_type=STATIC_FILES[name])


def json_response(data: Any, status: int = 200) -> JSONResponse:
    return JSONResponse(data, status_code=status)
