"""Recurrent language models in PyTensor: the tutorial's RNN, GRU and LSTM.

Batches are time-major: ids ``X`` (T×B, int32), targets ``Y`` (T×B) and a mask ``M`` (T×B,
1 for a real target, 0 for padding). The loss is the masked sum of −log p(y_t | x_≤t);
padding adds nothing to it or to any gradient. Every graph starts from given states ``S``
(layers · states per layer, B, H: zeros at sentences' starts, `initial_states`) and returns
the final ones, so that a sentence too long for one batch runs in chunks with its state
carried (`batching.chunks`): the same log-probabilities as in one piece, and in training
truncated BPTT across chunks (the carried state is a constant).

* ``rnn``: the tutorial's model, ``s_t = tanh(U[:, x_t] + W s_{t-1})``, ``o_t = softmax(V s_t)``
  with U: H×C, W: H×H, V: C×H and no biases, so its parameters are RNNNumpy's.
* ``gru`` / ``lstm``: an embedding E (C×E), 1..n stacked layers (input weights ``W{l}``,
  recurrent ``U{l}``, bias ``b{l}``; gates side by side), an output layer V (C×H) with bias c;
  with ``tie_weights`` (E = H) the output layer is the embedding itself (Press & Wolf), which
  halves the parameters and regularises. Training may drop units (`rnnlm.models.dropout`).

``bptt_truncate`` has the tutorial's meaning for every cell: the loss at step t sends
gradient back through steps t..t-k only (-1: full BPTT), computed exactly (ops/recurrence.py,
truncation.py). Input projections and the output layer are computed for all time steps at
once; only the recurrences run step by step. ``mode: JAX`` builds the same graph from
standard Ops only (portable.py).

This module builds the symbolic graphs; `compiled.py` compiles them into functions
(`model.compiled`), the train step included.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pytensor
import pytensor.tensor as pt

from rnnlm.config import check_architecture, defaults
from rnnlm.errors import RnnlmError
from rnnlm.models import backend, cells
from rnnlm.models.cell_step import step
from rnnlm.models.cells import CELLS
from rnnlm.models.classes import assign_classes
from rnnlm.models.compiled import CompiledFunctions
from rnnlm.models.dropout import Dropout, Masks, sample, symbolic
from rnnlm.models.ops.recurrence import recurrence
from rnnlm.models.optim import OptimizerState
from rnnlm.models.output import output_layer
from rnnlm.models.portable import is_portable, scan_layer
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
        check_architecture(
            {"cell": cell, "layers": layers, "tie_weights": tie_weights, "embedding": embedding, "hidden": hidden}
        )
        self.cell = cell
        self.vocab_size = vocab_size
        self.hidden = hidden
        self.embedding = embedding if CELLS[cell].gated else None
        self.layers = layers
        self.bptt_truncate = bptt_truncate
        self.tie_weights = tie_weights
        self.dtype = dtype
        self.mode = mode
        self.portable = is_portable(backend.mode(mode))  # standard Ops only (JAX): see portable.py
        self.classes = None if classes is None else [int(b) for b in classes]  # class output: its boundaries
        bias = CELLS[cell].gated
        matrix = "E" if tie_weights else "V"
        self.output = output_layer(output, vocab_size, hidden, bias, matrix, classes, self.portable)
        self.params = {k: pytensor.shared(v, name=k) for k, v in self._initial_params(seed).items()}
        self.optimizer_state = OptimizerState(dtype)

    @classmethod
    def from_spec(cls, spec: dict, vocab_size: int, mode: str | None = None, counts=None) -> RecurrentLM:
        """The model a config entry (or a saved model's `spec`) describes; missing keys take the
        schema's defaults. ``output: class`` takes the spec's ``classes``, else derives them from
        the vocabulary's `counts` (`classes.assign_classes`)."""
        full = defaults("models", "*") | spec
        classes = spec.get("classes")
        if full["output"] == "class" and classes is None and counts is not None:
            classes = assign_classes(counts)
        return cls(vocab_size=vocab_size, mode=mode, classes=classes, **{k: full[k] for k in ARCHITECTURE})

    def _initial_params(self, seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng(seed)
        below = cells.initial_params(
            self.cell, self.vocab_size, self.hidden, self.embedding, self.layers, rng, self.dtype
        )
        uniform = cells.uniform_init(rng, self.dtype)
        return below | self.output.initial_params(uniform, lambda *shape: np.zeros(shape, dtype=self.dtype))

    @cached_property
    def compiled(self) -> CompiledFunctions:
        """The model's compiled functions (loss, per-token log-probabilities, train step, one
        step of generation), each compiled on first use."""
        return CompiledFunctions(self)

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

    def initial_states(self, batch: int) -> np.ndarray:
        """Zero states of every layer for `batch` rows: (layers · states per layer, B, H)."""
        return np.zeros((self.layers * CELLS[self.cell].states, batch, self.hidden), dtype=self.dtype)

    def dropout_masks(self, dropout: Dropout, steps: int, batch: int, rng: np.random.Generator) -> list:
        return sample(dropout, self.layers, self.embedding or self.hidden, self.hidden, steps, batch, rng, self.dtype)

    # ---- the graph ------------------------------------------------------------------------

    def inputs(self, shape=None):
        """X, Y, M; with a `shape` (T, B), static: JAX compiles per shape (portable.PerShape)."""
        shape = shape or (None, None)
        return (
            pt.tensor("X", dtype="int32", shape=shape),
            pt.tensor("Y", dtype="int32", shape=shape),
            pt.tensor("M", dtype=self.dtype, shape=shape),
        )

    def masks(self, dropout: Dropout, shape) -> Masks:
        """The symbolic dropout masks of a graph (static shapes with a `shape`, for JAX)."""
        widths = (self.embedding or self.hidden, self.hidden) if shape else (None, None)
        return symbolic(dropout, self.layers, self.dtype, shape, widths)

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

    def start_states(self, shape=None):
        """The symbolic initial states S (layers · states, B, H); B and H static only with a
        `shape` (JAX), so that a compiled graph serves every hidden size (`compiled`)."""
        B, H = (shape[1], self.hidden) if shape else (None, None)
        return pt.tensor("S", dtype=self.dtype, shape=(self.layers * CELLS[self.cell].states, B, H))

    def _layer(self, layer: int, xw, initial: list, rmask=None, truncate: int = -1) -> list:
        """One layer's state sequences ([h], or [h, c] for the LSTM; T×B×H) from its `initial`
        states: the whole recurrence is one Op (`ops.recurrence`), not a scan (portable: a scan)."""
        if self.portable:
            return scan_layer(self.cell, self.hidden, xw, self.recurrent_matrix(layer), initial, rmask)
        R = self.recurrent_matrix(layer)
        if rmask is None:
            rmask = pt.ones((xw.shape[1], R.shape[0]), dtype=self.dtype)  # R is H×gH
        c0 = initial[1] if self.cell == "lstm" else initial[0]  # (ignored but for the LSTM)
        h, aux = recurrence(self.cell, xw, R, rmask, initial[0], c0, truncate)
        return [h, aux[:, :, : h.shape[-1]]] if self.cell == "lstm" else [h]

    def _states(self, X, S, masks: Masks, truncate: int = -1) -> list[list]:
        """Full forward pass from the states S: per layer, its state sequences (T×B×H each)."""
        n = CELLS[self.cell].states
        per_layer = []
        inputs = X
        for layer in range(self.layers):
            mask = masks.embedding if layer == 0 else (masks.between[layer - 1] if masks.between else None)
            rmask = masks.recurrent[layer] if masks.recurrent else None
            initial = [S[n * layer + i] for i in range(n)]
            seqs = self._layer(layer, self.project(layer, inputs, mask), initial, rmask, truncate)
            per_layer.append(seqs)
            inputs = seqs[0]
        return per_layer

    def top(self, X, S, masks: Masks):
        """(top-layer outputs (T×B×H), final states stacked like S). The outputs' gradients
        follow `bptt_truncate`: a one-layer model's Recurrence Op truncates exactly by itself;
        stacked layers recompute windows by scans. (Dropout trains with full BPTT only:
        `config.check_model` refuses the rest.)"""
        k = self.bptt_truncate
        truncate_in_op = k >= 0 and self.layers == 1 and not self.portable
        states = self._states(X, S, masks, truncate=k if truncate_in_op else -1)
        final = pt.stack([seq[-1] for layer in states for seq in layer])
        if k >= 0 and not truncate_in_op:
            return truncated_top(self, states, X, S), final
        top = states[-1][0]
        return (top if masks.output is None else top * masks.output), final

    def loss(self, X, Y, M, S, masks: Masks | None = None, objective: str | None = None):
        """(total masked cross-entropy in nats, number of real targets, final states); with an
        `objective` (``sum`` or ``mean``), (total, count, the loss to differentiate: the masked
        sum or its mean per target, final states). All time steps go through the output layer
        at once, as one (T·B)×H matrix."""
        top, final = self.top(X, S, masks or Masks())
        h = top.reshape((-1, top.shape[-1]))
        y = Y.flatten()
        mask = M.flatten()
        count = pt.sum(mask)
        if objective is None:
            return pt.sum(self.output.nll(self.params, h, y) * mask), count, final
        w = mask if objective == "sum" else mask / pt.maximum(count, 1)
        nll, loss = self.output.weighted_nll(self.params, h, y, w)
        return pt.sum(nll * mask), count, loss, final

    def token_logprobs(self, X, Y, M, S):
        """(log p(Y | X) per target (T×B; 0 on padding), final states)."""
        top, final = self.top(X, S, Masks())
        h = top.reshape((-1, top.shape[-1]))
        return -self.output.nll(self.params, h, Y.flatten()).reshape(Y.shape) * M, final

    def step(self, x, carried):
        """One step for ids x (B,) from the states `carried` (layers · states, B, H): the
        log-probabilities of the next word (B×C) and the new states, stacked like `carried`."""
        n = CELLS[self.cell].states
        new_states = []
        inputs = x
        for layer in range(self.layers):
            previous = [carried[n * layer + i] for i in range(n)]
            new = step(self.cell, self.hidden, self.project(layer, inputs), previous, self.recurrent_matrix(layer))
            new_states += list(new)
            inputs = new[0]
        return self.output.log_probs(self.params, inputs), pt.stack(new_states)
