"""The full softmax output layer: ``P(w | h) = softmax(V h + c)`` over all C words.

V (C×H), or the embedding E when the weights are tied; the bias c (C) unless the model has
none (the tutorial's RNN). The loss is one (N×H)·(H×C) product and the fused
`SoftmaxCrossEntropy` (ops/softmax_cross_entropy.py), whose gradient builds no one-hot
matrix. `portable`: the same maths in PyTensor's standard Ops (portable.py), for JAX.

An output layer offers three graphs: `nll` (per-row negative log-likelihood, evaluation),
`weighted_nll` (per-row nll and the weighted loss to differentiate, training) and
`log_probs` (log P over all C words, generation and scoring); `classes.ClassSoftmax` is the
other one.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

from rnnlm.models import portable
from rnnlm.models.ops.log_softmax import log_softmax
from rnnlm.models.ops.softmax_cross_entropy import softmax_cross_entropy, weighted_softmax_cross_entropy


def log_unigram(counts) -> np.ndarray:
    """Add-one log unigram probabilities of ids with these counts: where an output bias starts,
    so that training starts from the unigram model instead of a uniform guess."""
    counts = np.asarray(counts, dtype=np.float64)
    return np.log((counts + 1) / (np.sum(counts) + len(counts)))


class FullSoftmax:
    """`matrix`: the C×H parameter's name: V, or E when the weights are tied (no V then)."""

    def __init__(self, vocab_size: int, hidden: int, bias: bool, matrix: str = "V", portable: bool = False):
        self.vocab_size = vocab_size
        self.hidden = hidden
        self.bias = bias
        self.matrix = matrix
        self.portable = portable

    def initial_params(self, uniform, zeros) -> dict:
        params = {"V": uniform((self.vocab_size, self.hidden), self.hidden)} if self.matrix == "V" else {}
        if self.bias:
            params["c"] = zeros(self.vocab_size)
        return params

    def init_bias(self, P, counts) -> None:
        if self.bias:
            P["c"].set_value(log_unigram(counts).astype(P["c"].dtype))

    def logits(self, P, h):
        logits = pt.dot(h, P[self.matrix].T)
        return logits + P["c"] if self.bias else logits

    def nll(self, P, h, y):
        if self.portable:
            return portable.nll(self.logits(P, h), y, self.vocab_size)
        return softmax_cross_entropy(self.logits(P, h), y)

    def weighted_nll(self, P, h, y, w):
        """(nll per row, Σ w·nll): the second is what a train step differentiates."""
        if self.portable:
            return portable.weighted_nll(self.logits(P, h), y, w, self.vocab_size)
        return weighted_softmax_cross_entropy(self.logits(P, h), y, w)

    def log_probs(self, P, h):
        return log_softmax(self.logits(P, h), [0, self.vocab_size])
