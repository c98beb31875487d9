"""The policy in force: the workspace's history, or the newer one this clone kept, verified."""

from __future__ import annotations

import os
from typing import Any

from ...errors import PolicyError
from ..witness import Witness
from .chain import policy_from, verify_chain
from .model import Policy
from .rootpin import check_history, in_force, missing_policy_error, newest_known, policy_log_name
from .store import check_yaml_matches, policy_paths, read_log


def policy_in_force(root: str) -> bool:
    """Whether the project has an access policy to enforce.

    False only for a project that never had one. A project whose root key is
    pinned (committed `.llmpipe/root.yaml`, or this clone's memory) but whose
    policy files are gone raises PolicyError: deleting the policy is not a
    way to turn access control off.
    """
    return in_force(root)


def load_policy(repo: Any) -> Policy:
    """The policy in force in a project (a `Project` or root path), verified from version 1 on.

    That is the last version of `.llmpipe/policy.log`, or of the newer history this
    clone verified before when the workspace holds only its beginning (an older
    commit) or no policy files (see `rootpin.newest_known`). Raises PolicyError when
    there is none, when anything fails verification, or when the history
    contradicts a pinned root or what this clone has already seen of it.
    """
    return _history_in_force(root_of(repo))[1]


def policy_history(repo: Any) -> list[Policy]:
    """Every version of the policy in force, oldest first, verified as `load_policy` does."""
    envelopes, _ = _history_in_force(root_of(repo))
    return [policy_from(e, f"policy version {n}") for n, e in enumerate(envelopes, 1)]


def _history_in_force(root: str) -> tuple[list[dict[str, Any]], Policy]:
    yaml_path, log_path = policy_paths(root)
    trust = Witness.of(root)
    seen = trust.mark(policy_log_name().id)  # before the log is read: it may grow meanwhile
    envelopes = _workspace_history(yaml_path, log_path)
    policy = verify_chain(envelopes, log_path) if envelopes is not None else None
    if envelopes is not None:
        check_yaml_matches(yaml_path, envelopes[-1])
    kept = newest_known(trust, envelopes)
    if kept is not None:
        envelopes, policy = kept, verify_chain(kept, f"this clone's copy of {log_path}")
    if envelopes is None or policy is None:
        raise missing_policy_error(root) or PolicyError(
            f"this project has no access policy: run 'llmpipe policy init' in {root}"
        )
    check_history(root, trust, envelopes, policy, seen)
    return envelopes, policy


def _workspace_history(yaml_path: str, log_path: str) -> list[dict[str, Any]] | None:
    if os.path.exists(log_path):
        return read_log(log_path)
    if os.path.exists(yaml_path):
        raise PolicyError(
            f"{yaml_path} exists but its signed history {log_path} is missing: "
            "restore it from git (git checkout -- .llmpipe/policy.log)"
        )
    return None


def root_of(repo: Any) -> str:
    """The root path of a project given as a `Project` (anything with `.root`) or a path."""
    return repo if isinstance(repo, str) else repo.root
