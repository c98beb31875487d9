"""Split raw texts into clean sentences: one output file per input text.

Usage: prepare.py RAW_DIR CLEAN_DIR [--min-words N] [--lowercase true|false]
Each output line is one sentence: words separated by single spaces, punctuation
removed. Sentences with fewer than N words are dropped.
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

# A sentence ends at . ! or ? followed by space, or at a blank line (titles).
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")
WORD = re.compile(r"[A-Za-z']+")


def parse_bool(text: str) -> bool:
    """'true'/'false' as DVC interpolates YAML booleans into a command."""
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def sentences(text: str, min_words: int, lowercase: bool) -> list[str]:
    """The clean sentences of `text` with at least `min_words` words."""
    result = []
    for raw in SENTENCE_END.split(text):
        words = WORD.findall(raw.lower() if lowercase else raw)
        if len(words) >= min_words:
            result.append(" ".join(words))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("raw_dir", type=Path)
    parser.add_argument("clean_dir", type=Path)
    parser.add_argument("--min-words", type=int, default=3)
    parser.add_argument("--lowercase", type=parse_bool, default=True)
    args = parser.parse_args()
    args.clean_dir.mkdir(parents=True, exist_ok=True)
    for source in sorted(args.raw_dir.glob("*.txt")):
        lines = sentences(source.read_text(encoding="utf-8"), args.min_words, args.lowercase)
        (args.clean_dir / source.name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"prepare: {source.name}: {len(lines)} sentences")


if __name__ == "__main__":
    main()
