"""Count-based baselines: uniform, unigram and interpolated Kneser-Ney n-gram models.

Sentences are id sequences that start with SENTENCE_START (id 0) and end with SENTENCE_END
(id 1), as in the encoded Parquet. Every token after the first is predicted, so
SENTENCE_END counts and SENTENCE_START does not — the same convention as the RNN models.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence

import numpy as np

from rnnlm.errors import RnnlmError
from rnnlm.models.io import UNREADABLE, load_npz, save_npz

CONTEXTS = "stop at the sentence start"  # saved, so that counts made another way are refused


class KneserNey:
    """Interpolated Kneser-Ney (Chen & Goodman 1998) with one discount per order.

    Contexts stop at the sentence's start, as in SRILM and KenLM: the first word's context is
    SENTENCE_START alone. The highest order, and every n-gram that begins with SENTENCE_START
    (nothing can precede it), use raw counts; the other lower-order n-grams use continuation
    counts (how many distinct words precede them). The unigram level is interpolated with a
    uniform distribution over the `vocab_size - 1` predictable ids (all but SENTENCE_START), so
    no token has zero probability. Because every probability is either a seen n-gram's
    interpolated estimate or a backoff weight times the lower order's, the model is exactly
    an ARPA file (`write_arpa`).
    """

    def __init__(self, order: int, vocab_size: int):
        if order < 1:
            raise RnnlmError(f"the n-gram order must be >= 1 (got {order})")
        self.order = order
        self.vocab_size = vocab_size
        self.counts: list[dict[tuple, int]] = []  # counts[k]: (k+1)-grams
        self.context_total: list[dict[tuple, int]] = []
        self.context_types: list[dict[tuple, int]] = []
        self.discount: list[float] = []

    def _ngrams(self, sentence: Sequence[int]) -> Iterable[tuple]:
        """Each predicted token with its context: the `order - 1` tokens before it, fewer at
        the sentence's start."""
        s = tuple(sentence)
        for i in range(1, len(s)):
            yield s[max(0, i - self.order + 1) : i + 1]

    def fit(self, sentences: Iterable[Sequence[int]]) -> KneserNey:
        raw = [Counter() for _ in range(self.order)]
        for s in sentences:
            for g in self._ngrams(s):
                raw[len(g) - 1][g] += 1
        # raw[k] for k < order - 1 holds only n-grams that begin with SENTENCE_START
        for k in range(self.order - 2, -1, -1):
            # continuation count of an n-gram: distinct words seen before it
            raw[k].update(g[1:] for g in raw[k + 1])
        self.counts = raw
        return self._index()

    def _index(self) -> KneserNey:
        """Context totals, context types and discounts from the counts."""
        self.context_total, self.context_types, self.discount = [], [], []
        for counts in self.counts:
            total, types = defaultdict(int), defaultdict(int)
            for g, c in counts.items():
                total[g[:-1]] += c
                types[g[:-1]] += 1
            self.context_total.append(dict(total))
            self.context_types.append(dict(types))
            n1 = sum(1 for c in counts.values() if c == 1)
            n2 = sum(1 for c in counts.values() if c == 2)
            self.discount.append(n1 / (n1 + 2 * n2) if n1 else 0.5)
        return self

    def backoff(self, context: tuple) -> float:
        """The weight of the lower order after `context` (1 where the context was never seen)."""
        k = len(context)
        total = self.context_total[k].get(context) if k < self.order else None
        return self.discount[k] * self.context_types[k][context] / total if total else 1.0

    def prob(self, context: tuple, word: int) -> float:
        """P(word | the last `order - 1` tokens of context)."""
        p = 1.0 / (self.vocab_size - 1)
        for k in range(min(self.order, len(context) + 1)):
            h = context[len(context) - k :] if k else ()
            total = self.context_total[k].get(h)
            if not total:
                continue  # unseen context: keep the lower-order estimate
            c = self.counts[k].get(h + (word,), 0)
            d = self.discount[k]
            p = max(c - d, 0.0) / total + d * self.context_types[k][h] / total * p
        return p

    def sentence_logprob(self, sentence: Sequence[int]) -> float:
        """Natural-log probability of every token after SENTENCE_START."""
        return sum(math.log(self.prob(g[:-1], g[-1])) for g in self._ngrams(sentence))

    def token_logprobs(self, sentence: Sequence[int]) -> np.ndarray:
        """Natural-log probability of each token after SENTENCE_START, in order."""
        return np.log([self.prob(g[:-1], g[-1]) for g in self._ngrams(sentence)])

    def save(self, path) -> None:
        """The counts as plain arrays (no pickle): level k holds its (k+1)-grams and counts."""
        arrays = {}
        for k, counts in enumerate(self.counts):
            grams = np.array(list(counts), dtype=np.int32).reshape(len(counts), k + 1)
            arrays[f"grams{k}"], arrays[f"counts{k}"] = grams, np.array(list(counts.values()), dtype=np.int64)
        save_npz(path, {"kn": arrays}, {"order": self.order, "vocab_size": self.vocab_size, "contexts": CONTEXTS})

    @classmethod
    def load(cls, path) -> KneserNey:
        try:
            groups, meta = load_npz(path)
            model = cls(int(meta["order"]), int(meta["vocab_size"]))
            if meta.get("contexts") != CONTEXTS:
                raise RnnlmError(
                    f"{path}: an n-gram model of an older rnnlm, counted another way: "
                    "rerun its rule (snakemake --forcerun baselines)"
                )
            arrays = groups["kn"]
            model.counts = [
                dict(zip(map(tuple, arrays[f"grams{k}"].tolist()), arrays[f"counts{k}"].tolist()))
                for k in range(model.order)
            ]
        except FileNotFoundError:
            raise RnnlmError(f"{path}: no such n-gram model (the pipeline's baselines rule writes it)") from None
        except (*UNREADABLE, TypeError) as e:
            raise RnnlmError(f"{path}: not an n-gram model ({type(e).__name__}: {e})") from None
        return model._index()


def unigram_logprobs(sentences: Iterable[Sequence[int]], vocab_size: int) -> list[float]:
    """Add-one unigram log-probabilities over the predictable ids (index = id)."""
    counts = Counter()
    for s in sentences:
        counts.update(s[1:])
    total = sum(counts.values()) + vocab_size - 1
    return [-math.inf] + [math.log((counts[i] + 1) / total) for i in range(1, vocab_size)]


def cross_entropy(logprob_of_sentence, sentences: Iterable[Sequence[int]]) -> tuple[float, int]:
    """(nats per predicted token, number of predicted tokens) over `sentences`."""
    nats, tokens = 0.0, 0
    for s in sentences:
        nats -= logprob_of_sentence(s)
        tokens += len(s) - 1
    return nats / tokens, tokens
