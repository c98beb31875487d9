"""Find the dvc.yaml and `.dvc` files of a project, and load all their stages.

The walk skips `.git`, `.dvc`, `.llmpipe`, nested DVC repositories, paths that
`.dvcignore` files leave out (llmpipe.dvcignore), and directories a sibling `.gitignore` lists as
`/name`: llmpipe and dvc gitignore every output that way, and an output
directory of 10,000 files must not be walked just to find pipeline files.
At a commit (a `RevTree`) the same rules pick from the commit's file list
(committed files are never gitignored outputs, so that rule has no use there).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Callable, Collection

from llmpipe.dvcignore import DvcIgnore
from llmpipe.revfs import FileTree, RevTree, read_text
from llmpipe.spec.dvcfile import load_dvcfile
from llmpipe.spec.dvcyaml import load_dvcyaml
from llmpipe.stage import Stage

SKIP_DIRS = frozenset({".git", ".dvc", ".llmpipe"})
_GLOB_CHARS = frozenset("*?[")


def load_stages(root: str | RevTree) -> list[Stage]:
    """Every stage of the project: dvc.yaml stages and `.dvc` data sources, file by file.

    `root` is the project folder or a commit's tree. Files come in sorted path
    order and stages in file order, so the result is deterministic. Raises
    SpecError on the first malformed file.
    """
    relpaths = discover_dvcfiles(root) if isinstance(root, str) else dvcfiles_at(root)
    return [stage for relpath in relpaths for stage in load_file_stages(root, relpath)]


def load_file_stages(root: str | FileTree, relpath: str) -> tuple[Stage, ...]:
    """The stages of one dvc.yaml, or the data source of one `.dvc` file."""
    if posix_basename(relpath) == "dvc.yaml":
        return tuple(load_dvcyaml(root, relpath))
    return (load_dvcfile(root, relpath),)


def names_dvcyaml(root: str) -> Callable[[str], bool]:
    """A check for targets that matched no stage: does it name a dvc.yaml of the
    project (one without stages, which dvc accepts as a target)?"""

    def check(target: str) -> bool:
        relpath = posixpath.normpath(target.rstrip("/"))
        inside = not relpath.startswith("../") and relpath != ".."
        named = posix_basename(relpath) == "dvc.yaml"
        return inside and named and os.path.isfile(os.path.join(root, relpath))

    return check


def posix_basename(relpath: str) -> str:
    return relpath.rsplit("/", 1)[-1]


def discover_dvcfiles(root: str) -> list[str]:
    """Sorted repo-relative posix paths of every dvc.yaml and `*.dvc` file."""
    ignore = DvcIgnore.at(root)
    found: list[str] = []
    stack = [""]
    while stack:
        rel_dir = stack.pop()
        subdirs, files = _scan(root, rel_dir)
        if rel_dir and ".dvc" in subdirs:
            continue  # a nested DVC repository is a project of its own
        pruned = _gitignored_dirs(root, rel_dir) if ".gitignore" in files else set()
        for name in files:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if _is_dvcfile(name) and not ignore.ignored(rel, is_dir=False):
                found.append(rel)
        for name in subdirs:
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if name not in SKIP_DIRS and name not in pruned and not ignore.ignored(rel, True):
                stack.append(rel)
    return sorted(found)


def dvcfiles_at(tree: RevTree) -> list[str]:
    """Sorted paths of every dvc.yaml and `*.dvc` file of a commit, by the walk's rules."""
    ignore = DvcIgnore(lambda relpath: read_text(tree, relpath))
    found = tree.find(_is_dvcfile, _enter_at_commit)
    return sorted(path for path in found if not ignore.ignored(path, is_dir=False))


def _enter_at_commit(name: str, inside: Collection[str]) -> bool:
    # A folder holding `.dvc` is a nested DVC project: a project of its own.
    return name not in SKIP_DIRS and ".dvc" not in inside


def _is_dvcfile(name: str) -> bool:
    return name == "dvc.yaml" or (name.endswith(".dvc") and name != ".dvc")


def _scan(root: str, rel_dir: str) -> tuple[list[str], list[str]]:
    """(sub-directory names, file names) of one directory; symlinked dirs are not followed."""
    subdirs: list[str] = []
    files: list[str] = []
    try:
        with os.scandir(os.path.join(root, rel_dir) if rel_dir else root) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    subdirs.append(entry.name)
                else:
                    files.append(entry.name)
    except (PermissionError, FileNotFoundError):
        pass
    return subdirs, files


def _gitignored_dirs(root: str, rel_dir: str) -> set[str]:
    """Names that the directory's .gitignore lists as `/name` or `/name/` (no globs)."""
    try:
        with open(os.path.join(root, rel_dir, ".gitignore"), encoding="utf-8") as handle:
            lines = handle.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return set()
    names = set()
    for line in lines:
        entry = line.strip().rstrip("/")
        if entry.startswith("/") and "/" not in entry[1:] and not _GLOB_CHARS & set(entry):
            names.add(entry[1:])
    return names
