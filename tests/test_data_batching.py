"""Batches under a token budget: no batch holds more than `max_tokens` (sentences × padded
steps), and a sentence longer than that comes as consecutive chunks to run from carried states."""

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rnnlm.data.batching import SplitReader, budget_groups, chunks, pad


@pytest.fixture(scope="module")
def encoded(tmp_path_factory):
    """Train sentences of 2..40 tokens and one of 1,000 (an unpunctuated rant), in two row groups."""
    rng = np.random.default_rng(0)
    lengths = [*rng.integers(2, 41, 300), 1000, *rng.integers(2, 41, 99)]
    ids = [np.concatenate([[0], rng.integers(3, 50, n - 2), [1]]).astype(np.int32) for n in lengths]
    table = pa.table(
        {
            "comment_id": [f"c{i}" for i in range(len(ids))],
            "sentence": [0] * len(ids),
            "split": ["train"] * len(ids),
            "ids": pa.array([list(map(int, s)) for s in ids], pa.list_(pa.int32())),
        }
    )
    path = tmp_path_factory.mktemp("encoded") / "e.parquet"
    pq.write_table(table, path, row_group_size=200)
    return str(path), sum(n - 1 for n in lengths)


def test_budget_groups_stay_within_both_bounds_and_keep_the_order():
    steps = [3, 3, 4, 10, 10, 10, 10, 50, 400]
    groups = budget_groups(steps, batch_size=3, max_tokens=30)
    assert groups == [range(0, 3), range(3, 6), range(6, 7), range(7, 8), range(8, 9)]
    for g in groups:
        assert len(g) <= 3 and (len(g) == 1 or len(g) * steps[g[-1]] <= 30)


def test_a_batch_over_the_budget_comes_as_chunks_that_carry():
    batch = pad([np.arange(25, dtype=np.int32), np.arange(10, dtype=np.int32)])
    pieces = chunks(batch, 20)  # 2 sentences: 10 steps a chunk
    assert [p.X.shape for p in pieces] == [(10, 2), (10, 2), (4, 2)]
    assert [p.carry for p in pieces] == [False, True, True]
    np.testing.assert_array_equal(np.concatenate([p.Y for p in pieces]), batch.Y)
    assert chunks(batch, 1000) == [batch]


@pytest.mark.parametrize("max_tokens", [64, 300])
def test_training_batches_respect_the_budget_and_cover_every_target_once(encoded, max_tokens):
    path, targets = encoded
    reader = SplitReader([path], "train")
    batches = list(reader.batches(epoch=0, seed=1, batch_size=32, max_tokens=max_tokens, buffer=150))
    assert max(b.tokens for b in batches) <= max_tokens
    assert sum(b.M.sum() for b in batches) == targets
    # the 999 steps of the long sentence: consecutive chunks of one column, the first not carrying
    long = [i for i, b in enumerate(batches) if b.X.shape[1] == 1 and b.M.sum() == b.X.shape[0] == max_tokens]
    chain = list(range(long[0] - 1 if batches[long[0]].carry else long[0], long[-1] + 2))
    assert [batches[i].carry for i in chain] == [False] + [True] * (len(chain) - 1)
    assert sum(batches[i].M.sum() for i in chain) == 999
    again = list(reader.batches(epoch=0, seed=1, batch_size=32, max_tokens=max_tokens, buffer=150))
    assert all(np.array_equal(a.X, b.X) and a.carry == b.carry for a, b in zip(batches, again))


def test_evaluation_batches_are_whole_sentences_in_chunks(encoded):
    path, targets = encoded
    groups = list(SplitReader([path], "train").all_batches(max_tokens=500, batch_size=256))
    assert all(p.tokens <= 500 for pieces in groups for p in pieces)
    assert sum(p.M.sum() for pieces in groups for p in pieces) == targets
    assert all(not pieces[0].carry and all(p.carry for p in pieces[1:]) for pieces in groups)
    assert max(len(pieces) for pieces in groups) == 2  # the 999-step sentence: 500 + 499
