"""Recurrent language models in PyTensor: the tutorial's RNN, GRU and LSTM.

Batches are time-major: ids ``X`` (T×B, int32), targets ``Y`` (T×B) and a mask ``M`` (T×B,
1 for a real target, 0 for padding). The loss is the masked sum of -log p(y_t | x_≤t);
padding adds nothing to it or to any gradient.

* ``rnn``: the tutorial's model, ``s_t = tanh(U[:, x_t] + W s_{t-1})``, ``o_t = softmax(V s_t)``
  with U: H×C, W: H×H, V: C×H and no biases, so its parameters are RNNNumpy's.
* ``gru`` / ``lstm``: an embedding E (C×E), 1..n stacked layers (input weights ``W{l}``,
  recurrent ``U{l}``, bias ``b{l}``; gates side by side), an output layer V (C×H) with bias c.

``bptt_truncate`` has the tutorial's meaning for every cell: the loss at step t sends
gradient back through steps t, t-1, …, t-k only (-1: full BPTT). It is computed exactly, not
with scan's ``truncate_gradient`` (which cuts k steps from the *end* of the sequence): every
state is recomputed from the stop-gradient state k+1 steps earlier, in one extra scan of
k+1 steps over all positions at once. Forward values are unchanged.

Input projections and the output layer are computed for all time steps outside the scans;
only the recurrences run step by step.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pytensor  # noqa: E402
import pytensor.tensor as pt  # noqa: E402
from pytensor.gradient import disconnected_grad  # noqa: E402

from rnnlm.errors import RnnlmError  # noqa: E402
from rnnlm.models import (
    backend,  # noqa: F401  (configures PyTensor before it is imported)
    cells,  # noqa: E402
)
from rnnlm.models.cells import STATES  # noqa: E402
from rnnlm.models.optim import OptimizerState, updates  # noqa: E402
from rnnlm.models.output import FullSoftmax  # noqa: E402

ARCHITECTURE = ("cell", "hidden", "embedding", "layers", "bptt_truncate", "dtype", "seed")


class RecurrentLM:
    def __init__(
        self,
        cell: str,
        vocab_size: int,
        *,
        hidden: int,
        embedding: int,
        layers: int,
        bptt_truncate: int,
        dtype: str,
        seed: int,
        mode: str | None = None,
    ):
        """Every size explicit: the config schema holds the defaults (see `from_spec`)."""
        cells.check_cell(cell, layers)
        self.cell, self.vocab_size, self.hidden = cell, vocab_size, hidden
        self.embedding = None if cell == "rnn" else embedding
        self.layers, self.bptt_truncate, self.dtype, self.mode = layers, bptt_truncate, dtype, mode
        self.output = FullSoftmax(vocab_size, hidden, bias=cell != "rnn")
        self.params = {k: pytensor.shared(v, name=k) for k, v in self._initial_params(seed).items()}
        self.optimizer_state = OptimizerState(dtype)
        self._train_functions: dict[tuple, object] = {}

    @classmethod
    def from_spec(cls, spec: dict, vocab_size: int, mode: str | None = None) -> RecurrentLM:
        """The model a config entry (or a saved model's `spec`) describes; missing keys take the
        schema's defaults."""
        from rnnlm.config import defaults

        full = defaults("models", "*") | spec
        return cls(vocab_size=vocab_size, mode=mode, **{k: full[k] for k in ARCHITECTURE})

    # ---- parameters -------------------------------------------------------------------

    def _initial_params(self, seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        C, H = self.vocab_size, self.hidden

        def uniform(shape, fan_in):
            b = 1.0 / np.sqrt(fan_in)
            return rng.uniform(-b, b, shape).astype(self.dtype)

        def zeros(*shape):
            return np.zeros(shape, dtype=self.dtype)

        if self.cell == "rnn":  # the tutorial's initialisation, ±1/sqrt(fan-in)
            p = {"U": uniform((H, C), C), "W": uniform((H, H), H)}
        else:
            p = {"E": uniform((C, self.embedding), self.embedding)}
            p |= cells.recurrent_params(self.cell, H, self.embedding, self.layers, uniform)
        return p | self.output.initial_params(uniform, zeros)

    def get_params(self) -> dict[str, np.ndarray]:
        return {k: v.get_value() for k, v in self.params.items()}

    def set_params(self, values: dict[str, np.ndarray]) -> None:
        missing = set(self.params) - set(values)
        if missing:
            raise RnnlmError(f"parameters missing: {', '.join(sorted(missing))}")
        for k, shared in self.params.items():
            v = np.asarray(values[k], dtype=self.dtype)
            if v.shape != shared.get_value(borrow=True).shape:
                raise RnnlmError(f"parameter {k}: shape {v.shape}, model has {shared.get_value(borrow=True).shape}")
            shared.set_value(v)

    # ---- the graph --------------------------------------------------------------------

    def _project(self, layer: int, inputs):
        """Input part of layer `layer`'s pre-activations, for any leading shape."""
        P = self.params
        if self.cell == "rnn":
            return P["U"].T[inputs]  # a column lookup: U[:, x_t], never a product with a one-hot
        if layer == 0:
            inputs = P["E"][inputs]
        return pt.dot(inputs, P[f"W{layer}"]) + P[f"b{layer}"]

    def _step(self, xw, states, U):
        return cells.step(self.cell, self.hidden, xw, states, U)

    def _recurrent(self, layer: int):
        return self.params["W" if self.cell == "rnn" else f"U{layer}"]

    def _scan_layer(self, layer: int, xw, initial: list):
        n = STATES[self.cell]

        def step(xw_t, *args):
            return self._step(xw_t, args[:n], args[n])

        out = pytensor.scan(
            step, sequences=[xw], outputs_info=initial, non_sequences=[self._recurrent(layer)],
            strict=True, return_updates=False,
        )
        return list(out) if n > 1 else [out]

    def _zeros(self, batch):
        return pt.zeros((batch, self.hidden), dtype=self.dtype)

    def _states(self, X) -> list[list]:
        """Full forward pass: per layer, its state sequences (T×B×H each)."""
        per_layer, inputs = [], X
        for layer in range(self.layers):
            seqs = self._scan_layer(layer, self._project(layer, inputs), [self._zeros(X.shape[1])] * STATES[self.cell])
            per_layer.append(seqs)
            inputs = seqs[0]
        return per_layer

    def _top(self, X):
        """Top-layer outputs (T×B×H) whose gradients follow `bptt_truncate`."""
        states = self._states(X)
        k = self.bptt_truncate
        if k < 0:
            return states[-1][0]
        T, B = X.shape[0], X.shape[1]
        H, n = self.hidden, STATES[self.cell]
        # window of output t: steps t-k..t, starting from the (constant) state before t-k
        starts = [
            pt.concatenate([pt.zeros((k + 1, B, H), dtype=self.dtype), disconnected_grad(s)])[:T].reshape((T * B, H))
            for layer in states for s in layer
        ]
        xw = self._project(0, X)
        padded = pt.concatenate([pt.zeros((k, B, xw.shape[2]), dtype=xw.dtype), xw])
        windows = pt.stack([padded[j : j + T] for j in range(k + 1)]).reshape((k + 1, T * B, xw.shape[2]))
        t = pt.arange(T)
        valid = pt.stack([pt.repeat(pt.ge(t + j, k), B) for j in range(k + 1)]).astype(self.dtype)[:, :, None]
        recurrent = [self._recurrent(layer) for layer in range(self.layers)]
        extra = [self.params[f"{w}{layer}"] for layer in range(1, self.layers) for w in "Wb"]

        def step(xw_j, valid_j, *args):
            flat, rest = args[: n * self.layers], args[n * self.layers :]
            Us, Ws = rest[: self.layers], rest[self.layers :]
            out, inputs = [], xw_j
            for layer in range(self.layers):
                if layer > 0:
                    inputs = pt.dot(inputs, Ws[2 * layer - 2]) + Ws[2 * layer - 1]
                new = self._step(inputs, flat[n * layer : n * (layer + 1)], Us[layer])
                out += [valid_j * s for s in new]  # before step 0 the state stays the zero start
                inputs = out[n * layer]
            return out

        final = pytensor.scan(
            step, sequences=[windows, valid], outputs_info=starts, non_sequences=recurrent + extra,
            strict=True, return_updates=False,
        )
        final = final if isinstance(final, list) else [final]
        return final[-n][-1].reshape((T, B, H))

    def _loss(self, X, Y, M, objective: str | None = None):
        """(total masked cross-entropy in nats, number of real targets); with an `objective`
        (``sum`` or ``mean``), also the loss to differentiate: the masked sum, or its mean per
        target. All time steps go through the output layer at once, as one (T·B)×H matrix."""
        h = self._top(X).reshape((-1, self.hidden))
        y, mask = Y.flatten(), M.flatten()
        count = pt.sum(mask)
        if objective is None:
            return pt.sum(self.output.nll(self.params, h, y) * mask), count
        w = mask if objective == "sum" else mask / pt.maximum(count, 1)
        nll, loss = self.output.weighted_nll(self.params, h, y, w)
        return pt.sum(nll * mask), count, loss

    def _inputs(self):
        return pt.imatrix("X"), pt.imatrix("Y"), pt.matrix("M", dtype=self.dtype)

    def _compile(self, inputs, outputs, updates=None):
        return pytensor.function(inputs, outputs, updates=updates, mode=backend.mode(self.mode),
                                 allow_input_downcast=True)

    # ---- compiled functions (each built on first use, once per model) ------------------

    @cached_property
    def loss_function(self):
        """f(X, Y, M) -> (total nats, real targets)."""
        X, Y, M = self._inputs()
        return self._compile([X, Y, M], list(self._loss(X, Y, M)))

    @cached_property
    def loss_and_grads(self):
        """f(X, Y, M) -> [total nats, real targets, d total / d param for each param]."""
        X, Y, M = self._inputs()
        total, count, loss = self._loss(X, Y, M, "sum")
        grads = pytensor.grad(loss, list(self.params.values()))
        return self._compile([X, Y, M], [total, count, *grads])

    def grads(self, X, Y, M) -> dict[str, np.ndarray]:
        out = self.loss_and_grads(X, Y, M)
        return dict(zip(self.params, out[2:]))

    @cached_property
    def step_function(self):
        """f(x (B,), states (L·S, B, H)) -> (log-probabilities (B, C), new states): one step of
        generation or scoring, carrying the hidden state between calls."""
        x = pt.ivector("x")
        carried = pt.tensor3("states", dtype=self.dtype)
        n, new_states, inputs = STATES[self.cell], [], x
        for layer in range(self.layers):
            new = self._step(self._project(layer, inputs), [carried[n * layer + i] for i in range(n)],
                             self._recurrent(layer))
            new_states += list(new)
            inputs = new[0]
        logp = self.output.log_probs(self.params, inputs)
        return self._compile([x, carried], [logp, pt.stack(new_states)])

    def initial_states(self, batch: int) -> np.ndarray:
        return np.zeros((self.layers * STATES[self.cell], batch, self.hidden), dtype=self.dtype)

    def train_function(self, optimizer: str = "sgd", clip_norm: float = 0.0, objective: str = "mean",
                       beta1: float = 0.9, beta2: float = 0.999, rho: float = 0.9, eps: float = 1e-8):
        """The fused train step f(X, Y, M, learning_rate) -> (total nats, targets, gradient norm):
        loss, gradients, optional norm clipping and the update, in one call. `objective` is the
        loss differentiated: the batch's ``mean`` per target, or its ``sum`` (the tutorial's
        SGD on a sentence's total loss). Optimizer state lives in `self.optimizer_state`."""
        key = (optimizer, clip_norm, objective, beta1, beta2, rho, eps)
        if key in self._train_functions:
            return self._train_functions[key]
        X, Y, M = self._inputs()
        lr = pt.scalar("learning_rate", dtype=self.dtype)
        total, count, loss = self._loss(X, Y, M, objective)
        params = list(self.params.values())
        grads = pytensor.grad(loss, params)
        norm = pt.sqrt(sum(pt.sum(g**2) for g in grads))
        if clip_norm > 0:
            scale = pt.minimum(1.0, clip_norm / (norm + 1e-12)).astype(self.dtype)
            grads = [g * scale for g in grads]
        steps = updates(self.optimizer_state, optimizer, params, grads, lr, beta1=beta1, beta2=beta2, rho=rho, eps=eps)
        self._train_functions[key] = self._compile([X, Y, M, lr], [total, count, norm], steps)
        return self._train_functions[key]


def split_loss(model: RecurrentLM, batches, split: str) -> tuple[float, int]:
    """(mean nats per predicted token, predicted tokens) of `model` over a split's `batches`."""
    total = count = 0.0
    for b in batches:
        t, c = model.loss_function(b.X, b.Y, b.M)
        total, count = total + float(t), count + float(c)
    if not count:
        raise RnnlmError(f"the {split} split is empty: check the split fractions and the data")
    return total / count, int(count)
