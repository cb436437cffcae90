"""The class-factored softmax (Mikolov et al. 2011): P(w|h) = P(class(w)|h) · P(w|class(w), h).

Classes: √C of them by default, by frequency binning. Walking the vocabulary in id order
(most frequent first after the three specials), a class is closed when the running count
reaches the next multiple of total/K; a word heavier than a bin gets a class of its own. So
frequent words sit in small classes, rare ones in large, every class holds about 1/K of the
training tokens, and a target costs about √C + √C output units instead of C. Classes are
contiguous id ranges, all a model needs is their K+1 boundaries: `assign_classes` derives them
from the vocabulary's counts (deterministic), and the model's spec keeps them (``classes``),
so model.npz is enough to rebuild it.

Parameters: the word layer V (C×H, or the tied E) with bias c, and the class layer
``Vclass`` (K×H) with bias ``cclass`` (no biases for the tutorial's RNN). Training touches the
class layer (a K-way softmax) and the rows of V of each target's class only; the one-step
distribution for generation and scoring is the full product, normalised over all C words.
"""

from __future__ import annotations

import math

import numpy as np
import pytensor
import pytensor.tensor as pt

from rnnlm.errors import RnnlmError
from rnnlm.models.ops.class_word_nll import ClassWordNLL
from rnnlm.models.ops.log_softmax import log_softmax
from rnnlm.models.ops.softmax_cross_entropy import softmax_cross_entropy, weighted_softmax_cross_entropy
from rnnlm.models.softmax import log_unigram


def assign_classes(counts, n_classes: int | None = None) -> list[int]:
    """Boundaries [0, b1, …, C] of frequency-binned classes over ids in order (≤ n_classes,
    default round(√C), all non-empty)."""
    counts = np.maximum(np.asarray(counts, dtype=np.float64), 0)
    C = len(counts)
    K = n_classes or max(1, round(math.sqrt(C)))
    total = counts.sum() or 1.0
    bounds, running = [0], 0.0
    for i in range(C - 1):
        running += counts[i]
        if len(bounds) < K and running >= total * len(bounds) / K:
            bounds.append(i + 1)
    return bounds + [C]


def check_classes(bounds, vocab_size: int) -> np.ndarray:
    b = np.asarray(bounds, dtype=np.int64)
    if b.ndim != 1 or len(b) < 2 or b[0] != 0 or b[-1] != vocab_size or np.any(np.diff(b) <= 0):
        raise RnnlmError(f"classes must be increasing boundaries from 0 to the vocabulary size {vocab_size}")
    return b.astype(np.int32)


class ClassSoftmax:
    def __init__(self, vocab_size: int, hidden: int, bias: bool, matrix: str, classes):
        self.vocab_size = vocab_size
        self.hidden = hidden
        self.bias = bias
        self.matrix = matrix
        self.bounds = check_classes(classes, vocab_size)
        self.n_classes = len(self.bounds) - 1
        self.class_of = np.repeat(np.arange(self.n_classes, dtype=np.int32), np.diff(self.bounds))
        # shared variables, not constants: a graph's compiled code is then cached for any
        # vocabulary and class assignment (a constant's values are part of the cache key)
        self._class_of = pytensor.shared(self.class_of, name="class_of")
        self._bounds = pytensor.shared(self.bounds, name="class_bounds")
        self._class_range = pytensor.shared(np.array([0, self.n_classes], dtype=np.int32), name="class_range")

    def initial_params(self, uniform, zeros) -> dict:
        p = {"V": uniform((self.vocab_size, self.hidden), self.hidden)} if self.matrix == "V" else {}
        p["Vclass"] = uniform((self.n_classes, self.hidden), self.hidden)
        if self.bias:
            p |= {"c": zeros(self.vocab_size), "cclass": zeros(self.n_classes)}
        return p

    def init_bias(self, P, counts) -> None:
        """c: log unigram, so that the within-class softmax is P(w|class); cclass: log P(class)."""
        if self.bias:
            logp = log_unigram(counts)
            P["c"].set_value(logp.astype(P["c"].dtype))
            P["cclass"].set_value(np.log(np.add.reduceat(np.exp(logp), self.bounds[:-1])).astype(P["c"].dtype))

    def _class_logits(self, P, h):
        logits = pt.dot(h, P["Vclass"].T)
        return logits + P["cclass"] if self.bias else logits

    def _word_args(self, P, h, y):
        c = P["c"] if self.bias else pt.zeros((P[self.matrix].shape[0],), dtype=h.dtype)
        return h, P[self.matrix], c, y, self._class_of, self._bounds

    def nll(self, P, h, y):
        class_nll = softmax_cross_entropy(self._class_logits(P, h), self._class_of[y])
        return class_nll + ClassWordNLL(False)(*self._word_args(P, h, y))

    def weighted_nll(self, P, h, y, w):
        """(nll per row, Σ w·nll): the class term and the within-class term, each fused."""
        class_nll, class_loss = weighted_softmax_cross_entropy(self._class_logits(P, h), self._class_of[y], w)
        word_nll, word_loss = ClassWordNLL(True)(*self._word_args(P, h, y), w)
        return class_nll + word_nll, class_loss + word_loss

    def log_probs(self, P, h):
        """log P(w|h) for all C words (B×C): the class's log-probability plus the word's
        log-probability within its class."""
        class_logp = log_softmax(self._class_logits(P, h), self._class_range)
        logits = pt.dot(h, P[self.matrix].T)
        if self.bias:
            logits = logits + P["c"]
        return log_softmax(logits, self._bounds) + class_logp[:, self._class_of]
