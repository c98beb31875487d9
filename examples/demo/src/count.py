"""Count the n-grams of one order over a directory of clean sentence files.

Usage: count.py CLEAN_DIR ORDER OUT_JSON [--top-k K]
Writes {"order", "total", "unique", "top": [[ngram, count], ...]}; n-grams do not
cross sentence boundaries; ties are broken alphabetically so output is stable.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path


def count_ngrams(clean_dir: Path, order: int) -> Counter[str]:
    """Every n-gram of `order` words in the sentences under `clean_dir`."""
    counts: Counter[str] = Counter()
    for path in sorted(clean_dir.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            words = line.split()
            for start in range(len(words) - order + 1):
                counts[" ".join(words[start : start + order])] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("clean_dir", type=Path)
    parser.add_argument("order", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--top-k", type=int, default=25)
    args = parser.parse_args()
    counts = count_ngrams(args.clean_dir, args.order)
    top = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[: args.top_k]
    result = {
        "order": args.order,
        "total": sum(counts.values()),
        "unique": len(counts),
        "top": [list(item) for item in top],
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"count: order {args.order}: {result['unique']} unique of {result['total']}")


if __name__ == "__main__":
    main()
