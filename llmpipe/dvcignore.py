"""`.dvcignore`: the files and folders that every walk of the project leaves out.

One owner for dvc's ignore rules, used by every walker: finding pipeline files,
hashing a directory (add, status, repro outputs and deps) and checking one out.
The rules are dvc's:

- gitignore syntax (pathspec's gitignore patterns, as dvc uses), one pattern a
  line, `#` comments, `!` negation; lines are stripped of surrounding blanks;
- a `.dvcignore` in any folder applies to the paths below that folder, after the
  rules of the folders above it (the last matching rule wins);
- a path is ignored when it matches, or when a folder above it is ignored (a
  negation cannot bring back a file of an ignored folder);
- `.git`, `.hg` and `.dvc/` are always ignored;
- a `.dvcignore` that the rules above it ignore is not read.

Paths are repository-relative and posix (`data/raw/a.txt`).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from functools import lru_cache
from typing import NamedTuple

DVCIGNORE = ".dvcignore"
# (folder, sub-folder names, file names) -> what a walk keeps of them
Prune = Callable[[str, list[str], list[str]], tuple[list[str], list[str]]]


class _Rule(NamedTuple):
    """One compiled `.dvcignore` pattern (a NamedTuple: a dataclass costs ~0.4 ms at import)."""

    regex: re.Pattern[str]
    ignore: bool  # False for a `!` rule
    dir_only: bool  # the pattern ends with "/"
    base: str  # the folder of its .dvcignore ("" for the root)


@lru_cache(maxsize=4096)
def _compile(pattern: str) -> tuple[re.Pattern[str], bool] | None:
    from pathspec.patterns.gitignore.spec import GitIgnoreSpecPattern

    regex, include = GitIgnoreSpecPattern.pattern_to_regex(pattern)
    if regex is None or include is None:
        return None
    return re.compile(regex), include


def parse_rules(text: str, base: str = "") -> tuple[_Rule, ...]:
    """The rules of a `.dvcignore` in folder `base` (blank lines and comments dropped)."""
    rules = []
    for line in text.splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        compiled = _compile(pattern)
        if compiled is not None:
            rules.append(_Rule(compiled[0], compiled[1], pattern.endswith("/"), base))
    return tuple(rules)


# What dvc ignores in every project, whatever its .dvcignore says (`.hg/`, `.git/`,
# `.git`, `.dvc/`), written out so that a project without rules never imports pathspec.
_DEFAULTS = (
    _Rule(re.compile(r"^(?:.+/)?\.hg/"), True, True, ""),
    _Rule(re.compile(r"^(?:.+/)?\.git/"), True, True, ""),
    _Rule(re.compile(r"^(?:.+/)?\.git(?:/|$)"), True, False, ""),
    _Rule(re.compile(r"^(?:.+/)?\.dvc/"), True, True, ""),
)


class DvcIgnore:
    """The ignore rules of one project (the workspace, or a commit's tree).

    `read(relpath)` returns the text of the `.dvcignore` at `relpath`, or None when
    there is none. Each file is read once; rules are looked up per folder.
    """

    def __init__(self, read: Callable[[str], str | None], root: str | None = None) -> None:
        self._read = read
        self.root = root  # the project folder, for the workspace's rules
        self._folders: dict[str, tuple[_Rule, ...]] = {}

    @classmethod
    def at(cls, root: str) -> DvcIgnore:
        """The rules of the project folder `root`."""
        root = os.path.abspath(root)
        return cls(lambda relpath: _read_file(os.path.join(root, relpath)), root)

    def pruner(self, path: str) -> Prune | None:
        """`prune` for a walk of the workspace folder `path` (None outside the project).

        The walk hands it folders relative to `path`.
        """
        if self.root is None:
            return None
        relative = os.path.relpath(os.path.abspath(path), self.root)
        if relative == os.curdir:
            return self.prune
        if relative.startswith(os.pardir):
            return None
        base = relative.replace(os.sep, "/")
        return lambda folder, dirs, files: self.prune(_join(base, folder), dirs, files)

    def rules_for(self, folder: str) -> tuple[_Rule, ...]:
        """Every rule that applies below `folder`, from the root's down to its own."""
        known = self._folders.get(folder)
        if known is not None:
            return known
        above = _DEFAULTS if folder == "" else self.rules_for(_parent(folder))
        own_file = _join(folder, DVCIGNORE)
        text = None if _matches(above, own_file, False) else self._read(own_file)
        own = parse_rules(text, folder) if text else ()
        rules = above + own if own else above
        self._folders[folder] = rules
        return rules

    def ignored(self, relpath: str, is_dir: bool) -> bool:
        """Whether the walk leaves out `relpath` (or a folder above it)."""
        parts = relpath.split("/")
        rules = self.rules_for("/".join(parts[:-1]))
        for depth in range(1, len(parts) + 1):
            prefix = "/".join(parts[:depth])
            if _matches(rules, prefix, is_dir or depth < len(parts)):
                return True
        return False

    def prune(self, folder: str, dirs: list[str], files: list[str]) -> tuple[list[str], list[str]]:
        """The sub-folders and files of `folder` (not itself ignored) that stay in a walk."""
        rules = self.rules_for(folder)
        if rules is _DEFAULTS and not _DEFAULT_NAMES & {*dirs, *files}:
            return dirs, files  # the common case: nothing to check
        kept_dirs = [d for d in dirs if not _matches(rules, _join(folder, d), True)]
        kept_files = [f for f in files if not _matches(rules, _join(folder, f), False)]
        return kept_dirs, kept_files


_DEFAULT_NAMES = frozenset({".git", ".hg", ".dvc"})


def _matches(rules: tuple[_Rule, ...], relpath: str, is_dir: bool) -> bool:
    """The verdict of the last rule that matches `relpath` (False when none does)."""
    for rule in reversed(rules):
        if rule.dir_only and not is_dir:
            continue
        if rule.base:
            if not relpath.startswith(rule.base + "/"):
                continue
            path = relpath[len(rule.base) + 1 :]
        else:
            path = relpath
        if rule.regex.match(path) or (is_dir and rule.regex.match(path + "/")):
            return rule.ignore
    return False


def _read_file(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None


def _parent(folder: str) -> str:
    return folder.rpartition("/")[0]


def _join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name
