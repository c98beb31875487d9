"""`lineage PATH`: the runs behind the content of PATH, not merely the latest run to write it.

A path is written by many runs (on different branches, with different params);
the one that matters is the run that produced the content the user asks about.
So the content hash comes first: the workspace file hashed through the state DB
(the default), the hash a revision's dvc.lock or `.dvc` file records (`rev`), or
a hash given outright (`hash`, a unique prefix is enough). The trace starts from
the run that wrote exactly that content. Content no recorded run produced is an
error naming the runs that wrote other content, never the latest run of the path.

A path inside a directory output is traced through the directory: its hash is
the directory's, as the lineage store records outputs, not the files in them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from ..errors import TargetError
from ..lineage.query import ProducerIndex, Trace, trace

if TYPE_CHECKING:
    from ..project import Project

SHORT = 8


@dataclass(frozen=True)
class LineageAnswer:
    """The trace of `path`, found through the `output` holding it and that output's `hash`.

    `source` says where the hash came from (`workspace`, `revision main (abc1234)`,
    `hash given`); `warnings` are the lineage store's (files it had to skip).
    """

    path: str
    output: str
    hash: str
    source: str
    trace: Trace
    warnings: tuple[str, ...] = ()
    # For a path in a stage's checkpoint directory: the checkpoint records of the folder
    # it names (of the newest one, for the directory itself), oldest ancestor first.
    checkpoints: tuple[dict[str, Any], ...] = ()


def lineage(
    project: Project, path: str, rev: str | None = None, hash: str | None = None
) -> LineageAnswer:
    """The runs behind the content of the repository-relative `path`, upstream first.

    Without `rev` or `hash`, the content in the workspace. TargetError when no run
    ever produced `path`, when the content looked up was produced by none, or when
    the workspace lacks the path.
    """
    if rev is not None and hash is not None:
        raise TargetError("give --rev or --hash, not both")
    checkpoints = tuple(checkpoint_chain(project, path))
    try:
        return replace(_runs_behind(project, path, rev, hash), checkpoints=checkpoints)
    except TargetError:
        if not checkpoints:
            raise
    # A checkpoint of a run that never finished (or content no run recorded): its
    # checkpoint records are its lineage.
    warnings = tuple(project.lineage.warnings)
    return LineageAnswer(path, path, "", "checkpoint records", Trace([], []), warnings, checkpoints)


def checkpoint_chain(project: Project, path: str) -> list[dict[str, Any]]:
    """The checkpoint records behind `path` when it lies in a stage's checkpoint directory
    (`lineage.checkpoints`): of the newest checkpoint of the folder it names (or of any
    folder, for the directory itself), then its parents; empty otherwise."""
    from ..ckpt.session import local_log
    from ..ckpt.spec import checkpoint_spec
    from ..lineage.checkpoints import chain

    for stage in project.stages():
        spec = checkpoint_spec(stage)
        folder = stage.repo_path(spec.path).replace(os.sep, "/") if spec else None
        if folder is None or not (path == folder or path.startswith(folder + "/")):
            continue
        name = path[len(folder) + 1 :].split("/")[0]
        records = local_log(project).read(stage.address)
        matching = [r for r in records if not name or r["name"] == name]
        return chain(records, matching[-1]) if matching else []
    return []


def _runs_behind(project: Project, path: str, rev: str | None, hash: str | None) -> LineageAnswer:
    index = ProducerIndex(project.lineage.read())
    warnings = tuple(project.lineage.warnings)
    output = index.output_path(path)
    if output is None:
        raise TargetError(
            f"no recorded run produced '{path}' (lineage store: {project.lineage.path}): "
            "run 'llmpipe repro' to build it and record its lineage"
        )
    if hash is not None:
        value, source = _given_hash(index, output, hash), "hash given"
    elif rev is not None:
        value, source = _hash_at_revision(project, output, rev)
    else:
        value, source = _workspace_hash(project, output), "workspace"
    found = trace(index, output, value)
    if not found.runs:
        raise TargetError(_not_produced(index, output, value, source))
    return LineageAnswer(path, output, value, source, found, warnings)


def _given_hash(index: ProducerIndex, output: str, given: str) -> str:
    """The recorded hash of `output` that `given` names (in full or by a unique prefix)."""
    wanted = given.strip().lower()
    matches = sorted(
        {o.hash for o in index.outputs_of(output) if o.hash and o.hash.startswith(wanted)}
    )
    if len(matches) > 1:
        shown = ", ".join(m[:12] for m in matches)
        raise TargetError(f"hash '{given}' is ambiguous for '{output}' ({shown}): give more digits")
    return matches[0] if matches else wanted


def _workspace_hash(project: Project, output: str) -> str:
    from ..cache.build import build

    absolute = os.path.join(project.root, output)
    if not os.path.lexists(absolute):
        raise TargetError(
            f"'{output}' is not in the workspace, so its content has no lineage to show: "
            "bring it back with 'llmpipe checkout', or ask about another version with "
            "--rev REV or --hash HASH"
        )
    return build(absolute, project.config.hash_name, project.state, manifest=False)[0].value


def _hash_at_revision(project: Project, output: str, rev: str) -> tuple[str, str]:
    """The hash the lock or `.dvc` files of revision `rev` record for `output`."""
    from ..compare.revisions import resolve
    from ..outputs import recorded_outputs
    from ..revfs import GitObjects, RevTree, git_location
    from ..spec import load_stages

    git_root, prefix = git_location(project.root)
    with GitObjects(git_root) as objects:
        commit = resolve(git_root, objects, rev)
        tree = RevTree(objects, commit, prefix)
        recorded = {out.path: out.info for out in recorded_outputs(tree, load_stages(tree))}
    source = f"revision {rev} ({commit[:7]})"
    if output not in recorded:
        raise TargetError(f"{source} records no hash for '{output}' in its dvc.lock or .dvc files")
    return recorded[output].value, source


def _not_produced(index: ProducerIndex, output: str, value: str, source: str) -> str:
    others = index.outputs_of(output)
    latest = others[0].hash or "-"
    return (
        f"no recorded run produced '{output}' with content {value[:SHORT]} ({source}): "
        "it was changed after its last run, or made where runs were not recorded; "
        f"{len(others)} recorded run(s) wrote other content there (latest "
        f"{latest[:SHORT]}). Run 'llmpipe repro' to record it, or pick a recorded "
        "version with --hash HASH or --rev REV"
    )
