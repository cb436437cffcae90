"""The token Parquet equals what the tutorial's own preprocessing produces with NLTK."""

import csv

from conftest import DATA
from helpers import ndjson, read_csv_bodies, token_rows, tutorial_pipeline, write_zst

from rnnlm.data.synthetic import Source, generate_comments
from rnnlm.data.tokenize import tokenize_dump


def ours(csv_path, tmp_path, **kw):
    out = tmp_path / "t.parquet"
    tokenize_dump(str(csv_path), str(out), str(tmp_path / "s.json"), dump="d", normalize="tutorial", **kw)
    return [["SENTENCE_START", *t, "SENTENCE_END"] for t in token_rows(out)]


def test_reddit_sample_matches_tutorial(punkt_tab_dir, tmp_path):
    expected = tutorial_pipeline(DATA / "reddit-sample.csv")
    assert len(expected) > 60
    assert ours(DATA / "reddit-sample.csv", tmp_path) == expected


def test_bundled_corpus_matches_tutorial_in_tutorial_mode(punkt_tab_dir, tmp_path):
    path = tmp_path / "synthetic.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["body"])
        w.writerows([c.body] for c in generate_comments(Source.build(3, topics=8, topic_boost=10.0), 300, seed=5))
    expected = tutorial_pipeline(path)
    assert ours(path, tmp_path, threads=2) == expected


def test_pushshift_zst_gives_the_same_tokens_as_csv(tmp_path):
    bodies = read_csv_bodies(DATA / "reddit-sample.csv")
    zst = write_zst(tmp_path / "RC_test.zst", ndjson(bodies))
    for mode in ("tutorial", "reddit"):
        a, b = tmp_path / f"csv-{mode}.parquet", tmp_path / f"zst-{mode}.parquet"
        tokenize_dump(str(DATA / "reddit-sample.csv"), str(a), str(tmp_path / "a.json"), dump="d", normalize=mode)
        tokenize_dump(str(zst), str(b), str(tmp_path / "b.json"), dump="d", normalize=mode)
        assert token_rows(a) == token_rows(b)
        assert len(token_rows(a)) > 60
