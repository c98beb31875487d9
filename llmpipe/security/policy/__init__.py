"""The access policy: who may register, promote, roll back, deploy, push, decrypt, administer.

Two committed files hold it:

- `.llmpipe/policy.log`: every version ever made, one canonical-JSON envelope
  per line. Version 1 is signed by its own first admin; every later version
  names the hash of the one before (`previous`) and is signed by a member who
  holds `admin` in that previous version.
- `.llmpipe/policy.yaml`: the latest envelope as readable YAML; it must be
  identical to the last line of the log.

`load_policy` verifies the whole chain and refuses (PolicyError naming the
version and the fault) on any mismatch, so a hand edit that no admin signed
never takes effect. The signer of version 1 is the policy's root, which
moves only by a rotation the current root signs; `rootpin` checks every
loaded history against the pinned root (`.llmpipe/root.yaml` and this
clone's memory) and against how far this clone has already seen it. The
library API for other modules is `load_policy`, `Policy.allows`,
`policy_in_force` and `require`.

Modules, each importing only those listed before it: `model` (the policy as
a value), `chain` (verifying a history), `store` (the files), `rootpin`
(the root of trust and this clone's memory of the history), `load` (the
policy in force), `edits` and `change` (signed new versions), `access`
(`require`).
"""

from .access import current_fingerprint, require
from .chain import verify_chain
from .change import change_policy, init_policy, rotate_root
from .edits import (
    PolicyEdit,
    add_member,
    grant,
    remove_member,
    revoke,
    set_gates,
    set_role,
    set_setting,
)
from .load import load_policy, policy_history, policy_in_force
from .model import ACTIONS, DEFAULT_ROLES, AccessDecision, Member, Policy, check_action, permits
from .store import POLICY_FILE, POLICY_LOG, has_policy, policy_paths

__all__ = [
    "ACTIONS",
    "DEFAULT_ROLES",
    "POLICY_FILE",
    "POLICY_LOG",
    "AccessDecision",
    "Member",
    "Policy",
    "PolicyEdit",
    "add_member",
    "change_policy",
    "check_action",
    "current_fingerprint",
    "grant",
    "has_policy",
    "init_policy",
    "load_policy",
    "permits",
    "policy_history",
    "policy_in_force",
    "policy_paths",
    "remove_member",
    "require",
    "revoke",
    "rotate_root",
    "set_gates",
    "set_role",
    "set_setting",
    "verify_chain",
]
