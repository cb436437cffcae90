"""The bundled corpus: tokens survive NLTK, the source entropy is exact, n-grams can't match it."""

import math
import re

import pyarrow.parquet as pq
import pytest
import yaml
from helpers import REPO

from rnnlm.data.synthetic import Source, generate_comments, name_seed, write_synthetic_dump
from rnnlm.data.text import tokenize_comment
from rnnlm.evaluation.ngram import KneserNey, cross_entropy

DEFAULT = yaml.safe_load((REPO / "config.yaml").read_text())


@pytest.fixture(scope="module")
def source():
    s = DEFAULT["synthetic"]
    return Source.build(s["seed"], topics=s["topics"], topic_boost=s["topic_boost"])


def test_tokens_survive_reddit_normalization_and_nltk(source):
    comments = generate_comments(source, 1500, seed=11)
    for c in comments:
        assert tokenize_comment(c.body, "reddit") == c.sentences, c.body
    raw = "\n".join(c.body for c in comments)
    # the markup that normalization has to remove is really there
    for pattern in (r"&gt; ", r"&amp;", r"\]\(https://", r"https://www\.example\.com/", r"\*\*\w", r"~~\w", r"\^\w"):
        assert len(re.findall(pattern, raw)) >= 10, pattern
    # and the wiki-summary bot's: escaped parentheses in URLs, twice-escaped tabs, superscripts
    bot = [c.body for c in comments if "en.wikipedia.org/wiki/" in c.body]
    assert 20 <= len(bot) <= 80  # 3% of 1500
    for pattern in (
        r"_\\\(\w+\\\)\)",
        r"\w&amp;#009;\*?\*?\w",
        r"\^\^\^\w",
        r"\^\(\w+ \^\(\w+ \w+\)\)",
        r"\[\^\w+\]\(/message/compose\?to=autowikibot&amp;subject=AutoWikibot Deletion",
        r"\*\^\[\w+\]\(",
        r"\[\*\*\*\w+\*\*\*\]\(",
        r"^---$",
    ):
        assert len(re.findall(pattern, "\n".join(bot), re.MULTILINE)) >= 10, pattern


def test_rich_vocabulary_and_exact_logprob(source):
    assert len(source.vocabulary()) >= 2000
    import numpy as np

    rng = np.random.default_rng(0)
    tokens, kinds, logp = source.sentence(rng)
    assert kinds[0] == "OPENER" and kinds[-2:] == ["CLOSER", "END"]
    o = source.openers.index(tokens[0])
    assert tokens[-2] == source.closers[o]  # the opener decides the closer
    assert logp < -math.log(len(source.openers)) < 0


def test_generation_is_deterministic(tmp_path):
    kw = {"comments": 40, "seed": 1, "topics": 4, "topic_boost": 4.0}
    a = write_synthetic_dump("x", str(tmp_path / "a.csv"), str(tmp_path / "a.t"), str(tmp_path / "a.j"), **kw)
    b = write_synthetic_dump("x", str(tmp_path / "b.csv"), str(tmp_path / "b.t"), str(tmp_path / "b.j"), **kw)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
    assert a == b and a["tokens"] == pq.read_table(tmp_path / "a.t").column("tokens").to_numpy().sum()
    ids = pq.read_table(tmp_path / "a.t").column("comment_id").to_pylist()
    assert ids[:2] == ["x:1", "x:2"]  # what the CSV reader names id-less rows


@pytest.mark.slow
def test_kneser_ney_trigram_cannot_match_the_source(source):
    """On the default corpus's size: held-out KN-3 perplexity >= 1.2 x the true one."""
    s = DEFAULT["synthetic"]
    comments = [
        c for name in DEFAULT["dumps"] for c in generate_comments(source, s["comments"], name_seed(s["seed"], name))
    ]
    vocab: dict[str, int] = {}

    def enc(sent):
        return [0] + [vocab.setdefault(w, len(vocab) + 3) for w in sent] + [1]

    held = len(comments) // 10
    train = [enc(x) for c in comments[held:] for x in c.sentences]
    test = [enc(x) for c in comments[:held] for x in c.sentences]
    kn = KneserNey(3, len(vocab) + 3).fit(train)
    kn_nats, n = cross_entropy(kn.sentence_logprob, test)
    true_nats = -sum(c.logp for c in comments[:held]) / n
    ratio = math.exp(kn_nats - true_nats)
    print(f"true ppl {math.exp(true_nats):.1f}, KN-3 ppl {math.exp(kn_nats):.1f}, ratio {ratio:.2f}")
    assert ratio >= 1.2
