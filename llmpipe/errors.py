"""The error hierarchy: every failure a user can cause is an `LlmpipeError`.

Messages are written for people: what went wrong, where, and how to fix it.
The CLI prints the message and exits non-zero; it shows a traceback only
with `--verbose`.
"""

from __future__ import annotations


class LlmpipeError(Exception):
    """Root of every user-facing llmpipe error."""

    exit_code = 1


class SpecError(LlmpipeError):
    """A dvc.yaml, .dvc or params file is malformed or inconsistent."""


class GraphError(LlmpipeError):
    """The stage graph is invalid: a cycle, duplicated or overlapping outputs."""


class TargetError(LlmpipeError):
    """A target names no stage or file of the project."""


class RevisionError(LlmpipeError):
    """A git revision that cannot be resolved or read (or no git repository at all)."""


class CacheError(LlmpipeError):
    """An object is missing from the cache or does not match its hash."""


class UnsafePathError(LlmpipeError):
    """A path to write leads outside the workspace or into .git, .dvc or .llmpipe."""


class UnsavedChangesError(LlmpipeError):
    """A checkout would delete or overwrite workspace content that is not in the cache.

    `paths` are the files kept as they are.
    """

    def __init__(self, message: str, paths: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.paths = paths


class RunError(LlmpipeError):
    """A stage failed: its command exited non-zero or did not produce an output.

    `exit_status` is the failing command's status (negative: killed by that signal).
    """

    def __init__(self, message: str, exit_status: int | None = None) -> None:
        super().__init__(message)
        self.exit_status = exit_status


class MissingDependencyError(RunError):
    """A stage's dependency does not exist."""


class RepoLockedError(LlmpipeError):
    """Another llmpipe process holds the repository lock."""


class NotAProjectError(LlmpipeError):
    """The current directory is not inside an llmpipe (or DVC) project."""


class ConfigError(LlmpipeError):
    """A configuration file or setting is invalid."""


class RemoteError(LlmpipeError):
    """A remote could not be reached or refused an operation."""


class RegistryError(LlmpipeError):
    """The model registry refused an operation or failed verification."""


class AccessError(LlmpipeError):
    """The current identity lacks the permission for an action."""


class CryptoError(LlmpipeError):
    """A key is missing or wrong, or a ciphertext failed authentication."""
