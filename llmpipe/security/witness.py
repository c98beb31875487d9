"""This clone's memory of its history: the pinned policy root and how far each log was seen.

The access policy, the registry events and the audit chains are append-only
logs whose every record is signed and chained to the one before. What a
signature cannot show is that records were cut off the end (or the log was
replaced by another valid one). So each clone keeps, where no commit, checkout
or pull can reach it:

- `root`: the fingerprint of the key its policy history is rooted at, pinned
  on first sight and moved only along a rotation the old root signed;
- per log (`policy`, `registry`, `registry:<url>`, `audit:<chain>`) a `Mark`:
  the number of records seen and the hash of the last of them;
- for the policy, a copy of the newest history it verified (`kept`), so that
  an older commit, whose policy.log is a part of that history, is still
  governed by the newest policy (see `rootpin.newest_known`).

A log that comes back shorter than its mark, or whose record at the mark has
another hash, was rolled back or rewritten: `rewound` says so, and the
readers (policy, registry, audit) refuse it. After review,
`llmpipe trust accept LOG` forgets a mark so that the log is seen afresh.

Where: `<git common dir>/llmpipe/trust.json` (shared by the clone's worktrees,
never committed); outside git, `.llmpipe/local/trust.json` (git-ignored). The
file maps each project (its path in the work tree) to its state. Updates hold
an flock and replace the file atomically; a mark only ever grows there, so
concurrent readers and writers never move it back.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ..errors import TrustStateError
from ..fsutil import atomic_write_text, locked

STATE_FILE = "trust.json"
FORMAT = 1


@dataclass(frozen=True)
class Mark:
    """A log seen up to `length` records, the last of which hashed to `hash`."""

    length: int
    hash: str

    def to_dict(self) -> dict[str, Any]:
        return {"length": self.length, "hash": self.hash}


@dataclass(frozen=True)
class Log:
    """How to name one log in messages: its id, what it is, what its records are called."""

    id: str  # the key of its mark
    what: str  # e.g. ".llmpipe/policy.log", "the registry memory://team"
    unit: str  # "version", "event", "record"
    first_number: int = 0  # the number of its first record (policy versions start at 1)
    restore: str = ""  # how to get the records back when the cut was not intended
    accept: str = ""  # the argument of 'llmpipe trust accept' when it is not `id`


def rewound(log: Log, hashes: Sequence[str], seen: Mark | None) -> str | None:
    """Why a log whose records hash to `hashes` (in order) goes back from `seen`; None if not."""
    if seen is None:
        return None
    if len(hashes) < seen.length:
        return (
            f"{log.what} has {len(hashes)} {log.unit}(s), but this clone has seen "
            f"{seen.length}: {log.unit}s were cut off its end (a rollback). " + _recovery(log)
        )
    if hashes[seen.length - 1] != seen.hash:
        number = seen.length - 1 + log.first_number
        return (
            f"{log.what}: {log.unit} {number} differs from the one this clone saw "
            f"({_short(hashes[seen.length - 1])} instead of {_short(seen.hash)}): its history "
            "was rewritten. " + _recovery(log)
        )
    return None


def _recovery(log: Log) -> str:
    restore = f"Restore it ({log.restore}); or, if" if log.restore else "If"
    return (
        f"{restore} the change is intended and reviewed (an older commit checked out on "
        f"purpose), run 'llmpipe trust accept {log.accept or log.id}'"
    )


def _short(value: str) -> str:
    return value.split(":", 1)[-1][:12]


class Witness:
    """The trust state of one project, in the file `path` under the key `project`."""

    def __init__(self, path: str, project: str = ".") -> None:
        self.path = path
        self.project = project

    @classmethod
    def of(cls, root: str) -> Witness:
        """The witness of the project at `root` (nothing is read or created yet)."""
        from ..scm import git_common_dir, git_root

        root = os.path.abspath(root)
        common = git_common_dir(root)
        top = git_root(root)
        if common is None or top is None:
            return cls(os.path.join(root, ".llmpipe", "local", STATE_FILE))
        project = os.path.relpath(root, top).replace(os.sep, "/")
        return cls(os.path.join(common, "llmpipe", STATE_FILE), project)

    # reading

    def root(self) -> str | None:
        """The pinned root fingerprint, or None before the policy was first seen."""
        return self._project_state(self._load()).get("root")

    def mark(self, log_id: str) -> Mark | None:
        return self.marks().get(log_id)

    def marks(self) -> dict[str, Mark]:
        logs = self._project_state(self._load()).get("logs", {})
        try:
            return {name: Mark(int(m["length"]), str(m["hash"])) for name, m in logs.items()}
        except (KeyError, TypeError, ValueError, AttributeError):
            raise self._corrupt("a log mark is malformed") from None

    # writing

    def kept(self, log_id: str) -> list[dict[str, Any]] | None:
        """The records of the newest history of `log_id` this clone kept, if any."""
        records = self._project_state(self._load()).get("kept", {}).get(log_id)
        if records is not None and not isinstance(records, list):
            raise self._corrupt(f"the kept copy of '{log_id}' is not a list")
        return records

    def observe(
        self,
        log: Log,
        hashes: Sequence[str],
        seen: Mark | None,
        root: str | None = None,
        keep: Sequence[dict[str, Any]] | None = None,
    ) -> str | None:
        """Check a log against `seen` (its mark read before the log was) and remember it.

        Returns the refusal message when the log went back; otherwise the mark
        grows to the log's length (never shrinks: a concurrent reader may
        have seen more meanwhile), `root`, when given, is pinned, and `keep`
        (the log's records), when given, is kept as the newest copy, all in one
        locked write that happens only when something changed.
        """
        fault = rewound(log, hashes, seen)
        if fault is not None:
            return fault
        grows = bool(hashes) and (seen is None or len(hashes) > seen.length)
        keeps = keep is not None and self.kept(log.id) is None
        if not grows and not keeps and (root is None or root == self.root()):
            return None
        with self._update() as state:
            fault = self._advance(state, log, hashes, keep)
            if root is not None and fault is None:
                state["root"] = root
        return fault

    def _advance(
        self,
        state: dict[str, Any],
        log: Log,
        hashes: Sequence[str],
        keep: Sequence[dict[str, Any]] | None,
    ) -> str | None:
        logs = state.setdefault("logs", {})
        stored = logs.get(log.id)
        current = Mark(int(stored["length"]), str(stored["hash"])) if stored else None
        if current is not None and current.length > len(hashes):
            return None  # a concurrent reader saw more: its copy is the newer one
        fault = rewound(log, hashes, current)
        if fault is None and hashes:
            logs[log.id] = Mark(len(hashes), hashes[-1]).to_dict()
            if keep is not None:
                state.setdefault("kept", {})[log.id] = list(keep)
        return fault

    def extend(self, log: Log, previous: Mark | None, new: Mark) -> bool:
        """Move the mark from `previous` (the log before one append) to `new`.

        The cheap path for an appender that read only the log's last record.
        False, changing nothing, when the mark is not `previous`: then the
        whole log must be checked with `observe`.
        """
        with self._update() as state:
            logs = state.setdefault("logs", {})
            stored = logs.get(log.id)
            current = Mark(int(stored["length"]), str(stored["hash"])) if stored else None
            if current != previous:
                return False
            logs[log.id] = new.to_dict()
            return True

    def pin_root(self, fingerprint: str) -> None:
        with self._update() as state:
            state["root"] = fingerprint

    def forget(self, log_id: str) -> bool:
        """Forget one mark (`root`: the pinned root); True when there was one."""
        with self._update() as state:
            if log_id == "root":
                return state.pop("root", None) is not None
            state.get("kept", {}).pop(log_id, None)
            return state.get("logs", {}).pop(log_id, None) is not None

    # the file

    def _project_state(self, data: dict[str, Any]) -> dict[str, Any]:
        state = data.get("projects", {}).get(self.project, {})
        if not isinstance(state, dict):
            raise self._corrupt(f"the entry of project '{self.project}' is not a mapping")
        return state

    def _load(self) -> dict[str, Any]:
        try:
            with open(self.path, encoding="utf-8") as handle:
                data = json.load(handle)
        except FileNotFoundError:
            return {}
        except (ValueError, UnicodeDecodeError):
            raise self._corrupt("it is not valid JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("projects", {}), dict):
            raise self._corrupt("it is not a mapping of projects")
        return data

    @contextlib.contextmanager
    def _update(self) -> Iterator[dict[str, Any]]:
        """The project's state, read under the lock and written back atomically."""
        with self._locked():
            data = self._load()
            data["format"] = FORMAT
            projects = data.setdefault("projects", {})
            state = projects.setdefault(self.project, {})
            before = json.dumps(state, sort_keys=True)
            yield state
            if json.dumps(state, sort_keys=True) != before:
                atomic_write_text(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n")

    def _locked(self) -> AbstractContextManager[None]:
        directory = os.path.dirname(self.path)
        os.makedirs(directory, exist_ok=True)
        _ignore_everything(directory)
        return locked(os.path.join(directory, "trust.lock"))

    def _corrupt(self, why: str) -> TrustStateError:
        return TrustStateError(
            f"{self.path} (this clone's memory of the policy root and of how far each log "
            f"was seen) cannot be read: {why}. Restore it from a backup, or delete it to "
            "start over (rolled-back logs then go unnoticed until they are seen again)"
        )


def _ignore_everything(directory: str) -> None:
    # Outside git the state lives in the project (.llmpipe/local/): keep it out of
    # any later commit. Inside the git directory the file is harmless.
    path = os.path.join(directory, ".gitignore")
    if not os.path.exists(path):
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("*\n")
