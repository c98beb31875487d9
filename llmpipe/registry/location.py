"""Where a shared registry or a deploy destination is: a URL, or a path on a remote.

`remote://NAME/path` (DVC's syntax for a path on a remote) names `path` under
remote NAME of `.dvc/config`, with that remote's connection options (endpoint,
profile, keys in `config.local`, SSH key file, …), so one place holds a team's
storage settings. Any other URL is used as it is, credentials coming from the
environment (botocore's chain for `s3://`, `~/.ssh` for `ssh://`). Failures
there are `RegistryError`s.
"""

from __future__ import annotations

from ..errors import (
    ConfigError,
    RegistryAuthError,
    RegistryConnectionError,
    RegistryNotFoundError,
)
from ..storage import ErrorKinds, Location

REMOTE_SCHEME = "remote://"
REGISTRY_ERRORS = ErrorKinds(
    auth=RegistryAuthError,
    connection=RegistryConnectionError,
    not_found=RegistryNotFoundError,
    config=ConfigError,
)


def storage_location(root: str, url: str, what: str) -> Location:
    """`url` (given for `what`, e.g. "the registry") as a storage location.

    ConfigError when a `remote://` URL names no configured remote, or an
    encrypted one: the registry and deploy store their files in plain.
    """
    if not url.startswith(REMOTE_SCHEME):
        return Location(
            url,
            label=f"{what} {url}",
            credentials="the environment, or use a configured remote: remote://NAME/path",
            errors=REGISTRY_ERRORS,
        )
    from ..project import Project

    name, _, path = url[len(REMOTE_SCHEME) :].partition("/")
    remote = Project(root).config.remote(name)
    if remote.encrypt:
        raise ConfigError(
            f"{what} {url}: remote '{name}' is encrypted, but the registry and deploy "
            "store plain files; use a remote without 'encrypt'"
        )
    target = remote.url.rstrip("/") + (f"/{path.strip('/')}" if path.strip("/") else "")
    return Location(
        target,
        remote.options,
        label=f"{what} {url} ({target})",
        credentials=f"'llmpipe remote modify --local {name} …' or the environment",
        errors=REGISTRY_ERRORS,
    )
