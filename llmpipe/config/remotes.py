"""The edits behind `llmpipe remote add/modify/remove/default`, written as dvc writes them.

Each command changes the file dvc would change (`.dvc/config`, or
`.dvc/config.local` with `--local`) through `ConfigDocument`, so the sections
and values are dvc's byte for byte and the file's comments stay. Two llmpipe
rules on top: secrets (`password`, `secret_access_key`, …) always go to a
`.local` file, and keys dvc does not know (`encrypt`, `key_file`, …) go to
`.llmpipe/config` or `.llmpipe/config.local`, because dvc rejects them.
"""

from __future__ import annotations

import os

from ..errors import RemoteConfigError
from ..gitignore import add_entry
from .dialect import remote_section
from .document import ConfigDocument
from .model import ConfigFiles
from .read import load_config
from .schema import remote_option_problem

LLMPIPE_KEYS = frozenset({"encrypt", "key_file", "key_env", "known_hosts"})
SECRET_KEYS = frozenset(
    {
        "access_key_id",
        "secret_access_key",
        "session_token",
        "password",
        "passphrase",
        "key_file",
        "account_key",
        "connection_string",
        "sas_token",
    }
)
# A `.local` file may hold secrets: a new one is readable by its owner only.
_LOCAL_MODE = 0o600


def add_remote(
    files: ConfigFiles,
    name: str,
    url: str,
    *,
    default: bool = False,
    force: bool = False,
    local: bool = False,
    cwd: str | None = None,
) -> None:
    """Add remote `name` at `url` (relative to `cwd`); RemoteConfigError if it exists.

    With `force` an existing remote's options in that file are replaced.
    """
    section = remote_section(name)
    if not force and load_config(files.dvc_dir, files.llmpipe_dir).has_remote_section(name):
        raise RemoteConfigError(
            f"remote '{name}' already exists; use -f to overwrite it, or "
            f"'llmpipe remote modify {name} url URL'"
        )
    document = ConfigDocument.load(_dvc_file(files, local))
    document.clear_section(section)
    document.set(section, "url", url, cwd)
    if default:
        document.set("core", "remote", name)
    _save(document, local)


def remove_remote(files: ConfigFiles, name: str, local: bool = False) -> None:
    """Remove remote `name` (from the `.local` files only with `local`), and unset it as default.

    Like dvc, the default is unset in `.dvc/config.local` and, without `local`, in
    `.dvc/config`; both files are rewritten.
    """
    dvc_files = [files.local] if local else [files.local, files.repo]
    own_files = [files.llmpipe_local] if local else [files.llmpipe, files.llmpipe_local]
    documents = [ConfigDocument.load(path) for path in dvc_files + own_files]
    found = [d.remove_section(remote_section(name)) for d in documents]
    if not any(found):
        where = ".dvc/config.local" if local else ".dvc/config"
        raise RemoteConfigError(f"remote '{name}' does not exist in {where}")
    for document, had_it in zip(documents, found, strict=True):
        unset = document.get("core", "remote") == name and document.unset("core", "remote")
        if document.path in dvc_files or had_it or unset:
            _save(document, document.path.endswith(".local"))


def set_default(files: ConfigFiles, name: str | None, local: bool = False) -> None:
    """Make `name` the default remote (None: unset the default)."""
    document = ConfigDocument.load(_dvc_file(files, local))
    if name is None:
        document.unset("core", "remote")
    else:
        load_config(files.dvc_dir, files.llmpipe_dir).remote(name)
        document.set("core", "remote", name)
    _save(document, local)


def modify_remote(
    files: ConfigFiles,
    name: str,
    key: str,
    value: str | None,
    local: bool = False,
    cwd: str | None = None,
) -> str:
    """Set (with value None, unset) option `key` of remote `name`; returns the file changed.

    RemoteConfigError, with nothing written, for an option or value dvc would refuse.
    """
    remote = load_config(files.dvc_dir, files.llmpipe_dir).remote(name)
    _check_option(remote.url, name, key, value)
    path = _file_for(files, key, local)
    document = ConfigDocument.load(path)
    section = remote_section(name)
    if value is None:
        if not document.unset(section, key):
            raise RemoteConfigError(f"remote '{name}' has no option '{key}' in {path}")
        if not document.get_section(section):
            # dvc would leave a bare header (and, without a url, refuse the file).
            document.remove_section(section)
    else:
        document.set(section, key, value, cwd)
    _save(document, path.endswith(".local"))
    if path == files.llmpipe_local:
        add_entry(os.path.join(files.llmpipe_dir, ".gitignore"), "/config.local")
    return path


def _check_option(url: str, name: str, key: str, value: str | None) -> None:
    if key in LLMPIPE_KEYS:
        return
    if key == "url" and value is None:
        raise RemoteConfigError(
            f"remote '{name}' needs a url (dvc refuses a remote without one); "
            f"use 'llmpipe remote remove {name}' to remove it"
        )
    problem = remote_option_problem(value if key == "url" and value else url, key, value)
    if problem:
        raise RemoteConfigError(f"cannot set option of remote '{name}': {problem}")


def _dvc_file(files: ConfigFiles, local: bool) -> str:
    return files.local if local else files.repo


def _file_for(files: ConfigFiles, key: str, local: bool) -> str:
    private = local or key in SECRET_KEYS
    if key in LLMPIPE_KEYS:
        return files.llmpipe_local if private else files.llmpipe
    return files.local if private else files.repo


def _save(document: ConfigDocument, local: bool) -> None:
    document.save(_LOCAL_MODE if local else None)
