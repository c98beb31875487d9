"""The model card written beside deployed files: version, lineage, params, metrics, history."""

from __future__ import annotations

import json
from typing import Any

from .state import ModelState, Version


def describe_event(event: dict[str, Any]) -> str:
    """One line of a model's history, e.g. `promoted 1.0.1 to production (was 1.0.0)`."""
    data = event.get("data") or {}
    kind = event.get("type")
    version = data.get("version")
    if kind == "register":
        note = f": {data['message']}" if data.get("message") else ""
        return f"registered {version}{note}"
    if kind == "promote":
        was = f" (demoted {data['previous']})" if data.get("previous") else ""
        forced = " FORCED past failed gates" if data.get("forced") else ""
        return f"promoted {version} to {data.get('alias')}{was}{forced}"
    if kind == "rollback":
        return f"rolled back {data.get('alias')} from {data.get('from')} to {data.get('to')}"
    if kind == "deprecate":
        return f"deprecated {version}"
    if kind == "deploy":
        return f"deployed {version} ({data.get('ref')}) to {data.get('url')}"
    if kind == "monitor":
        verdict = "DEGRADED" if data.get("degraded") else "ok"
        return f"monitored {version} ({data.get('alias')}): {verdict}"
    return str(kind)


def history_lines(model: ModelState, events: list[dict[str, Any]] | None = None) -> list[str]:
    """One line per event (default: all of the model's): time, who, key, what happened."""
    from ..security.identity import actor_label

    return [
        f"{e.get('time')}  {actor_label(e)} [{str(e.get('actor'))[:15]}]  {describe_event(e)}"
        for e in (model.events if events is None else events)
    ]


def registrant(version: Version) -> str:
    """Who registered `version`: the policy member, else the git name, else ''."""
    return version.actor_member or version.actor_name or ""


def render_card(model: ModelState, version: Version, ref: str) -> str:
    data = version.data
    lineage = data.get("lineage") or {}
    lines = [
        f"# {model.name} {version.version}",
        "",
        f"- deployed as: `{ref}`",
        f"- digest: `{version.digest}`",
        f"- content hash: `{(data.get('hash') or {}).get('md5', '')}` (`{data.get('path')}`)",
        f"- registered: {version.time} by {registrant(version)} ({version.actor})",
    ]
    if data.get("message"):
        lines.append(f"- message: {data['message']}")
    lines += ["", "## Lineage", ""]
    lines += [
        f"- run: `{lineage.get('run_id')}` (stage `{lineage.get('stage')}`)",
        f"- git commit: `{lineage.get('git_commit')}`"
        + (" (dirty)" if lineage.get("git_dirty") else ""),
    ]
    lines += [f"- input `{d['path']}`: `{d['hash']}`" for d in lineage.get("deps") or []]
    lines += ["", "## Parameters", "", "```json"]
    lines += [json.dumps(lineage.get("params") or {}, indent=2, sort_keys=True), "```"]
    lines += ["", "## Metrics (at registration)", "", "| metric | value |", "|---|---|"]
    lines += [f"| {k} | {v} |" for k, v in sorted(version.metrics.items())]
    lines += ["", "## Registry history", ""]
    lines += [f"- {line}" for line in history_lines(model)]
    return "\n".join(lines) + "\n"
