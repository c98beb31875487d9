"""Remotes: share the cache through local folders, S3, SSH (and GCS, Azure) via fsspec.

The public operations are `push`, `fetch`, `pull` (in `ops`) and
`cloud_status` (in `status`); remotes are configured through `config`.
Heavy backends are imported only when a remote of their kind is used.
"""

from __future__ import annotations

from .ops import TransferRequest, fetch, pull, push
from .status import CloudStatus, cloud_status
from .transfer import Failure, TransferResult

__all__ = [
    "CloudStatus",
    "Failure",
    "TransferRequest",
    "TransferResult",
    "cloud_status",
    "fetch",
    "pull",
    "push",
]
