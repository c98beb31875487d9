"""`Repo`: the typed Python face of a project, over the verbs in `llmpipe.ops`.

    from llmpipe import Repo

    with Repo.discover() as repo:
        result = repo.reproduce(["train"], jobs=2)

Each method is one verb with the options it accepts as typed keywords; the
verbs hold the repository lock, check the access policy and write the audit
record themselves, exactly as the CLI's do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypedDict

from .project import Project, find_root

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from .compare.revisions import RevisionChoice
    from .graph import Graph
    from .ops.add import Added
    from .ops.checkout import CheckoutSummary
    from .ops.data import GcReport
    from .ops.transfer import PullResult
    from .progress import Progress, TransferProgress
    from .remote.transfer import TransferResult
    from .run.reporter import Reporter
    from .run.scheduler import ReproResult
    from .run.status import StatusEntry

__all__ = ["Repo", "TransferOptions", "find_root"]


class TransferOptions(TypedDict, total=False):
    """The keyword options of `Repo.push` and `Repo.fetch` (all optional)."""

    remote: str | None  # default: each output's own remote, else the default remote
    jobs: int | None  # transfers at once
    run_cache: bool  # also the run-cache (`runs/`)
    all_branches: bool  # also the outputs every local branch records (dvc's -a)
    all_tags: bool  # ... every tag (-T)
    all_commits: bool  # ... every commit (-A)
    progress: TransferProgress | None


class Repo(Project):
    """An llmpipe (and DVC) project rooted at `root`, with its verbs."""

    @classmethod
    def discover(cls, start: str = ".") -> Repo:
        return cls(find_root(start))

    def reproduce(
        self,
        targets: Sequence[str] = (),
        *,
        force: bool = False,
        single_item: bool = False,
        downstream: bool = False,
        force_downstream: bool = False,
        jobs: int = 1,
        dry: bool = False,
        keep_going: bool = False,
        use_run_cache: bool = True,
        overrides: Sequence[str] = (),
        all_pipelines: bool = False,
        reporter: Reporter | None = None,
        progress: Progress | None = None,
    ) -> ReproResult:
        """Bring `targets` (default: the root dvc.yaml's stages; with `all_pipelines`,
        every stage) up to date; nothing is printed."""
        from .ops.repro import ReproRequest, reproduce

        request = ReproRequest(
            tuple(targets), force, single_item, downstream, force_downstream,
            jobs, dry, keep_going, use_run_cache, tuple(overrides), all_pipelines,
        )  # fmt: skip
        return reproduce(self, request, reporter, progress)

    def status(self, targets: Sequence[str] = ()) -> list[StatusEntry]:
        """Per selected stage, the reasons it would run (empty when up to date)."""
        from .ops.status import status

        return status(self, targets)

    def add(self, paths: Sequence[str], *, progress: Progress | None = None) -> list[Added]:
        """Track files or directories with `.dvc` files, saving them to the cache."""
        from .ops.add import add

        return add(self, paths, progress)

    def checkout(
        self, targets: Sequence[str] = (), *, relink: bool = False, force: bool = False
    ) -> CheckoutSummary:
        """Restore recorded outputs; `force` discards workspace changes not in the cache."""
        from .ops.checkout import checkout

        return checkout(self, targets, relink=relink, force=force)

    def gc(
        self,
        *,
        workspace: bool = True,
        dry: bool = False,
        revisions: RevisionChoice | None = None,
        drop_unaliased: bool = False,
        cloud: bool = False,
        remote: str | None = None,
    ) -> GcReport:
        """Remove cache objects that neither the workspace, `revisions` nor the registry
        use; with `cloud`, from the remote (`remote`, default: the default one) too."""
        from .ops.data import GcRequest, collect_garbage

        request = GcRequest(workspace, revisions, dry, drop_unaliased, cloud, remote)
        return collect_garbage(self, request)

    def push(
        self, targets: Sequence[str] = (), **options: Unpack[TransferOptions]
    ) -> TransferResult:
        """Upload the cached outputs of `targets` (default: all) that the remote lacks."""
        from .ops.transfer import push

        return self._move(push, targets, options)

    def fetch(
        self, targets: Sequence[str] = (), **options: Unpack[TransferOptions]
    ) -> TransferResult:
        """Download the objects of `targets` (default: all) missing from the cache."""
        from .ops.transfer import fetch

        return self._move(fetch, targets, options)

    def _move(
        self, verb: Callable[..., TransferResult], targets: Sequence[str], options: TransferOptions
    ) -> TransferResult:
        from .ops.transfer import TransferRequest

        request = TransferRequest(
            tuple(targets),
            options.get("remote"),
            options.get("jobs"),
            options.get("run_cache", False),
            options.get("all_branches", False),
            all_tags=options.get("all_tags", False),
            all_commits=options.get("all_commits", False),
        )
        return verb(self, request, options.get("progress"))

    def pull(
        self,
        targets: Sequence[str] = (),
        *,
        remote: str | None = None,
        jobs: int | None = None,
        force: bool = False,
        progress: TransferProgress | None = None,
    ) -> PullResult:
        """fetch, then check out; `force` discards workspace changes not in the cache."""
        from .ops.transfer import TransferRequest, pull

        return pull(self, TransferRequest(tuple(targets), remote, jobs), progress, force)

    def graph(self) -> Graph:
        from .graph import build_graph

        return build_graph(self.stages())

    def __enter__(self) -> Repo:
        return self
