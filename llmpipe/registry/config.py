"""Registry settings: `.llmpipe/registry.yaml` (committed).

```yaml
url: s3://bucket/registry          # optional: a shared registry (default .llmpipe/registry/)
gates:                             # checked by `registry promote --to ALIAS`
  production:
    - metrics.perplexity <= current * 1.02
    - metrics.accuracy >= 0.6
monitor:                           # checked by `llmpipe monitor` (every alias) ...
  - metrics.accuracy >= registered - 0.02
# ... or per alias:  monitor: {production: [...], staging: [...]}
```
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

CONFIG_FILE = "registry.yaml"


@dataclass(frozen=True)
class RegistryConfig:
    url: str | None = None
    gates: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    monitor: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # alias or "*" -> checks

    def gates_for(self, alias: str) -> tuple[str, ...]:
        return tuple(self.gates.get(alias, ()))

    def monitor_for(self, alias: str) -> tuple[str, ...]:
        return tuple(self.monitor.get(alias, ())) + tuple(self.monitor.get("*", ()))


def config_path(root: str) -> str:
    return os.path.join(root, ".llmpipe", CONFIG_FILE)


def load_config(root: str) -> RegistryConfig:
    """The registry settings of the project at `root` (defaults when the file is absent)."""
    from ..yamlio import load_yaml_file

    path = config_path(root)
    try:
        data = load_yaml_file(path, error=ConfigError) or {}
    except FileNotFoundError:
        return RegistryConfig()
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with url, gates, monitor")
    unknown = set(data) - {"url", "gates", "monitor"}
    if unknown:
        raise ConfigError(f"{path}: unknown keys {sorted(unknown)} (known: url, gates, monitor)")
    monitor = data.get("monitor") or {}
    if isinstance(monitor, list):
        monitor = {"*": monitor}
    return RegistryConfig(
        url=str(data["url"]) if data.get("url") else None,
        gates=_checks(data.get("gates") or {}, path, "gates"),
        monitor=_checks(monitor, path, "monitor"),
    )


def _checks(section: Any, path: str, name: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(section, dict):
        raise ConfigError(f"{path}: '{name}' must map an alias to a list of checks")
    found = {}
    for alias, checks in section.items():
        if isinstance(checks, str):
            checks = [checks]
        if not isinstance(checks, list) or not all(isinstance(c, str) for c in checks):
            raise ConfigError(f"{path}: {name}.{alias} must be a list of expressions (strings)")
        found[str(alias)] = tuple(checks)
    return found
