"""The pages: each handler reads the project through the modules beside it and renders.

Handlers get the `Dashboard` and the request; they raise `LlmpipeError` for bad
input (the app turns it into an error page). Writes are the two POST handlers at
the end: allowed only with `--allow-writes`, each checks the CSRF token and calls
the `ops.registry` verb, which checks the access policy and writes the audit record.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from ..errors import LlmpipeError, TargetError
from . import graph_svg
from .app import json_response
from .guard import project_path, token_ok

if TYPE_CHECKING:
    from .app import Dashboard
    from .experiments import Experiment
    from .pipeline import Live, PipelineView

MAX_PLOT_ROWS = 20


def table() -> list[tuple[str, Callable[..., Any], list[str]]]:
    return [
        ("/pipeline", pipeline_page, ["GET"]),
        ("/pipeline/graph", pipeline_fragment, ["GET"]),
        ("/pipeline/stage", stage_page, ["GET"]),
        ("/api/live", live, ["GET"]),
        ("/experiments", experiments_page, ["GET"]),
        ("/experiments/compare", compare_page, ["GET"]),
        ("/plots", plots_page, ["GET"]),
        ("/plots/export.svg", export_svg, ["GET"]),
        ("/plots/export.png", export_png, ["GET"]),
        ("/lineage", lineage_page, ["GET"]),
        ("/registry", registry_page, ["GET"]),
        ("/registry/promote", promote, ["POST"]),
        ("/registry/rollback", rollback, ["POST"]),
        ("/audit", audit_page, ["GET"]),
    ]


# pipeline


def _pipeline(dashboard: Dashboard) -> tuple[PipelineView, Live, str]:
    from .lineage import latest_by_address
    from .pipeline import live_state, pipeline_view, with_live

    with dashboard.project() as project:
        records, _ = dashboard.lineage(project)
        view = pipeline_view(project, latest_by_address(records))
        live_now = live_state(project)
    view = with_live(view, live_now)
    return view, live_now, _stage_graph(view)


def _stage_graph(view: PipelineView) -> str:
    from urllib.parse import quote

    nodes = [
        graph_svg.Node(
            stage.address,
            stage.address,
            _state_label(stage.state, stage.reasons),
            f"state-{stage.state}",
            f"/pipeline/stage?name={quote(stage.address)}",
            "\n".join([stage.address, *(stage.desc or "").splitlines(), *stage.reasons]),
        )
        for stage in view.stages
    ]
    return graph_svg.render(nodes, view.edges, "graph pipeline-graph")


def _state_label(state: str, reasons: tuple[str, ...]) -> str:
    if state == "changed" and reasons:
        return reasons[0]
    return {"ran": "ran just now", "restored": "restored just now"}.get(state, state)


def pipeline_page(dashboard: Dashboard, request: Request) -> Response:
    view, live_now, svg = _pipeline(dashboard)
    return dashboard.page("pipeline.html", "pipeline", view=view, live=live_now, svg=svg)


def pipeline_fragment(dashboard: Dashboard, request: Request) -> Response:
    view, live_now, svg = _pipeline(dashboard)
    return dashboard.page("pipeline_body.html", "pipeline", view=view, live=live_now, svg=svg)


def live(dashboard: Dashboard, request: Request) -> Response:
    from .pipeline import live_state

    with dashboard.project() as project:
        return json_response(live_state(project).to_json())


def stage_page(dashboard: Dashboard, request: Request) -> Response:
    from .lineage import latest_by_address
    from .pipeline import pipeline_view, stage_detail

    address = request.query_params.get("name", "")
    with dashboard.project() as project:
        records, _ = dashboard.lineage(project)
        view = pipeline_view(project, latest_by_address(records))
        if view.error:
            raise LlmpipeError(view.error)
        detail = stage_detail(project, address, view, records)
    return dashboard.page("stage.html", "pipeline", detail=detail)


# experiments


def _table(dashboard: Dashboard) -> Any:
    with dashboard.project() as project:
        records, _ = dashboard.lineage(project)
        return dashboard.experiments.table(project, records)


def experiments_page(dashboard: Dashboard, request: Request) -> Response:
    return dashboard.page("experiments.html", "experiments", table=_table(dashboard))


def compare_page(dashboard: Dashboard, request: Request) -> Response:
    from ..compare.diff import diff_values

    ids = [request.query_params.get("a", ""), request.query_params.get("b", "")]
    if not all(ids):
        raise TargetError("choose two experiments to compare (a=… and b=…)")
    old, new = _table(dashboard).find(ids)
    sections = {
        kind: diff_values(old.nested(kind), new.nested(kind), include_all=True)
        for kind in ("metrics", "params")
    }
    return dashboard.page("compare.html", "experiments", old=old, new=new, sections=sections)


# plots


def _chosen_rows(dashboard: Dashboard, request: Request) -> tuple[list[Experiment], Any]:
    """The rows the query names (`rows=ID`, repeated), or the workspace and every branch."""
    table_now = _table(dashboard)
    ids = request.query_params.getlist("rows")
    if not ids:
        ids = [r.id for r in table_now.rows if r.kind in ("workspace", "branch")]
    if len(ids) > MAX_PLOT_ROWS:
        raise LlmpipeError(f"choose at most {MAX_PLOT_ROWS} rows to plot ({len(ids)} chosen)")
    return table_now.find(ids), table_now


def _figures(dashboard: Dashboard, rows: list[Experiment]) -> tuple[list[Any], list[str]]:
    from .plots import figures

    with dashboard.project() as project:
        records, _ = dashboard.lineage(project)
        return figures(project, rows, records)


def plots_page(dashboard: Dashboard, request: Request) -> Response:
    from ..compare.chart import render_svg

    rows, table_now = _chosen_rows(dashboard, request)
    found, problems = _figures(dashboard, rows)
    charts = [(figure, render_svg(figure)) for figure in found]
    query = urlencode([("rows", r.id) for r in rows])
    return dashboard.page(
        "plots.html",
        "plots",
        rows=rows,
        all_rows=table_now.rows,
        charts=charts,
        problems=problems,
        query=query,
    )


def _one_figure(dashboard: Dashboard, request: Request) -> Any:
    rows, _ = _chosen_rows(dashboard, request)
    wanted = request.query_params.get("plot", "")
    found, _ = _figures(dashboard, rows)
    for figure in found:
        if figure.id == wanted:
            return figure
    raise TargetError(f"no plot '{wanted}' for these rows")


def _download_name(figure: Any, suffix: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in figure.id)
    return f"{safe or 'plot'}.{suffix}"


def export_svg(dashboard: Dashboard, request: Request) -> Response:
    from ..compare.chart import render_svg

    figure = _one_figure(dashboard, request)
    disposition = f'attachment; filename="{_download_name(figure, "svg")}"'
    return Response(
        render_svg(figure),
        media_type="image/svg+xml",
        headers={"content-disposition": disposition},
    )


def export_png(dashboard: Dashboard, request: Request) -> Response:
    import os
    import tempfile

    from ..compare.chart import render_png

    figure = _one_figure(dashboard, request)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "plot.png")
        render_png(figure, path)
        with open(path, "rb") as handle:
            data = handle.read()
    disposition = f'attachment; filename="{_download_name(figure, "png")}"'
    return Response(data, media_type="image/png", headers={"content-disposition": disposition})


# lineage


def lineage_page(dashboard: Dashboard, request: Request) -> Response:
    from .lineage import starting_points, walk, walk_graph

    text = request.query_params.get("path", "")
    digest = request.query_params.get("hash") or None
    with dashboard.project() as project:
        records, warnings = dashboard.lineage(project)
        models = _registered_versions(project)
        if not text:
            starts = starting_points(records)
            return dashboard.page(
                "lineage.html", "lineage", walk=None, starts=starts, models=models,
                warnings=warnings, path="", graph="", hash_note="",
            )  # fmt: skip
        path = project_path(text)
        digest, note = _hash_for(project, path, digest)
    result = walk(records, path, digest)
    return dashboard.page(
        "lineage.html", "lineage", walk=result, starts=[], models=models, warnings=warnings,
        path=path, graph=walk_graph(result), hash_note=note,
    )  # fmt: skip


def _hash_for(project: Any, path: str, digest: str | None) -> tuple[str | None, str]:
    """The hash to walk from: the one asked for, else what dvc.lock records for `path`."""
    from ..outputs import workspace_outputs

    if digest:
        return digest, ""
    try:
        recorded = {o.path: o.info.value for o in workspace_outputs(project.root, project.stages())}
    except LlmpipeError:
        recorded = {}
    if path in recorded:
        return recorded[path], "the version dvc.lock records"
    return None, "the latest run that wrote it (no hash recorded for this path)"


def _registered_versions(project: Any) -> list[dict[str, Any]]:
    """Every registered model version with the artifact it holds, for the start list."""
    from ..stage import HashInfo
    from .registry import registry_view

    view = registry_view(project)
    found = []
    for model_view in view.models:
        for version in model_view.model.versions.values():
            info = HashInfo.from_lock_dict(dict(version.data.get("hash") or {}))
            found.append(
                {
                    "model": version.model,
                    "version": version.version,
                    "aliases": model_view.model.aliases_of(version.version),
                    "path": version.data.get("path"),
                    "hash": info.value if info else None,
                }
            )
    return found


# registry


def registry_page(dashboard: Dashboard, request: Request) -> Response:
    from .registry import event_summary, registry_view

    with dashboard.project() as project:
        view = registry_view(project)
    notice = dashboard.notices.get(request.query_params.get("notice", ""))
    return dashboard.page(
        "registry.html", "registry", view=view, notice=notice, summary=event_summary
    )


async def _form(dashboard: Dashboard, request: Request) -> dict[str, str] | Response:
    """The posted fields, or the refusal: read-only, or a missing or wrong CSRF token."""
    if not dashboard.writable:
        return PlainTextResponse(
            "this dashboard is read-only: start it with 'llmpipe ui --allow-writes'", 403
        )
    body = (await request.body()).decode("utf-8", "replace")
    fields = {key: values[-1] for key, values in parse_qs(body).items()}
    if not token_ok(dashboard.options.csrf_token, fields.get("csrf")):
        return PlainTextResponse("missing or wrong CSRF token: reload the page and try again", 403)
    return fields


async def promote(dashboard: Dashboard, request: Request) -> Response:
    fields = await _form(dashboard, request)
    if isinstance(fields, Response):
        return fields
    name, version, alias = fields.get("model", ""), fields.get("version", ""), fields.get("alias")
    args = (name, version, "--to", alias or "")
    return await _write(dashboard, "promote", args, _promote_notice)


async def rollback(dashboard: Dashboard, request: Request) -> Response:
    fields = await _form(dashboard, request)
    if isinstance(fields, Response):
        return fields
    args = (fields.get("model", ""), "--alias", fields.get("alias", ""))
    return await _write(dashboard, "rollback", args, _rollback_notice)


async def _write(
    dashboard: Dashboard, verb: str, args: tuple[str, ...], notice: Callable[..., dict[str, Any]]
) -> Response:
    """Run `registry VERB ARGS` through ops (policy check, audit record); show the outcome."""
    from starlette.concurrency import run_in_threadpool

    try:
        result = await run_in_threadpool(_run_verb, dashboard, verb, args)
        shown = notice(args, result)
    except LlmpipeError as exc:
        shown = {"ok": False, "title": f"registry {verb} refused", "lines": [str(exc)]}
    key = dashboard.add_notice(shown)
    return RedirectResponse(f"/registry?notice={key}", status_code=303)


def _run_verb(dashboard: Dashboard, verb: str, args: tuple[str, ...]) -> Any:
    from ..ops import registry as ops
    from ..ops.audit import Invocation

    options = dashboard.options
    invocation = Invocation(f"registry {verb}", args, options.passphrase)
    with dashboard.project() as project:
        if verb == "promote":
            name, version, _, alias = args
            return ops.promote(project, options.writer, name, version, alias, invocation=invocation)
        name, _, alias = args
        return ops.rollback(project, options.writer, name, alias, invocation=invocation)


def _promote_notice(args: tuple[str, ...], result: Any) -> dict[str, Any]:
    name, version, _, alias = args
    lines = [("PASS  " if c.passed else "FAIL  ") + c.describe() for c in result.checks]
    if result.event is None:
        failed = sum(not c.passed for c in result.checks)
        title = f"{name} {version} not promoted to '{alias}': {failed} gate(s) failed"
        return {"ok": False, "title": title, "lines": lines}
    was = f" (was {result.previous})" if result.previous else ""
    return {"ok": True, "title": f"Promoted {name} {version} to '{alias}'{was}", "lines": lines}


def _rollback_notice(args: tuple[str, ...], event: dict[str, Any]) -> dict[str, Any]:
    data = event["data"]
    title = f"Rolled back '{data['alias']}' of {args[0]} from {data['from']} to {data['to']}"
    return {"ok": True, "title": title, "lines": []}


# audit


def audit_page(dashboard: Dashboard, request: Request) -> Response:
    from .audit import RESULTS, AuditFilter, audit_view

    query = request.query_params
    wanted = AuditFilter(
        text=query.get("text", "").strip(),
        actor=query.get("actor", "").strip(),
        result=query.get("result", "") if query.get("result") in RESULTS else "",
        since=query.get("since", "").strip(),
    )
    view = audit_view(dashboard.options.root, wanted)
    return dashboard.page("audit.html", "audit", view=view, wanted=wanted, results=RESULTS)
