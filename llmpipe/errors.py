"""The error hierarchy: every failure a user can cause is an `LlmpipeError`.

Messages are written for people: what went wrong, where, and how to fix it.
The CLI prints the message and exits non-zero; it shows a traceback only
with `--verbose`. Any other exception reaching the CLI is a bug in llmpipe
(see `cli/main.py`). Every error class of llmpipe is defined here.
"""

from __future__ import annotations

# What a bug in llmpipe exits with: any exception that is not an LlmpipeError
# (EX_SOFTWARE of sysexits.h), told apart from a user's mistake (exit code 1).
BUG_EXIT_CODE = 70


class LlmpipeError(Exception):
    """Root of every user-facing llmpipe error."""

    exit_code = 1


class SpecError(LlmpipeError):
    """A dvc.yaml, .dvc or params file is malformed or inconsistent."""


class InterpolationError(Exception):
    """A `${...}` could not be resolved; the caller adds file and stage.

    Not an LlmpipeError: the spec loader always translates it into a
    SpecError naming the file and stage, so one reaching the CLI is a bug.
    """

    def __init__(self, message: str, key: str | None = None) -> None:
        super().__init__(message)
        self.key = key


class GraphError(LlmpipeError):
    """The stage graph is invalid: a cycle, duplicated or overlapping outputs."""


class TargetError(LlmpipeError):
    """A target names no stage or file of the project."""


class RevisionError(LlmpipeError):
    """A git revision that cannot be resolved or read (or no git repository at all)."""


class ExperimentError(LlmpipeError):
    """An experiment that cannot be found, named, saved or moved (`llmpipe exp`)."""


class CacheError(LlmpipeError):
    """An object is missing from the cache or does not match its hash."""


class FileProblem(LlmpipeError):
    """A metrics, params or plots file that is missing or cannot be parsed."""


class FileAbsent(FileProblem):
    """A metrics, params or plots file that a revision does not have (nor record)."""


class ObjectsMissing(FileProblem):
    """A file a revision records in its dvc.lock, whose cache object is not here."""

    def __init__(self, message: str, oids: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.oids = oids


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


class ExecutorError(RunError):
    """An executor (Ray, Slurm) cannot take the work: not installed, not reachable, or
    asked for resources that no node of the cluster has."""


class MissingDependencyError(RunError):
    """A stage's dependency does not exist."""


class CommitRefusedError(LlmpipeError):
    """`commit` of a changed stage that the user did not confirm (nor forced)."""


class RepoLockedError(LlmpipeError):
    """Another llmpipe process holds the repository lock."""


class NotAProjectError(LlmpipeError):
    """The current directory is not inside an llmpipe (or DVC) project."""


class SourceError(LlmpipeError):
    """A repository named as a data source (`ls`, `get`, `import`, `llmpipe.api`) cannot
    serve the request: it cannot be cloned, is not a project, or lacks the revision."""


class PathMissingError(SourceError, FileNotFoundError):
    """The path is neither tracked by the source project nor a file git holds there."""


class ConfigError(LlmpipeError):
    """A configuration file or setting is invalid."""


class StorageError(LlmpipeError):
    """Storage (a remote, a shared registry, a deploy destination) failed.

    `transient` is true for failures worth retrying: the network, not the request.
    """

    transient = False


class StorageAuthError(StorageError):
    """The storage refused our credentials (or none were found)."""


class StorageConnectionError(StorageError):
    """The storage could not be reached, or failed in a way it did not explain."""


class StorageNotFoundError(StorageError):
    """The storage's location (bucket, folder, host path) does not exist."""


class BackendMissingError(StorageError):
    """The package serving a URL scheme is not installed."""


class RemoteError(LlmpipeError):
    """A remote could not be reached or refused an operation."""


# Remotes: every backend failure is translated into one of these at the boundary.


class RemoteConfigError(ConfigError):
    """A remote is not configured, or its settings are invalid."""


class EncryptedRemoteError(RemoteConfigError):
    """A remote configured as plain holds an encrypted remote's key check."""


class RemoteAuthError(RemoteError, StorageAuthError):
    """The remote refused our credentials (or found none)."""


class RemoteConnectionError(RemoteError, StorageConnectionError):
    """The remote could not be reached, even after retries."""


class RemoteNotFoundError(RemoteError, StorageNotFoundError):
    """The remote's location (bucket, folder, host path) does not exist."""


class CorruptObject(LlmpipeError):
    """A downloaded object does not match its hash."""


class CheckpointError(LlmpipeError):
    """A checkpoint stream's record, or a checkpoint to resume from, cannot be used."""


class RegistryError(LlmpipeError):
    """The model registry refused an operation or failed verification."""


# A shared registry and deploy destinations: storage failures there are these.


class RegistryAuthError(RegistryError, StorageAuthError):
    """A shared registry or deploy destination refused our credentials (or found none)."""


class RegistryConnectionError(RegistryError, StorageConnectionError):
    """A shared registry or deploy destination could not be reached."""


class RegistryNotFoundError(RegistryError, StorageNotFoundError):
    """A shared registry's or deploy destination's bucket, folder or host path is missing."""


class AccessError(LlmpipeError):
    """The current identity lacks the permission for an action.

    `action` and `reason` name the refusal for the audit record.
    """

    def __init__(self, message: str, action: str | None = None, reason: str | None = None) -> None:
        super().__init__(message)
        self.action = action
        self.reason = reason


class PolicyError(LlmpipeError):
    """The policy files are missing, malformed, or fail signature/chain verification."""


class TrustStateError(LlmpipeError):
    """This clone's trust state (pinned root, log marks) cannot be read."""


class AuditError(LlmpipeError):
    """The audit log cannot be written, read or merged."""


class CryptoError(LlmpipeError):
    """A key is missing or wrong, or a ciphertext failed authentication."""
