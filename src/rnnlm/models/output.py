"""Output layers: from the top hidden states (N×H) to next-word probabilities over C words.

* `FullSoftmax`: ``softmax(V h + c)`` over all C words: V (C×H), and the bias c (C) unless
  the model has none (the tutorial's RNN). The loss is one (N×H)·(H×C) product and the fused
  `SoftmaxCrossEntropy` (ops.py), whose gradient never builds a one-hot matrix.
* `ClassSoftmax` (classes.py): Mikolov's class-factored softmax.

Every output layer offers the same three graphs: `nll` (per-row negative log-likelihood,
evaluation), `weighted_nll` (per-row nll and the weighted loss to differentiate, training)
and `log_probs` (log P over all C words, for generation and scoring).
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

from rnnlm.errors import RnnlmError
from rnnlm.models import portable
from rnnlm.models.ops import log_softmax, softmax_cross_entropy, weighted_softmax_cross_entropy

OUTPUTS = ("full", "class")


def output_layer(
    kind: str, vocab_size: int, hidden: int, bias: bool, matrix: str, classes=None, portable: bool = False
):
    """The output layer of a model: ``full`` or ``class`` (which needs the class boundaries);
    `portable`: in standard Ops only (portable.py), for the JAX backend."""
    if kind == "full":
        return FullSoftmax(vocab_size, hidden, bias, matrix, portable)
    if kind != "class":
        raise RnnlmError(f"unknown output {kind!r} (expected one of {', '.join(OUTPUTS)})")
    if portable:
        raise RnnlmError("output: class runs on the Numba and C backends only, not mode: JAX (use output: full)")
    if classes is None:
        raise RnnlmError("output: class needs the vocabulary's counts (or the model's saved classes)")
    from rnnlm.models.classes import ClassSoftmax

    return ClassSoftmax(vocab_size, hidden, bias, matrix, classes)


def log_unigram(counts) -> np.ndarray:
    """Add-one log unigram probabilities of ids with these counts."""
    counts = np.asarray(counts, dtype=np.float64)
    return np.log((counts + 1) / (np.sum(counts) + len(counts)))


class FullSoftmax:
    """`matrix`: the C×H parameter's name: V, or E when the weights are tied (no V then)."""

    def __init__(self, vocab_size: int, hidden: int, bias: bool, matrix: str = "V", portable: bool = False):
        self.vocab_size, self.hidden, self.bias, self.matrix = vocab_size, hidden, bias, matrix
        self.portable = portable

    def initial_params(self, uniform, zeros) -> dict:
        p = {"V": uniform((self.vocab_size, self.hidden), self.hidden)} if self.matrix == "V" else {}
        if self.bias:
            p["c"] = zeros(self.vocab_size)
        return p

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
        return log_softmax(self.logits(P, h))
