from __future__ import annotations

from llmpipe.lineage.query import chain, producer_of, trace
from llmpipe.lineage.record import ArtifactRef
from llmpipe.lineage.store import LineageStore

RAW = ("data/raw.csv", "1" * 32)
PREP_CODE = ("src/prepare.py", "2" * 32)
TRAIN_CODE = ("src/train.py", "3" * 32)
PREPARED_V1 = ArtifactRef("data/prepared", "4" * 32 + ".dir", 300, 2)
PREPARED_V2 = ArtifactRef("data/prepared", "5" * 32 + ".dir", 310, 2)


def _three_stages(make_run):
    """prepare -> data/prepared (a dir); train reads a file inside it; evaluate reads both."""
    prepare = make_run("prepare", 0, deps=[RAW, PREP_CODE], outs=[PREPARED_V1])
    train = make_run(
        "train",
        1,
        deps=[("data/prepared/train.parquet", "6" * 32), TRAIN_CODE],
        outs=[("models/model.pt", "7" * 32)],
    )
    evaluate = make_run(
        "evaluate",
        2,
        deps=[("models/model.pt", "7" * 32), ("data/prepared/test.parquet", "8" * 32)],
        outs=[("metrics.json", "9" * 32)],
    )
    return prepare, train, evaluate


def test_chain_walks_back_through_a_directory_output_to_raw_inputs(tmp_path, make_run):
    store = LineageStore(str(tmp_path))
    prepare, train, evaluate = _three_stages(make_run)
    store.append([prepare, train])
    store.append([evaluate])
    result = trace(store, "metrics.json")
    # prepare is reached twice (two files of its directory) but listed once, upstream first.
    assert [r.stage for r in result.runs] == ["prepare", "train", "evaluate"]
    assert [(ref.path, ref.hash) for ref in result.raw_inputs] == [RAW, PREP_CODE, TRAIN_CODE]
    assert chain(store, "models/model.pt") == [prepare, train]


def test_chain_of_a_file_inside_a_produced_directory(make_run):
    prepare, train, evaluate = _three_stages(make_run)
    assert chain([prepare, train, evaluate], "data/prepared/train.parquet") == [prepare]
    assert chain([prepare, train, evaluate], "./data/prepared/") == [prepare]


def test_unknown_path_has_no_chain(make_run):
    records = _three_stages(make_run)
    assert trace(records, "data/raw.csv") == ([], [])
    assert chain(records, "data/prepared_other/x") == []
    assert producer_of(records, "data") is None  # a parent of outputs is not an output


def test_producer_of_matches_hash_and_prefers_latest(make_run):
    old = make_run("prepare", 0, deps=[RAW], outs=[PREPARED_V1])
    new = make_run("prepare", 5, deps=[RAW], outs=[PREPARED_V2])
    records = [old, new]
    assert producer_of(records, "data/prepared") == new
    assert producer_of(records, "data/prepared", PREPARED_V1.hash) == old
    assert producer_of(records, "data/prepared", "0" * 32 + ".dir") is None


def test_failed_runs_are_never_producers(make_run):
    good = make_run("train", 0, outs=[("model.pt", "7" * 32)])
    failed = make_run("train", 3, outs=[("model.pt", "7" * 32)], status="failed")
    assert producer_of([good, failed], "model.pt") == good


def test_consumer_links_to_the_producer_that_ran_before_it(make_run):
    """A later re-run of prepare must not be credited with an earlier train's input."""
    prepare_old = make_run("prepare", 0, deps=[RAW], outs=[PREPARED_V1])
    train = make_run("train", 1, deps=[("data/prepared/train.parquet", "6" * 32)],
                     outs=[("model.pt", "7" * 32)])  # fmt: skip
    prepare_new = make_run("prepare", 5, deps=[RAW], outs=[PREPARED_V2])
    assert chain([prepare_old, train, prepare_new], "model.pt") == [prepare_old, train]


def test_exact_hash_match_links_even_a_later_identical_producer(make_run):
    # History recorded out of order (clock skew): same content, so the link is sound.
    train = make_run("train", 0, deps=[("features.bin", "a" * 32)], outs=[("model.pt", "7" * 32)])
    features = make_run("featurize", 4, deps=[RAW], outs=[("features.bin", "a" * 32)])
    result = trace([train, features], "model.pt")
    assert result.runs == [features, train]
    assert [ref.path for ref in result.raw_inputs] == ["data/raw.csv"]


def test_restored_runs_count_as_producers(make_run):
    restored = make_run("prepare", 0, outs=[PREPARED_V1], status="restored", from_run_cache=True)
    assert producer_of([restored], "data/prepared/any.txt") == restored
