"""Project settings: DVC's `.dvc/config` and `config.local`, llmpipe's `.llmpipe/config`.

One reader, one writer, both speaking dvc's configobj dialect:

- `load_config` reads every file once into a `Config` (a value, with the
  remotes view `Config.remotes` / `Config.remote(name)`);
- `ConfigDocument` edits one file as `dvc config` / `dvc remote` do, byte for
  byte in sections and values, and keeps the file's comments and the sections
  dvc does not know;
- `remotes` holds the edits behind `llmpipe remote add/modify/remove/default`.

dvc's system and global (per-user) files are read first, so the project's files
override them, as dvc merges its levels (`model.ConfigFiles`).
"""

from __future__ import annotations

from .document import ConfigDocument, set_value
from .model import DEFAULT_LINK_TYPES, Config, ConfigFiles, RemoteConfig
from .read import load_config

__all__ = [
    "DEFAULT_LINK_TYPES",
    "Config",
    "ConfigDocument",
    "ConfigFiles",
    "RemoteConfig",
    "load_config",
    "set_value",
]
