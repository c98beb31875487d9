"""Summarise unigram and bigram counts as metrics and a CSV of the top words.

Usage: report.py UNIGRAMS_JSON BIGRAMS_JSON METRICS_JSON PLOT_CSV [--top-n N]
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path


def metrics(unigrams: dict, bigrams: dict) -> dict:
    """Vocabulary statistics derived from the two count files."""
    tokens = unigrams["total"]
    return {
        "tokens": tokens,
        "vocabulary_size": unigrams["unique"],
        "type_token_ratio": round(unigrams["unique"] / tokens, 4) if tokens else 0.0,
        "unique_bigrams": bigrams["unique"],
        "top_word": unigrams["top"][0][0] if unigrams["top"] else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("unigrams", type=Path)
    parser.add_argument("bigrams", type=Path)
    parser.add_argument("metrics", type=Path)
    parser.add_argument("plot", type=Path)
    parser.add_argument("--top-n", type=int, default=10)
    args = parser.parse_args()
    unigrams = json.loads(args.unigrams.read_text(encoding="utf-8"))
    bigrams = json.loads(args.bigrams.read_text(encoding="utf-8"))
    result = metrics(unigrams, bigrams)
    args.metrics.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    args.plot.parent.mkdir(parents=True, exist_ok=True)
    with args.plot.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["word", "count"])
        writer.writerows(unigrams["top"][: args.top_n])
    print(f"report: {json.dumps(result)}")


if __name__ == "__main__":
    main()
