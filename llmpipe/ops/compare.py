"""What `metrics`, `params` and `plots` need beyond reading: objects fetched on demand.

A metrics or plots file that another revision records in its dvc.lock (often
inside a cached output directory) may be missing from this cache. Rather than
fetching whole outputs, the comparison asks for exactly the objects it reads
(a `.dir` manifest, then the one file), from the remote the output goes to,
with the same access check, lock and verification as `fetch`.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ..errors import RemoteError
from ..run.repolock import repo_lock
from .transfer import require_transfer_rights

if TYPE_CHECKING:
    from ..compare.formats import Fetch
    from ..outputs import UsedOutput
    from ..project import Project


def fetcher(project: Project) -> Fetch | None:
    """A `Fetch` for a comparison of `project`; None when the project has no remote."""
    if not project.config.remotes:
        return None

    def fetch(out: UsedOutput, oids: list[str]) -> None:
        from ..progress import NoProgress
        from ..remote.ops import open_layout
        from ..remote.transfer import download_task, run_tasks

        remote = project.config.remote(out.remote)
        require_transfer_rights(project, [remote], upload=False)
        with repo_lock(project.tmp_dir):
            layout = open_layout(project, remote, create=False)
            try:
                scratch = os.path.join(project.tmp_dir, "remote")
                task = download_task(project.odb, layout, scratch, verify=remote.verify)
                result = run_tasks(oids, task, remote, 1, NoProgress())
            finally:
                layout.backend.close()
        if result.failed:
            reasons = "; ".join(f"{f.oid}: {f.reason}" for f in result.failed)
            raise RemoteError(f"remote '{remote.name}': {reasons}")

    return fetch
