import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from rnnlm import RnnlmError
from rnnlm.data.encode import encode_dump, encode_ids, read_split
from rnnlm.data.splits import SPLITS, split_of
from rnnlm.data.tokenize import SCHEMA
from rnnlm.data.vocab import build_vocab, count_tokens, freeze_vocab, load_vocab


def tokens_file(path, sentences, ids=None):
    n = len(sentences)
    ids = ids or [f"c{i}" for i in range(n)]
    pq.write_table(
        pa.table(
            {
                "comment_id": ids,
                "subreddit": [None] * n,
                "created_utc": [None] * n,
                "record": list(range(n)),
                "sentence": [0] * n,
                "tokens": sentences,
            },
            schema=SCHEMA,
        ),
        path,
    )
    return str(path)


def test_counts_and_vocab_order(tmp_path):
    a = tokens_file(tmp_path / "a.parquet", [["b", "a", "c"], ["a", "b"], ["d"]])
    b = tokens_file(tmp_path / "b.parquet", [["a", "e"], ["c"]])
    ca = count_tokens(a, str(tmp_path / "ca.parquet"))
    assert dict(zip(ca.token, ca["count"])) == {"SENTENCE_START": 3, "SENTENCE_END": 3, "a": 2, "b": 2, "c": 1, "d": 1}
    count_tokens(b, str(tmp_path / "cb.parquet"))
    vocab = build_vocab([str(tmp_path / "ca.parquet"), str(tmp_path / "cb.parquet")], 6, str(tmp_path / "v.parquet"))
    # a:3, b:2, c:2 (tie with b broken by token), then d:1, e:1 don't fit in 6 - 3 = 3 slots
    assert list(vocab.token) == ["SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN", "a", "b", "c"]
    assert list(vocab["count"]) == [5, 5, 2, 3, 2, 2]
    assert list(vocab.id) == list(range(6))
    assert load_vocab(tmp_path / "v.parquet").values.tolist() == vocab.values.tolist()


def test_vocab_smaller_than_specials_is_refused(tmp_path):
    a = tokens_file(tmp_path / "a.parquet", [["x"]])
    count_tokens(a, str(tmp_path / "c.parquet"))
    with pytest.raises(RnnlmError, match="at least 4"):
        build_vocab([str(tmp_path / "c.parquet")], 3, str(tmp_path / "v.parquet"))


def test_frozen_vocab_is_validated(tmp_path):
    bad = tmp_path / "bad.parquet"
    pd.DataFrame({"id": [0, 1, 2], "token": ["SENTENCE_START", "UNKNOWN_TOKEN", "SENTENCE_END"]}).to_parquet(bad)
    with pytest.raises(RnnlmError, match="ids 0, 1, 2 must be SENTENCE_START, SENTENCE_END, UNKNOWN_TOKEN"):
        freeze_vocab(str(bad), str(tmp_path / "v.parquet"))
    good = tmp_path / "good.parquet"
    tokens = ["SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN", "hi"]
    pd.DataFrame({"id": [0, 1, 2, 3], "token": tokens}).to_parquet(good)
    vocab = freeze_vocab(str(good), str(tmp_path / "v.parquet"))
    assert list(vocab.token) == ["SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN", "hi"]
    with pytest.raises(RnnlmError, match="cannot read the vocabulary"):
        freeze_vocab(str(tmp_path / "missing.parquet"), str(tmp_path / "v.parquet"))


def test_encode_ids_adds_markers_and_maps_unknowns():
    vocab = pa.array(["SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN", "a", "b"])
    tokens = pa.array([["a", "zz", "b"], [], ["b"], ["a", "a"]], pa.list_(pa.string()))
    ids = encode_ids(tokens.slice(1), vocab, 2)  # a sliced array has non-zero offsets
    assert ids.to_pylist() == [[0, 1], [0, 4, 1], [0, 3, 3, 1]]
    assert encode_ids(tokens, vocab, 2).to_pylist()[0] == [0, 3, 2, 4, 1]


def test_split_is_stable_and_proportional():
    ids = [f"t1_{i:x}" for i in range(20000)]
    splits = np.array([split_of(c, 0.1, 0.05) for c in ids])
    assert abs((splits == 1).mean() - 0.1) < 0.01
    assert abs((splits == 2).mean() - 0.05) < 0.01
    assert split_of("t1_abc", 0.1, 0.05) == split_of("t1_abc", 0.1, 0.05)
    # growing the valid fraction only moves train comments into valid, never test ones
    bigger = np.array([split_of(c, 0.2, 0.05) for c in ids])
    assert np.all(bigger[splits == 2] == 2) and np.all(bigger[splits == 1] == 1)


def test_encode_dump_keeps_comments_together(tmp_path):
    sentences = [["a"], ["b", "a"], ["c"], ["a", "b"]] * 500
    cids = [f"c{i // 4}" for i in range(len(sentences))]
    tok = tokens_file(tmp_path / "t.parquet", sentences, cids)
    count_tokens(tok, str(tmp_path / "c.parquet"))
    build_vocab([str(tmp_path / "c.parquet")], 5, str(tmp_path / "v.parquet"))  # a, b; c unknown
    counts = encode_dump(tok, str(tmp_path / "v.parquet"), str(tmp_path / "e.parquet"), valid=0.2, test=0.1)
    table = pq.read_table(tmp_path / "e.parquet").to_pandas()
    assert table.groupby("comment_id")["split"].nunique().max() == 1
    assert sum(c["sentences"] for c in counts.values()) == 2000
    assert sum(c["unknown"] for c in counts.values()) == 500
    assert sum(c["tokens"] for c in counts.values()) == 500 * (2 + 3 + 2 + 3)
    all_ids = [list(x) for s in SPLITS for x in read_split([str(tmp_path / "e.parquet")], s)]
    assert sorted(map(tuple, all_ids))[:1] == [(0, 2, 1)]
    assert len(all_ids) == 2000


def test_counting_on_the_train_split_leaves_held_out_comments_out(tmp_path):
    ids = [f"t1_{i:x}" for i in range(400)]
    sentences = [[f"w{i}", "common"] for i in range(400)]
    tok = tokens_file(tmp_path / "t.parquet", sentences, ids)
    split = {"valid": 0.2, "test": 0.1}
    counts = count_tokens(tok, str(tmp_path / "c.parquet"), split)
    train = [i for i, c in enumerate(ids) if split_of(c, 0.2, 0.1) == 0]
    assert 200 < len(train) < 360
    got = dict(zip(counts.token, counts["count"]))
    assert got["common"] == got["SENTENCE_START"] == len(train)
    assert {t for t in got if t.startswith("w")} == {f"w{i}" for i in train}
    everything = count_tokens(tok, str(tmp_path / "all.parquet"))
    assert dict(zip(everything.token, everything["count"]))["common"] == 400
