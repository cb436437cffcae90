import math

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
    assert kn.prob((0, 0), 3) > kn.prob((0, 0), 6)


def test_unigram_and_cross_entropy():
    lp = unigram_logprobs(TRAIN, V)
    assert sum(math.exp(x) for x in lp[1:]) == pytest.approx(1.0)
    nats, n = cross_entropy(lambda s: sum(lp[i] for i in s[1:]), [[0, 4, 1]])
    assert n == 2
    assert nats == pytest.approx(-(lp[4] + lp[1]) / 2)
