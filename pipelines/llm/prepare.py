"""Stage `prepare`: corpus -> cleaned, deduplicated, tokenized train/val/test Parquet shards.

Output folder layout (`--out`, default data/prepared):
  train/shard-00000.parquet, val/..., test/...  columns: doc, sha256, n_tokens, tokens
  tokenizer.json                                 the byte-level tokenizer
  dataset_card.json                              sizes, token counts, source and dataset hashes
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import shutil
from dataclasses import dataclass
from typing import Any

from .common import Field, PipelineError, stage_main, validate, write_json
from .corpus import Corpus, RawDocument, read_corpus
from .tokenizer import ByteTokenizer

SPLITS = ("train", "val", "test")

SCHEMA = {
    "source": Field((str,), choices=("stdlib", "dir", "jsonl", "parquet")),
    "path": Field((str, type(None))),
    "include": Field((list,)),
    "exclude": Field((list,)),
    "text_field": Field((str,)),
    "max_documents": Field((int,), low=3),
    "max_bytes": Field((int,), low=1),
    "min_chars": Field((int,), low=0),
    "val_fraction": Field((float,), low=0.001, high=0.5),
    "test_fraction": Field((float,), low=0.001, high=0.5),
    "shard_tokens": Field((int,), low=1),
}


@dataclass(frozen=True)
class Document:
    name: str
    sha256: str
    text: str


def validate_params(params: dict[str, Any]) -> None:
    """PipelineError for the first out-of-range or mistyped `data` param."""
    validate("data", params, SCHEMA)
    for key in ("include", "exclude"):
        if not all(isinstance(p, str) and p for p in params[key]):
            raise PipelineError(f"params 'data.{key}' must be a list of glob patterns")
    if params["source"] in ("stdlib", "dir") and not params["include"]:
        raise PipelineError("params 'data.include' needs at least one glob pattern")


def clean(raw: RawDocument, min_chars: int) -> str | None:
    """Normalised text of a document, or None when it is not UTF-8 text or too short."""
    try:
        text = raw.data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\0", "")
    text = "\n".join(line.rstrip() for line in text.split("\n")).strip("\n") + "\n"
    return text if len(text) >= max(min_chars, 1) else None


def clean_and_deduplicate(corpus: Corpus, min_chars: int) -> tuple[list[Document], dict[str, int]]:
    """Cleaned documents, first occurrence of each content kept; counts of what was dropped."""
    seen: set[str] = set()
    documents: list[Document] = []
    dropped = {"unusable_or_short": 0, "duplicates": 0}
    for raw in corpus.documents:
        text = clean(raw, min_chars)
        if text is None:
            dropped["unusable_or_short"] += 1
            continue
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if digest in seen:
            dropped["duplicates"] += 1
            continue
        seen.add(digest)
        documents.append(Document(raw.name, digest, text))
    return documents, dropped


def split(
    documents: list[Document], val_fraction: float, test_fraction: float
) -> dict[str, list[Document]]:
    """Deterministic split: documents ordered by content hash, the first ones go to test, then val.

    Ordering by hash mixes the source order without a random generator, and
    gives every split at least one document.
    """
    if len(documents) < len(SPLITS):
        raise PipelineError(
            f"corpus has {len(documents)} usable document(s) after cleaning and deduplication; "
            "need at least 3 (one per split): add documents or lower 'data.min_chars'"
        )
    ordered = sorted(documents, key=lambda d: d.sha256)
    n_test = max(1, round(len(ordered) * test_fraction))
    n_val = max(1, round(len(ordered) * val_fraction))
    n_val = min(n_val, len(ordered) - n_test - 1)
    return {
        "test": ordered[:n_test],
        "val": ordered[n_test : n_test + n_val],
        "train": sorted(ordered[n_test + n_val :], key=lambda d: d.name),
    }


def write_split(
    folder: str, documents: list[Document], tokenizer: ByteTokenizer, shard_tokens: int
) -> dict[str, Any]:
    """Write one split as Parquet shards of about `shard_tokens` tokens; return its statistics."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(folder)
    shards: list[list[tuple[Document, Any]]] = [[]]
    size = 0
    for document in documents:
        tokens = tokenizer.encode(document.text)
        if shards[-1] and size + len(tokens) > shard_tokens:
            shards.append([])
            size = 0
        shards[-1].append((document, tokens))
        size += len(tokens)
    names = []
    for number, shard in enumerate(shards):
        table = pa.table(
            {
                "doc": pa.array([d.name for d, _ in shard], pa.string()),
                "sha256": pa.array([d.sha256 for d, _ in shard], pa.string()),
                "n_tokens": pa.array([len(t) for _, t in shard], pa.int32()),
                "tokens": pa.array([t for _, t in shard], pa.list_(pa.uint16())),
            }
        )
        name = f"shard-{number:05d}.parquet"
        pq.write_table(table, os.path.join(folder, name), compression="zstd")
        names.append(name)
    return {
        "documents": len(documents),
        "bytes": sum(len(d.text.encode("utf-8")) for d in documents),
        "tokens": sum(len(t) for shard in shards for _, t in shard),
        "shards": names,
    }


def dataset_card(
    corpus: Corpus,
    params: dict[str, Any],
    dropped: dict[str, int],
    parts: dict[str, list[Document]],
    splits: dict[str, dict[str, Any]],
    tokenizer: ByteTokenizer,
) -> dict[str, Any]:
    """The dataset card: where the data came from and what it became."""
    # The dataset hash covers which cleaned documents landed in which split.
    content = [(name, [d.sha256 for d in parts[name]]) for name in SPLITS]
    return {
        "source": {
            "kind": corpus.kind,
            "location": corpus.location,
            "python_version": platform.python_version(),
            "documents_read": len(corpus.documents),
            "bytes_read": sum(len(d.data) for d in corpus.documents),
            "hash": corpus.source_hash,
        },
        "params": params,
        "dropped": dropped,
        "tokenizer": tokenizer.to_dict(),
        "splits": splits,
        "total_tokens": sum(s["tokens"] for s in splits.values()),
        "dataset_hash": hashlib.sha256(repr(content).encode()).hexdigest(),
    }


def prepare(params: dict[str, Any], out: str) -> dict[str, Any]:
    """Run the whole stage into the folder `out` (replaced); return the dataset card."""
    validate_params(params)
    corpus = read_corpus(params)
    documents, dropped = clean_and_deduplicate(corpus, params["min_chars"])
    parts = split(documents, params["val_fraction"], params["test_fraction"])
    tokenizer = ByteTokenizer()
    # The folder is written in place: the pipeline engine removes it before the
    # stage runs and records it only after the stage succeeds.
    shutil.rmtree(out, ignore_errors=True)
    splits = {
        name: write_split(os.path.join(out, name), parts[name], tokenizer, params["shard_tokens"])
        for name in SPLITS
    }
    card = dataset_card(corpus, params, dropped, parts, splits, tokenizer)
    write_json(os.path.join(out, "tokenizer.json"), tokenizer.to_dict())
    write_json(os.path.join(out, "dataset_card.json"), card)
    return card


def _run(args: argparse.Namespace) -> None:
    from .common import load_params

    card = prepare(load_params(args.params, "data"), args.out)
    splits = card["splits"]
    print(
        f"prepare: {card['source']['documents_read']} documents read from "
        f"{card['source']['kind']} ({card['source']['bytes_read']:,} bytes); "
        + ", ".join(
            f"{n} {splits[n]['documents']} docs/{splits[n]['tokens']:,} tokens" for n in SPLITS
        )
        + f" -> {args.out}",
        flush=True,
    )


def _arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default="data/prepared", help="output folder")


def main() -> None:
    stage_main(__doc__.splitlines()[0], _run, _arguments)


if __name__ == "__main__":
    main()
