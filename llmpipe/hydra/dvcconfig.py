"""Turn on DVC's `[hydra] enabled = True` in `.dvc/config`, byte for byte as `dvc config` does.

DVC (configobj) writes sections in sorted order of their names, keys indented by
four spaces; the other sections and their text are kept as they are.
"""

from __future__ import annotations

import os
import re

_SECTION = re.compile(r"^\[(.+)\]\s*$")


def enable_hydra(config_path: str) -> None:
    """Set `hydra.enabled = True`, adding the section where DVC would put it."""
    from ..fsutil import atomic_write_text

    text = ""
    if os.path.exists(config_path):
        with open(config_path, encoding="utf-8") as handle:
            text = handle.read()
    blocks = _blocks(text)
    body = [line for line in blocks.pop("hydra", ["[hydra]\n"])[1:] if not _is_key(line, "enabled")]
    blocks["hydra"] = ["[hydra]\n", "    enabled = True\n", *body]
    atomic_write_text(
        config_path, "".join("".join(b) for _, b in sorted(blocks.items(), key=_order))
    )


def _blocks(text: str) -> dict[str, list[str]]:
    """Section name (unquoted) -> its lines, header first; text before any header is kept."""
    blocks: dict[str, list[str]] = {}
    current = ""
    for line in text.splitlines(keepends=True):
        match = _SECTION.match(line.strip())
        if match:
            current = match.group(1).strip().strip("'\"")
            blocks[current] = []
        blocks.setdefault(current, []).append(line if line.endswith("\n") else line + "\n")
    return blocks


def _order(item: tuple[str, list[str]]) -> tuple[int, str]:
    # Lines before the first section stay first; sections sort as configobj's dict does.
    return (0 if item[0] == "" else 1, item[0].split(" ")[0])


def _is_key(line: str, key: str) -> bool:
    return line.split("=", 1)[0].strip() == key
