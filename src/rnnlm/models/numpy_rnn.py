"""The tutorial's RNNNumpy, correct: the oracle for tests and the gradient-check gate.

    s_t = tanh(U[:, x_t] + W s_{t-1}),  o_t = softmax(V s_t)       U: H×C, W: H×H, V: C×H

`bptt` is the tutorial's backpropagation through time with its per-output truncation: the
loss at step t sends gradient back through steps t, t-1, …, t-bptt_truncate only
(a negative `bptt_truncate` means full BPTT). Losses and gradients are of the *total*
cross-entropy of a sentence, as in the tutorial. Not a trainer: one sentence at a time.
"""

from __future__ import annotations

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


class RNNNumpy:
    PARAMS = ("U", "V", "W")

    def __init__(self, word_dim: int, hidden_dim: int = 100, bptt_truncate: int = 4, seed: int = 0, dtype=np.float64):
        rng = np.random.default_rng(seed)
        self.word_dim, self.hidden_dim, self.bptt_truncate = word_dim, hidden_dim, bptt_truncate
        c, h = 1.0 / np.sqrt(word_dim), 1.0 / np.sqrt(hidden_dim)
        self.U = rng.uniform(-c, c, (hidden_dim, word_dim)).astype(dtype)
        self.V = rng.uniform(-h, h, (word_dim, hidden_dim)).astype(dtype)
        self.W = rng.uniform(-h, h, (hidden_dim, hidden_dim)).astype(dtype)

    def get_params(self) -> dict[str, np.ndarray]:
        return {k: getattr(self, k).copy() for k in self.PARAMS}

    def set_params(self, params: dict[str, np.ndarray]) -> None:
        for k in self.PARAMS:
            setattr(self, k, np.array(params[k], dtype=getattr(self, k).dtype))

    def forward(self, x) -> tuple[np.ndarray, np.ndarray]:
        """(o, s): o is T×C probabilities; s is (T+1)×H states, s[-1] the zero initial state."""
        T = len(x)
        s = np.zeros((T + 1, self.hidden_dim), dtype=self.U.dtype)
        for t in range(T):
            s[t] = np.tanh(self.U[:, x[t]] + self.W @ s[t - 1])
        return softmax(s[:T] @ self.V.T), s

    def total_loss(self, X, Y) -> float:
        """Summed cross-entropy (nats) over sentences X[i] → targets Y[i]."""
        loss = 0.0
        for x, y in zip(X, Y):
            o, _ = self.forward(x)
            loss -= np.log(o[np.arange(len(y)), y]).sum()
        return float(loss)

    def loss(self, X, Y) -> float:
        """Mean cross-entropy per predicted word."""
        return self.total_loss(X, Y) / sum(len(y) for y in Y)

    def bptt(self, x, y) -> dict[str, np.ndarray]:
        T = len(y)
        o, s = self.forward(x)
        grads = {k: np.zeros_like(getattr(self, k)) for k in self.PARAMS}
        delta_o = o.copy()  # the tutorial mutates o here; a copy keeps forward's result intact
        delta_o[np.arange(T), y] -= 1.0
        grads["V"] += delta_o.T @ s[:T]
        k = T if self.bptt_truncate < 0 else self.bptt_truncate
        for t in reversed(range(T)):
            delta = (self.V.T @ delta_o[t]) * (1 - s[t] ** 2)
            for step in reversed(range(max(0, t - k), t + 1)):
                grads["W"] += np.outer(delta, s[step - 1])
                grads["U"][:, x[step]] += delta
                delta = (self.W.T @ delta) * (1 - s[step - 1] ** 2)
        return grads

    def sgd_step(self, x, y, learning_rate: float) -> None:
        for k, g in self.bptt(x, y).items():
            setattr(self, k, getattr(self, k) - learning_rate * g)

    def numerical_gradient(self, x, y, name: str, index: tuple, h: float = 1e-3) -> float:
        """Five-point central difference (error O(h^4)) of the sentence's total loss in one
        parameter entry."""
        p = getattr(self, name)
        original = p[index]

        def loss_at(delta):
            p[index] = original + delta
            return self.total_loss([x], [y])

        try:
            return five_point_derivative(loss_at, h)
        finally:
            p[index] = original

    def gradient_check(self, x, y, h: float = 1e-3) -> dict[str, float]:
        """Max relative error |a-b|/(|a|+|b|) of `bptt` against finite differences, per parameter.
        Exact only with full BPTT (a truncated gradient is not the loss's derivative)."""
        grads = self.bptt(x, y)
        errors = {}
        for name in self.PARAMS:
            worst = 0.0
            for index in np.ndindex(getattr(self, name).shape):
                num, ana = self.numerical_gradient(x, y, name, index, h), grads[name][index]
                worst = max(worst, relative_error(ana, num))
            errors[name] = worst
        return errors


def five_point_derivative(f, h: float) -> float:
    """f'(0) by the five-point central stencil (error O(h^4))."""
    return (8 * (f(h) - f(-h)) - (f(2 * h) - f(-2 * h))) / (12 * h)


def relative_error(a, b, floor: float = 1e-8) -> float:
    """|a-b| / (|a|+|b|), with entries where both are below `floor` counted as equal."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    denom = np.abs(a) + np.abs(b)
    err = np.where(denom > floor, np.abs(a - b) / np.maximum(denom, floor), 0.0)
    return float(err.max()) if err.size else 0.0
