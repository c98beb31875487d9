"""Audited verbs: one signed record per call, built from what the verb returned or raised.

A verb is marked where it is declared (`@audited("checkout")`). When it ends,
successfully, failing or refused, one record goes to the project's audit log:
the command and arguments as the caller gave them (`Invocation`: the CLI passes
the words typed; the Python API gets the verb's name), and the targets and
outcome that the verb's `describe` function reads off its result. Refusals are AccessErrors carrying
the action and reason. Verbs marked `only_if_targets` (a no-op `repro`) write
nothing when they touched nothing, so the up-to-date path does no I/O here.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from ..errors import BUG_EXIT_CODE, AccessError, LlmpipeError

if TYPE_CHECKING:
    from ..project import Project
    from ..security.keys import PassphraseSource


class Invocation(NamedTuple):
    """How a verb was invoked, as its audit record names it.

    `passphrase` unlocks an encrypted signing key (the CLI prompts on a terminal).
    NamedTuples, not dataclasses, here: each dataclass costs ~0.3 ms at start-up.
    """

    command: str
    args: tuple[str, ...] = ()
    passphrase: PassphraseSource | None = None


class Outcome(NamedTuple):
    """How a call ended, for its record: `result` is ok, failed or refused."""

    result: str = "ok"
    exit: int = 0
    error: str | None = None
    refused: tuple[dict[str, str], ...] = ()  # the refused actions and why


Targets = list[dict[str, Any]]
Describe = Callable[[Any], tuple[Targets, Outcome]]
Verb = TypeVar("Verb", bound=Callable[..., Any])


def _nothing(_result: Any) -> tuple[Targets, Outcome]:
    return [], Outcome()


def audited(
    command: str, *, describe: Describe = _nothing, only_if_targets: bool = False
) -> Callable[[Verb], Verb]:
    """Mark an ops verb (first argument: the Project) as audited under `command`.

    `describe(result)` gives the record's targets and outcome (default: none, ok).
    The verb gains two keyword arguments: `invocation` (default: `command`, no
    arguments) and `audit` (False skips the record: a sweep job's throwaway copy).
    """

    def mark(verb: Verb) -> Verb:
        @functools.wraps(verb)
        def run(
            project: Project,
            *args: Any,
            invocation: Invocation | None = None,
            audit: bool = True,
            **kwargs: Any,
        ) -> Any:
            if not audit:
                return verb(project, *args, **kwargs)
            called = invocation or Invocation(command)
            try:
                result = verb(project, *args, **kwargs)
            except BaseException as exc:
                _write(project, called, [], _failure(exc))
                raise
            targets, outcome = describe(result)
            if not (only_if_targets and not targets and outcome.result == "ok"):
                _write(project, called, targets, outcome)
            return result

        run.audited_as = command  # type: ignore[attr-defined]
        return run  # type: ignore[return-value]

    return mark


def _failure(exc: BaseException) -> Outcome:
    if isinstance(exc, AccessError):
        refused = ({"action": exc.action, "reason": exc.reason},) if exc.action else ()
        return Outcome("refused", exc.exit_code, str(exc), refused)
    if isinstance(exc, LlmpipeError):
        return Outcome("failed", exc.exit_code, str(exc))
    if isinstance(exc, KeyboardInterrupt):
        return Outcome("failed", 130, "interrupted")
    return Outcome("failed", BUG_EXIT_CODE, f"{type(exc).__name__}: {exc}")


def _write(project: Project, called: Invocation, targets: Targets, outcome: Outcome) -> None:
    """Append the record; a log that cannot be written must not hide the verb's result."""
    from ..security.audit.log import AuditLog, audit_dir, signing_key_or_none
    from ..security.identity import member_name

    entry: dict[str, Any] = {
        "command": called.command,
        "args": list(called.args),
        "targets": targets,
        "result": outcome.result,
        "exit": outcome.exit,
        "error": outcome.error,
    }
    if outcome.refused:
        entry["refused"] = list(outcome.refused)
    try:
        key = signing_key_or_none(called.passphrase)
        member = member_name(project.root, key.fingerprint if key else None)
        if member is not None:
            entry["actor_member"] = member
        AuditLog(audit_dir(project.root)).append(entry, key)
    except (LlmpipeError, OSError) as exc:
        project.notices.append(f"could not write the audit record: {exc}")
