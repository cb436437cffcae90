"""The token Parquet equals what the tutorial's own preprocessing produces with NLTK."""

import csv

from helpers import DATA, ndjson, read_csv_bodies, token_rows, tutorial_pipeline, write_zst

from rnnlm.data.synthetic import Source, generate_comments


def ours(tokenize, csv_path, tmp_path, **kw):
    _, out = tokenize(csv_path, tmp_path, normalize="tutorial", **kw)
    return [["SENTENCE_START", *t, "SENTENCE_END"] for t in token_rows(out)]


def test_reddit_sample_matches_tutorial(punkt_tab_dir, tmp_path, tokenize):
    expected = tutorial_pipeline(DATA / "reddit-sample.csv")
    assert len(expected) > 60
    assert ours(tokenize, DATA / "reddit-sample.csv", tmp_path) == expected


def test_bundled_corpus_matches_tutorial_in_tutorial_mode(punkt_tab_dir, tmp_path, tokenize):
    path = tmp_path / "synthetic.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["body"])
        w.writerows([c.body] for c in generate_comments(Source.build(3, topics=8, topic_boost=10.0), 300, seed=5))
    expected = tutorial_pipeline(path)
    assert ours(tokenize, path, tmp_path, threads=2) == expected


def test_pushshift_zst_gives_the_same_tokens_as_csv(tmp_path, tokenize):
    bodies = read_csv_bodies(DATA / "reddit-sample.csv")
    zst = write_zst(tmp_path / "RC_test.zst", ndjson(bodies))
    for mode in ("tutorial", "reddit"):
        _, a = tokenize(DATA / "reddit-sample.csv", tmp_path, name=f"csv-{mode}", normalize=mode)
        _, b = tokenize(zst, tmp_path, name=f"zst-{mode}", normalize=mode)
        assert token_rows(a) == token_rows(b)
        assert len(token_rows(a)) > 60
