"""Recurrent language models in PyTensor: the tutorial's RNN, GRU and LSTM.

Batches are time-major: ids ``X`` (T×B, int32), targets ``Y`` (T×B) and a mask ``M`` (T×B,
1 for a real target, 0 for padding). The loss is the masked sum of -log p(y_t | x_≤t);
padding adds nothing to it or to any gradient.

* ``rnn``: the tutorial's model, ``s_t = tanh(U[:, x_t] + W s_{t-1})``, ``o_t = softmax(V s_t)``
  with U: H×C, W: H×H, V: C×H and no biases, so its parameters are RNNNumpy's.
* ``gru`` / ``lstm``: an embedding E (C×E), 1..n stacked layers (input weights ``W{l}``,
  recurrent ``U{l}``, bias ``b{l}``; gates side by side), an output layer V (C×H) with bias c;
  with ``tie_weights`` (E = H) the output layer is the embedding itself (Press & Wolf), which
  halves the parameters and regularises. Training may drop units (`rnnlm.models.dropout`).

``bptt_truncate`` has the tutorial's meaning for every cell: the loss at step t sends
gradient back through steps t..t-k only (-1: full BPTT), computed exactly (recurrence.py,
truncation.py). Input projections and the output layer are computed for all time steps at
once; only the recurrences run step by step. ``mode: JAX`` builds the same graph from
standard Ops only (portable.py).
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pytensor
import pytensor.tensor as pt

from rnnlm.errors import RnnlmError
from rnnlm.models import backend, cells
from rnnlm.models.cells import STATES
from rnnlm.models.dropout import NO_DROPOUT, Dropout, Masks, sample, symbolic
from rnnlm.models.optim import OptimizerState
from rnnlm.models.output import output_layer
from rnnlm.models.portable import PerShape, is_portable, scan_layer
from rnnlm.models.recurrence import recurrence
from rnnlm.models.sparse import step_updates
from rnnlm.models.truncation import truncated_top

ARCHITECTURE = ("cell", "hidden", "embedding", "layers", "bptt_truncate", "tie_weights", "output", "dtype", "seed")


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
        tie_weights: bool,
        dtype: str,
        seed: int,
        output: str = "full",
        classes: list[int] | None = None,
        mode: str | None = None,
    ):
        """Every size explicit: the config schema holds the defaults (see `from_spec`)."""
        cells.check_cell(cell, layers)
        if tie_weights and (cell == "rnn" or embedding != hidden):
            raise RnnlmError(f"tie_weights needs a gru or lstm with embedding == hidden ({embedding} != {hidden})")
        self.cell, self.vocab_size, self.hidden, self.tie_weights = cell, vocab_size, hidden, tie_weights
        self.embedding = None if cell == "rnn" else embedding
        self.layers, self.bptt_truncate, self.dtype, self.mode = layers, bptt_truncate, dtype, mode
        self.portable = is_portable(backend.mode(mode))  # standard Ops only (JAX): see portable.py
        self.output = output_layer(
            output, vocab_size, hidden, cell != "rnn", "E" if tie_weights else "V", classes, self.portable
        )
        self.classes = None if classes is None else [int(b) for b in classes]  # class output: its boundaries
        self.params = {k: pytensor.shared(v, name=k) for k, v in self._initial_params(seed).items()}
        self.optimizer_state = OptimizerState(dtype)
        self._train_functions: dict[tuple, object] = {}

    @classmethod
    def from_spec(cls, spec: dict, vocab_size: int, mode: str | None = None, counts=None) -> RecurrentLM:
        """The model a config entry (or a saved model's `spec`) describes; missing keys take the
        schema's defaults. ``output: class`` takes the spec's ``classes``, else derives them from
        the vocabulary's `counts` (`classes.assign_classes`)."""
        from rnnlm.config import defaults

        full = defaults("models", "*") | spec
        classes = spec.get("classes")
        if full["output"] == "class" and classes is None and counts is not None:
            from rnnlm.models.classes import assign_classes

            classes = assign_classes(counts)
        return cls(vocab_size=vocab_size, mode=mode, classes=classes, **{k: full[k] for k in ARCHITECTURE})

    def _initial_params(self, seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        uniform = cells.uniform_init(rng, self.dtype)
        p = cells.input_params(self.cell, self.vocab_size, self.hidden, self.embedding, self.layers, uniform, rng)
        return p | self.output.initial_params(uniform, lambda *shape: np.zeros(shape, dtype=self.dtype))

    def init_output_bias(self, counts: np.ndarray) -> None:
        """Start the output bias at the log unigram distribution of `counts` (per id, add-one),
        so that training starts from the unigram model instead of a uniform guess."""
        self.output.init_bias(self.params, counts)

    def output_matrix(self):
        """The C×H output layer: V, or the embedding when the weights are tied."""
        return self.params[self.output.matrix]

    def get_params(self) -> dict[str, np.ndarray]:
        return {k: np.asarray(v.get_value()) for k, v in self.params.items()}  # (JAX: device arrays)

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

    def project(self, layer: int, inputs, mask=None):
        """Input part of layer `layer`'s pre-activations, for any leading shape; `mask` drops
        units of the layer's input (the embeddings, or the layer below's outputs)."""
        P = self.params
        if self.cell == "rnn":
            return P["U"].T[inputs]  # a column lookup: U[:, x_t], never a product with a one-hot
        if layer == 0:
            inputs = P["E"][inputs]
        if mask is not None:
            inputs = inputs * mask
        return pt.dot(inputs, P[f"W{layer}"]) + P[f"b{layer}"]

    def recurrent_matrix(self, layer: int):
        return self.params["W" if self.cell == "rnn" else f"U{layer}"]

    def _layer(self, layer: int, xw, rmask=None, truncate: int = -1) -> list:
        """One layer's state sequences ([h], or [h, c] for the LSTM; T×B×H) from zero states:
        the whole recurrence is one Op (`recurrence.Recurrence`), not a scan (portable: a scan)."""
        if self.portable:
            return scan_layer(self.cell, self.hidden, xw, self.recurrent_matrix(layer), rmask)
        if rmask is None:
            rmask = pt.ones((xw.shape[1], self.hidden), dtype=self.dtype)
        h, aux = recurrence(self.cell, xw, self.recurrent_matrix(layer), rmask, truncate)
        return [h, aux[:, :, : self.hidden]] if self.cell == "lstm" else [h]

    def _states(self, X, masks: Masks, truncate: int = -1) -> list[list]:
        """Full forward pass: per layer, its state sequences (T×B×H each)."""
        per_layer, inputs = [], X
        for layer in range(self.layers):
            mask = masks.embedding if layer == 0 else (masks.between[layer - 1] if masks.between else None)
            rmask = masks.recurrent[layer] if masks.recurrent else None
            seqs = self._layer(layer, self.project(layer, inputs, mask), rmask, truncate)
            per_layer.append(seqs)
            inputs = seqs[0]
        return per_layer

    def _top(self, X, masks: Masks):
        """Top-layer outputs (T×B×H) whose gradients follow `bptt_truncate`: a one-layer model's
        Recurrence Op truncates exactly by itself; stacked layers recompute windows by scans."""
        k = self.bptt_truncate
        if k < 0:
            states = self._states(X, masks)
            return states[-1][0] if masks.output is None else states[-1][0] * masks.output
        if masks.inputs():
            raise RnnlmError("dropout needs full BPTT (bptt_truncate: -1)")
        if self.layers == 1 and not self.portable:
            return self._states(X, masks, truncate=k)[0][0]
        return truncated_top(self, self._states(X, masks), X)

    def _loss(self, X, Y, M, masks: Masks | None = None, objective: str | None = None):
        """(total masked cross-entropy in nats, number of real targets); with an `objective`
        (``sum`` or ``mean``), also the loss to differentiate: the masked sum, or its mean per
        target. All time steps go through the output layer at once, as one (T·B)×H matrix."""
        h = self._top(X, masks or Masks()).reshape((-1, self.hidden))
        y, mask = Y.flatten(), M.flatten()
        count = pt.sum(mask)
        if objective is None:
            return pt.sum(self.output.nll(self.params, h, y) * mask), count
        w = mask if objective == "sum" else mask / pt.maximum(count, 1)
        nll, loss = self.output.weighted_nll(self.params, h, y, w)
        return pt.sum(nll * mask), count, loss

    def _inputs(self, shape=None):
        """X, Y, M; with a `shape` (T, B), static: JAX compiles per shape (portable.PerShape)."""
        shape = shape or (None, None)
        return (
            pt.tensor("X", dtype="int32", shape=shape),
            pt.tensor("Y", dtype="int32", shape=shape),
            pt.tensor("M", dtype=self.dtype, shape=shape),
        )

    def _masks(self, dropout: Dropout, shape) -> Masks:
        widths = (self.embedding or self.hidden, self.hidden) if shape else (None, None)
        return symbolic(dropout, self.layers, self.dtype, shape, widths)

    def _compile(self, inputs, outputs, updates=None, light=False):
        mode = backend.light_mode(self.mode) if light else backend.mode(self.mode)
        return pytensor.function(inputs, outputs, updates=updates, mode=mode, allow_input_downcast=True)

    def _per_shape(self, build):  # build(shape): compiled once for all shapes, or per shape (portable)
        return PerShape(build) if self.portable else build(None)

    # ---- compiled functions (each built on first use, once per model) ------------------

    @cached_property
    def loss_function(self):
        """f(X, Y, M) -> (total nats, real targets)."""

        def build(shape):
            X, Y, M = self._inputs(shape)
            return self._compile([X, Y, M], list(self._loss(X, Y, M)))

        return self._per_shape(build)

    @cached_property
    def token_logprobs(self):
        """f(X, Y, M) -> log p(Y | X) per target (T×B; 0 on padding): for per-token evaluation."""

        def build(shape):
            X, Y, M = self._inputs(shape)
            h = self._top(X, Masks()).reshape((-1, self.hidden))
            picked = -self.output.nll(self.params, h, Y.flatten()).reshape(Y.shape)
            return self._compile([X, Y, M], picked * M)

        return self._per_shape(build)

    @cached_property
    def loss_and_grads(self):
        """f(X, Y, M) -> [total nats, real targets, d total / d param for each param]."""
        return self.masked_functions(NO_DROPOUT)[1]

    def masked_functions(self, dropout: Dropout):
        """(loss, loss and gradients) of the training graph with `dropout`'s masks as extra
        inputs: f(X, Y, M, *masks) (for the gradient-check gate: fixed masks)."""
        key = ("masked", dropout)

        def build(shape, with_grads):
            X, Y, M = self._inputs(shape)
            masks = self._masks(dropout, shape)
            if not with_grads:
                return self._compile([X, Y, M, *masks.inputs()], list(self._loss(X, Y, M, masks)))
            total, count, loss = self._loss(X, Y, M, masks, "sum")
            grads = pytensor.grad(loss, list(self.params.values()))
            return self._compile([X, Y, M, *masks.inputs()], [total, count, *grads])

        if key not in self._train_functions:
            self._train_functions[key] = tuple(self._per_shape(lambda shape, g=g: build(shape, g)) for g in (0, 1))
        return self._train_functions[key]

    def grads(self, X, Y, M, *masks, dropout: Dropout = NO_DROPOUT) -> dict[str, np.ndarray]:
        out = self.masked_functions(dropout)[1](X, Y, M, *masks)
        return dict(zip(self.params, out[2:]))

    def dropout_masks(self, dropout: Dropout, steps: int, batch: int, rng: np.random.Generator) -> list:
        return sample(dropout, self.layers, self.embedding or self.hidden, self.hidden, steps, batch, rng, self.dtype)

    @cached_property
    def step_function(self):
        """f(x (B,), states (L·S, B, H)) -> (log-probabilities (B, C), new states): one step of
        generation or scoring, carrying the hidden state between calls. Compiled in the light
        mode (`backend.light_mode`): a first generation pays no compile."""
        x = pt.ivector("x")
        carried = pt.tensor3("states", dtype=self.dtype)
        n, new_states, inputs = STATES[self.cell], [], x
        for layer in range(self.layers):
            new = cells.step(
                self.cell,
                self.hidden,
                self.project(layer, inputs),
                [carried[n * layer + i] for i in range(n)],
                self.recurrent_matrix(layer),
            )
            new_states += list(new)
            inputs = new[0]
        logp = self.output.log_probs(self.params, inputs)
        return self._compile([x, carried], [logp, pt.stack(new_states)], light=True)

    def initial_states(self, batch: int) -> np.ndarray:
        return np.zeros((self.layers * STATES[self.cell], batch, self.hidden), dtype=self.dtype)

    def train_function(
        self,
        optimizer: str = "sgd",
        clip_norm: float = 0.0,
        objective: str = "mean",
        weight_decay: float = 0.0,
        dropout: Dropout = NO_DROPOUT,
        beta1: float = 0.9,
        beta2: float = 0.999,
        rho: float = 0.9,
        eps: float = 1e-8,
    ):
        """The fused train step f(X, Y, M, learning_rate, *dropout masks) -> (total nats, targets,
        gradient norm): loss, gradients, optional norm clipping and the update, in one call.
        `objective` is the loss differentiated: the batch's ``mean`` per target, or its ``sum``
        (the tutorial's SGD on a sentence's total loss). `weight_decay` shrinks the weight
        matrices (not biases) by that fraction of the learning rate each step (decoupled, as in
        AdamW). The masks come from `dropout_masks`. Optimizer state: `self.optimizer_state`.
        Plain SGD updates only the looked-up entries of U or E (`sparse.step_updates`)."""
        key = (optimizer, clip_norm, objective, weight_decay, dropout, beta1, beta2, rho, eps)
        if key in self._train_functions:
            return self._train_functions[key]

        def graph(shape):
            X, Y, M = self._inputs(shape)
            lr = pt.scalar("learning_rate", dtype=self.dtype)
            masks = self._masks(dropout, shape)
            total, count, loss = self._loss(X, Y, M, masks, objective)
            params = list(self.params.values())
            norm, steps = step_updates(
                self.optimizer_state,
                optimizer,
                params,
                pytensor.grad(loss, params),
                lr,
                clip_norm,
                self.dtype,
                sparse=not self.portable,
                weight_decay=weight_decay,
                beta1=beta1,
                beta2=beta2,
                rho=rho,
                eps=eps,
            )
            return [X, Y, M, lr, *masks.inputs()], [total, count, norm], steps

        if self.portable:
            graph(None)  # creates the optimizer's state now, which a checkpoint restores before the first step
        self._train_functions[key] = self._per_shape(lambda shape: self._compile(*graph(shape)))
        return self._train_functions[key]
