import math

import numpy as np
import pytest

from rnnlm.evaluation.ngram import KneserNey, cross_entropy, unigram_logprobs

TRAIN = [[0, 3, 4, 5, 1], [0, 3, 4, 1], [0, 5, 4, 3, 1], [0, 4, 4, 1]]
V = 7  # ids 0..6; 6 is never seen


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("context", [(0, 0, 0), (0, 3, 4), (6, 6, 6), (5, 4, 3)])
def test_kneser_ney_is_a_distribution(order, context):
    kn = KneserNey(order, V).fit(TRAIN)
    probs = [kn.prob(context[len(context) - order + 1 :] if order > 1 else (), w) for w in range(1, V)]
    assert sum(probs) == pytest.approx(1.0, abs=1e-12)
    assert min(probs) > 0


def test_kneser_ney_prefers_seen_continuations():
    kn = KneserNey(3, V).fit(TRAIN)
    assert kn.prob((3, 4), 5) > kn.prob((3, 4), 6)
    assert kn.prob((0,), 3) > kn.prob((0,), 6)  # the first word: after SENTENCE_START alone


def test_unigram_and_cross_entropy():
    lp = unigram_logprobs(TRAIN, V)
    assert sum(math.exp(x) for x in lp[1:]) == pytest.approx(1.0)
    nats, n = cross_entropy(lambda s: sum(lp[i] for i in s[1:]), [[0, 4, 1]])
    assert n == 2
    assert nats == pytest.approx(-(lp[4] + lp[1]) / 2)


def test_kneser_ney_saves_and_loads_without_pickle(tmp_path):
    import numpy as np

    kn = KneserNey(3, V).fit(TRAIN)
    kn.save(tmp_path / "kn.npz")
    with np.load(tmp_path / "kn.npz", allow_pickle=False) as z:
        assert sorted(z.files) == [
            "kn.counts0",
            "kn.counts1",
            "kn.counts2",
            "kn.grams0",
            "kn.grams1",
            "kn.grams2",
            "meta",
        ]
    loaded = KneserNey.load(tmp_path / "kn.npz")
    for s in TRAIN + [[0, 6, 5, 1]]:
        np.testing.assert_array_equal(loaded.token_logprobs(s), kn.token_logprobs(s))
        assert kn.token_logprobs(s).sum() == pytest.approx(kn.sentence_logprob(s))


def test_a_file_that_is_not_an_ngram_model_is_one_error(tmp_path):
    from rnnlm import RnnlmError

    (tmp_path / "x.npz").write_bytes(b"not a zip")
    with pytest.raises(RnnlmError, match=r"x\.npz: not an n-gram model"):
        KneserNey.load(tmp_path / "x.npz")
    with pytest.raises(RnnlmError, match=r"nope\.npz: no such n-gram model"):
        KneserNey.load(tmp_path / "nope.npz")


def test_interpolation_weight_is_tuned_and_never_worse_than_either_model():
    import numpy as np

    from rnnlm.evaluation.interpolation import Accumulator

    rng = np.random.default_rng(0)
    good = np.log(rng.uniform(0.2, 0.9, 500))
    poor = np.log(rng.uniform(0.01, 0.5, 500))
    oov = rng.random(500) < 0.1
    acc = Accumulator(interpolate=True)
    acc.add(good, oov, poor)
    w = acc.best_weight()
    assert 0.5 < w <= 1.0
    mixed = acc.entry(weight=w)["nats_per_token"]
    assert mixed <= acc.entry()["nats_per_token"] + 1e-12
    assert acc.entry(weight=0.0)["nats_per_token"] == pytest.approx(-poor.mean())
    assert acc.entry(weight=1.0)["nats_per_token"] == pytest.approx(-good.mean())
    assert acc.entry(oov=False)["nats_per_token"] == pytest.approx(-good[~oov].mean())
    assert acc.entry(oov=False)["tokens"] == int((~oov).sum()) and acc.oov_rate() == pytest.approx(oov.mean())
    half = np.log(0.5 * np.exp(good) + 0.5 * np.exp(poor))
    assert acc.entry(weight=0.5)["nats_per_token"] == pytest.approx(-half.mean())


def _random_corpus(seed: int, sentences: int, words: int = 40) -> list[list[int]]:
    """Sentences of 0–8 words over ids 3 … words+2, with an occasional UNKNOWN_TOKEN (2)."""
    rng = np.random.default_rng(seed)
    out = []
    for n in rng.integers(0, 9, sentences):
        ids = np.where(rng.random(n) < 0.05, 2, rng.integers(3, 3 + words, n))
        out.append([0, *ids.tolist(), 1])
    return out


@pytest.mark.parametrize("order", [2, 3, 5])
def test_kenlm_reads_the_arpa_export_with_the_models_probabilities(tmp_path, order):
    """KenLM, an independent reader, gives every held-out token the model's probability:
    OOV words as <unk>, the first word after <s> alone, a never-seen vocabulary word too."""
    import kenlm

    from rnnlm.evaluation.arpa import write_arpa

    tokens = ["SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN", *(f"w{i}" for i in range(40)), "never"]
    kn = KneserNey(order, len(tokens)).fit(_random_corpus(0, 500))
    sizes = write_arpa(kn, tokens, tmp_path / "kn.arpa")
    assert sizes[1] == len(tokens) and sizes[2] > 500
    lm = kenlm.Model(str(tmp_path / "kn.arpa"))
    assert lm.order == order
    held_out = _random_corpus(1, 50) + [[0, len(tokens) - 1, 5, 1], [0, 1], [0, *range(3, 15), 1]]
    for s in held_out:
        text = " ".join("not-in-vocabulary" if i == 2 else tokens[i] for i in s[1:-1])
        from_kenlm = [log10p for log10p, _, _ in lm.full_scores(text)]
        np.testing.assert_allclose(from_kenlm, kn.token_logprobs(s) / math.log(10), atol=1e-6)


def test_arpa_header_counts_and_reserved_words(tmp_path):
    from rnnlm import RnnlmError
    from rnnlm.evaluation.arpa import write_arpa

    tokens = ["SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN", "a", "b", "c", "d"]
    kn = KneserNey(3, V).fit(TRAIN)
    write_arpa(kn, tokens, tmp_path / "kn.arpa")
    lines = (tmp_path / "kn.arpa").read_text().splitlines()
    assert lines[:4] == ["\\data\\", "ngram 1=7", f"ngram 2={len(kn.counts[1])}", f"ngram 3={len(kn.counts[2])}"]
    assert "-99.0000000\t<s>\t" in "\n".join(lines) and lines[-1] == "\\end\\"
    for bad in ("<unk>", "a b", ""):
        with pytest.raises(RnnlmError, match="cannot be an ARPA word"):
            write_arpa(kn, [*tokens[:-1], bad], tmp_path / "bad.arpa")
    assert not (tmp_path / "bad.arpa").exists()


def test_an_ngram_model_counted_the_old_way_is_refused(tmp_path):
    from rnnlm import RnnlmError
    from rnnlm.models.io import save_npz

    save_npz(tmp_path / "old.npz", {"kn": {"grams0": np.zeros((1, 1), np.int32)}}, {"order": 1, "vocab_size": 7})
    with pytest.raises(RnnlmError, match=r"old\.npz: an n-gram model of an older rnnlm.*--forcerun baselines"):
        KneserNey.load(tmp_path / "old.npz")
