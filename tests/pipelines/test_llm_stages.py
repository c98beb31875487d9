"""The stage code in-process: corpus reading, cleaning, splitting, schedules, batches, checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest

from pipelines.llm import checkpoints as ckpt
from pipelines.llm.common import PipelineError, Progress, progress_line
from pipelines.llm.data import batch_for_step, check_fits
from pipelines.llm.prepare import prepare
from pipelines.llm.tokenizer import ByteTokenizer
from tests.pipelines.conftest import tiny_params

LINE = "def f(x):\n    return x * 2  # ünïcode\n"


def dir_params(path, **changes):
    return {
        **tiny_params()["data"],
        "source": "dir",
        "path": str(path),
        "include": ["**/*.txt"],
        "min_chars": 20,
        **changes,
    }


def write_corpus(root, count=6):
    root.mkdir()
    for number in range(count):
        (root / f"doc{number}.txt").write_text(f"# document {number}\r\n" + LINE * (number + 1))
    (root / "copy.txt").write_text((root / "doc0.txt").read_text())  # a duplicate
    (root / "short.txt").write_text("tiny\n")  # shorter than min_chars
    (root / "binary.txt").write_bytes(b"\xff\xfe\x00 not utf-8 at all, long enough")


def test_tokenizer_round_trips_unicode_and_ends_documents():
    tokenizer = ByteTokenizer()
    ids = tokenizer.encode(LINE)
    assert ids[-1] == tokenizer.eos_id == 256 and tokenizer.vocab_size == 257
    assert tokenizer.decode(ids[:-1]) == LINE
    assert ByteTokenizer.from_dict(tokenizer.to_dict()) == tokenizer


def test_prepare_cleans_deduplicates_and_counts(tmp_path):
    write_corpus(tmp_path / "corpus")
    card = prepare(dir_params(tmp_path / "corpus"), str(tmp_path / "out"))
    assert card["source"]["documents_read"] == 9
    assert card["dropped"] == {"unusable_or_short": 2, "duplicates": 1}
    assert sum(s["documents"] for s in card["splits"].values()) == 6
    assert all(s["documents"] >= 1 for s in card["splits"].values())
    tokens = sum(s["tokens"] for s in card["splits"].values())
    assert tokens == card["total_tokens"] > 6 * len(LINE.encode())
    saved = json.loads((tmp_path / "out/dataset_card.json").read_text())
    assert saved["dataset_hash"] == card["dataset_hash"]


def test_prepare_is_byte_for_byte_deterministic(tmp_path):
    write_corpus(tmp_path / "corpus")
    first = prepare(dir_params(tmp_path / "corpus"), str(tmp_path / "a"))
    second = prepare(dir_params(tmp_path / "corpus"), str(tmp_path / "b"))
    assert first["dataset_hash"] == second["dataset_hash"]
    for path in sorted((tmp_path / "a").rglob("*")):
        twin = tmp_path / "b" / path.relative_to(tmp_path / "a")
        assert path.is_dir() or path.read_bytes() == twin.read_bytes(), path


def test_source_hash_changes_with_the_corpus(tmp_path):
    write_corpus(tmp_path / "corpus")
    before = prepare(dir_params(tmp_path / "corpus"), str(tmp_path / "a"))
    (tmp_path / "corpus/doc0.txt").write_text("# changed\n" + LINE * 3)
    after = prepare(dir_params(tmp_path / "corpus"), str(tmp_path / "b"))
    assert before["source"]["hash"] != after["source"]["hash"]
    assert before["dataset_hash"] != after["dataset_hash"]


def test_jsonl_and_parquet_sources(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    texts = [f"row {n}: " + LINE * (n + 1) for n in range(5)]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    pq.write_table(pa.table({"text": texts}), tmp_path / "rows.parquet")
    for kind in ("jsonl", "parquet"):
        params = dir_params(tmp_path / f"rows.{kind}", source=kind)
        card = prepare(params, str(tmp_path / kind))
        assert sum(s["documents"] for s in card["splits"].values()) == 5


def test_missing_text_field_is_named(tmp_path):
    (tmp_path / "rows.jsonl").write_text(json.dumps({"body": LINE}) + "\n")
    params = dir_params(tmp_path / "rows.jsonl", source="jsonl")
    with pytest.raises(PipelineError, match="line 1 has no string field 'text'"):
        prepare(params, str(tmp_path / "out"))


def test_too_few_documents_for_three_splits(tmp_path):
    write_corpus(tmp_path / "corpus", count=2)
    with pytest.raises(PipelineError, match="2 usable document"):
        prepare(dir_params(tmp_path / "corpus"), str(tmp_path / "out"))


def test_batches_depend_only_on_seed_and_step():
    tokens = np.arange(1000, dtype=np.int64)
    x, y = batch_for_step(tokens, 7, 5, 4, 16)
    assert x.shape == y.shape == (4, 16) and (y[:, :-1] == x[:, 1:]).all()
    assert (batch_for_step(tokens, 7, 5, 4, 16)[0] == x).all()
    assert not (batch_for_step(tokens, 7, 6, 4, 16)[0] == x).all()
    with pytest.raises(PipelineError, match="larger than the val split"):
        check_fits(tokens[:16], 16, "val")


def test_learning_rate_warms_up_then_decays_to_min_lr():
    from pipelines.llm.train import learning_rate

    train = {
        **tiny_params()["train"],
        "lr": 0.01,
        "min_lr": 0.001,
        "warmup_steps": 10,
        "max_steps": 100,
    }
    assert learning_rate(5, train) == pytest.approx(0.005)
    assert learning_rate(10, train) == pytest.approx(0.01)
    assert learning_rate(100, train) == pytest.approx(0.001)
    assert learning_rate(55, {**train, "schedule": "constant"}) == 0.01


def test_interrupted_checkpoint_writes_are_ignored_and_removed(tmp_path):
    complete = tmp_path / ckpt.folder_name(20)
    complete.mkdir()
    (complete / ckpt.META).write_text('{"step": 20, "val_loss": 1.0}')
    (tmp_path / ".step-000040.tmp").mkdir()
    (tmp_path / "step-000060").mkdir()  # renamed but without metadata: not trusted
    assert [c.step for c in ckpt.list_checkpoints(str(tmp_path))] == [20]
    ckpt.remove_incomplete(str(tmp_path))
    assert not (tmp_path / ".step-000040.tmp").exists()


def test_stale_temp_files_of_interrupted_writes_are_removed(tmp_path):
    from pipelines.llm.common import atomic_write_text, remove_stale_temps

    target = tmp_path / "train_log.csv"
    stale = tmp_path / ".train_log.csv.abc123.tmp"
    stale.write_text("half a log")
    (tmp_path / ".other.csv.abc123.tmp").write_text("not ours")
    atomic_write_text(str(target), "step\n")
    remove_stale_temps(str(target))
    assert not stale.exists() and (tmp_path / ".other.csv.abc123.tmp").exists()
    assert target.read_text() == "step\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.csv.abc123.tmp", "train_log.csv"]


def test_progress_lines_give_step_rate_and_eta():
    assert (
        progress_line("evaluate: scoring", 0, 16, "batches", 0.0)
        == "evaluate: scoring 0/16 batches"
    )
    assert (
        progress_line("evaluate: scoring", 4, 16, "batches", 2.0)
        == "evaluate: scoring 4/16 batches, 2 batches/s, ETA 6s"
    )
    assert progress_line("x", 16, 16, "batches", 8.0) == "x 16/16 batches, 2 batches/s, done"


def test_progress_prints_the_first_and_last_step_and_then_only_every_few_seconds(capsys):
    progress = Progress("evaluate: sampling", 100, "tokens", every=3600)
    for done in range(1, 101):
        progress.step(done)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [
        "evaluate: sampling 1/100 tokens",
        "evaluate: sampling 100/100 tokens",
    ]
