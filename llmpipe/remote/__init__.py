"""Remotes: share the cache through local folders, S3, SSH (and GCS, Azure): `llmpipe.storage`.

The engine of the transfer verbs (`llmpipe.ops.transfer`): `plan_transfer` and
`run_transfer` (in `ops`), `cloud_status` (in `status`); remotes are configured
through `config`. Heavy backends are imported only when a remote of their kind
is used.
"""

from __future__ import annotations

from .ops import TransferPlan, TransferRequest, plan_transfer, run_transfer
from .status import CloudStatus, cloud_status
from .transfer import Failure, TransferResult

__all__ = [
    "CloudStatus",
    "Failure",
    "TransferPlan",
    "TransferRequest",
    "TransferResult",
    "cloud_status",
    "plan_transfer",
    "run_transfer",
]
