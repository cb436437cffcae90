"""Sums of per-token log-probabilities, and the linear interpolation of two models.

P(w) = λ·P_model(w) + (1-λ)·P_ngram(w), λ chosen on the valid split from a grid of 201
weights (steps of 0.005): the sums for every λ are kept while streaming, so one pass over a
split gives them all, and the test split is scored with valid's λ.
"""

from __future__ import annotations

import numpy as np

from rnnlm.metrics import perplexity

WEIGHTS = np.linspace(0.0, 1.0, 201)


def mix(logp, other, weight: float) -> np.ndarray:
    """log(λ·e^logp + (1-λ)·e^other) per token, λ = `weight`, computed stably."""
    logp, other = np.asarray(logp, dtype=np.float64), np.asarray(other, dtype=np.float64)
    top = np.maximum(logp, other)
    with np.errstate(divide="ignore"):
        return top + np.log(weight * np.exp(logp - top) + (1 - weight) * np.exp(other - top))


def entry(nats: float, tokens: int) -> dict:
    return {"nats_per_token": nats, "perplexity": perplexity(nats), "tokens": tokens}


class Accumulator:
    """Negative log-likelihood sums over a split, with and without the OOV targets."""

    def __init__(self, interpolate: bool = False):
        self.nats = np.zeros(2)  # [all targets, targets that are not UNKNOWN_TOKEN]
        self.tokens = np.zeros(2, dtype=np.int64)
        self.mixed = np.zeros((2, len(WEIGHTS))) if interpolate else None

    def add(self, logp, oov, other=None) -> None:
        """Per-token log-probabilities `logp` of targets (`oov`: which are UNKNOWN_TOKEN) and,
        when interpolating, the other model's `other` for the same targets."""
        logp, oov = np.asarray(logp, dtype=np.float64), np.asarray(oov, dtype=bool)
        known = ~oov
        self.nats -= [logp.sum(), logp[known].sum()]
        self.tokens += [len(logp), int(known.sum())]
        if self.mixed is not None:
            mixed = mix(logp[:, None], np.asarray(other, dtype=np.float64)[:, None], WEIGHTS)  # every λ at once
            self.mixed -= [mixed.sum(axis=0), mixed[known].sum(axis=0)]

    def oov_rate(self) -> float:
        return float(1 - self.tokens[1] / self.tokens[0]) if self.tokens[0] else 0.0

    def entry(self, oov: bool = True, weight: float | None = None) -> dict:
        """The figures with (`oov`) or without the OOV targets; with `weight`, of the mixture."""
        i = 0 if oov else 1
        if not self.tokens[i]:
            return entry(float("nan"), 0)
        nats = self.nats[i] if weight is None else self.mixed[i, int(np.argmin(np.abs(WEIGHTS - weight)))]
        return entry(float(nats / self.tokens[i]), int(self.tokens[i]))

    def best_weight(self) -> float:
        """The model's weight λ that minimises the mixture's cross-entropy (all targets)."""
        return float(WEIGHTS[int(np.argmin(self.mixed[0]))])
