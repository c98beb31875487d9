"""Helpers for the cache tests: data trees on disk and a progress recorder."""

from __future__ import annotations

import os

TREE = {
    "a.txt": b"hello",
    "a-b": b"x",
    "a/b": b"y",
    "sub/deep/run.sh": b"#!/bin/sh\necho hi\n",
    "empty": b"",
}


def write_tree(root, files=TREE) -> str:
    for rel, data in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as handle:
            handle.write(data)
    return str(root)


def read_tree(root) -> dict[str, bytes]:
    found = {}
    for directory, _, files in os.walk(root):
        for name in files:
            path = os.path.join(directory, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, root).replace(os.sep, "/")] = handle.read()
    return found


class CountingProgress:
    """Adds up what `advance` receives."""

    def __init__(self) -> None:
        self.total = 0
        self.started = 0

    def start(self, description: str, total: int | None) -> None:
        self.started += 1

    def advance(self, n: int) -> None:
        self.total += n

    def finish(self) -> None:
        pass
