"""A model's compiled functions, each compiled on first use and kept for the model's life.

`RecurrentLM` (lm.py) builds symbolic graphs; this turns them into callables with the mode
the model asks for (`backend.mode`). A JAX model compiles a function per input shape
(`portable.PerShape`); every other mode compiles once for all shapes.

Each batch function takes the initial states S (`model.initial_states(B)` at sentences'
starts; a chunk's predecessor's final states, `batching.chunks`) and returns the final ones:

* `loss(X, Y, M, S) -> (total nats, real targets, final states)`: validation and evaluation;
* `token_logprobs(X, Y, M, S) -> (log p per target (T×B), final states)`: per-token
  evaluation and scoring;
* `masked(dropout) -> (loss, loss and gradients)`: the training graph with its dropout masks
  as inputs, for the gradient-check gate (fixed masks);
* `train(TrainStep(...)) -> f(X, Y, M, S, learning rate, *masks) -> (nats, targets, gradient
  norm, final states)`: the fused train step (loss, gradients, clipping and the update in one
  call);
* `step(x, states) -> (log-probabilities, new states)`: one step of generation, compiled in
  the light mode (`backend.light_mode`: nothing to compile before a first generation).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pytensor
import pytensor.tensor as pt

from rnnlm.models import backend
from rnnlm.models.dropout import NO_DROPOUT, Dropout
from rnnlm.models.portable import PerShape
from rnnlm.models.sparse import step_updates


@dataclass(frozen=True)
class TrainStep:
    """What a train step does besides the model's graph (one compiled function per value).

    `objective`: the loss differentiated, the batch's ``mean`` per target or its ``sum`` (the
    tutorial's SGD on a sentence's total loss). `weight_decay` shrinks the weight matrices
    (not biases) by that fraction of the learning rate each step (decoupled, as in AdamW).
    Plain SGD updates only the looked-up entries of U or E (`sparse.step_updates`)."""

    optimizer: str = "sgd"
    clip_norm: float = 0.0
    objective: str = "mean"
    weight_decay: float = 0.0
    dropout: Dropout = NO_DROPOUT
    beta1: float = 0.9
    beta2: float = 0.999
    rho: float = 0.9
    eps: float = 1e-8


class CompiledFunctions:
    def __init__(self, model):
        self.model = model
        self._masked: dict[Dropout, tuple] = {}
        self._train: dict[TrainStep, object] = {}

    def _compile(self, inputs, outputs, updates=None, light=False):
        mode = backend.light_mode(self.model.mode) if light else backend.mode(self.model.mode)
        return pytensor.function(inputs, outputs, updates=updates, mode=mode, allow_input_downcast=True)

    def _per_shape(self, build):
        """build(shape): compiled once for all shapes, or per shape (a portable model)."""
        return PerShape(build) if self.model.portable else build(None)

    @cached_property
    def loss(self):
        """f(X, Y, M, S) -> (total nats, real targets, final states)."""

        def build(shape):
            X, Y, M = self.model.inputs(shape)
            S = self.model.start_states(shape)
            return self._compile([X, Y, M, S], list(self.model.loss(X, Y, M, S)))

        return self._per_shape(build)

    @cached_property
    def token_logprobs(self):
        """f(X, Y, M, S) -> (log p(Y | X) per target (T×B; 0 on padding), final states)."""

        def build(shape):
            X, Y, M = self.model.inputs(shape)
            S = self.model.start_states(shape)
            return self._compile([X, Y, M, S], list(self.model.token_logprobs(X, Y, M, S)))

        return self._per_shape(build)

    def loss_over(self, pieces) -> tuple[float, float]:
        """(total nats, real targets) of a batch given as its chunks in order (`batching.chunks`:
        X, Y, M and `carry`), each from the previous chunk's final states."""
        total = count = 0.0
        states = None
        for piece in pieces:
            initial = states if piece.carry else self.model.initial_states(piece.X.shape[1])
            t, c, states = self.loss(piece.X, piece.Y, piece.M, initial)
            total, count = total + float(t), count + float(c)
        return total, count

    def token_logprobs_over(self, pieces) -> np.ndarray:
        """log p per target (T×B) of a batch given as its chunks in order, as `loss_over`."""
        out, states = [], None
        for piece in pieces:
            initial = states if piece.carry else self.model.initial_states(piece.X.shape[1])
            logp, states = self.token_logprobs(piece.X, piece.Y, piece.M, initial)
            out.append(np.asarray(logp))
        return np.concatenate(out)

    def masked(self, dropout: Dropout = NO_DROPOUT):
        """(loss, loss and gradients) of the training graph with `dropout`'s masks as extra
        inputs: f(X, Y, M, S, *masks) -> (total, count) and (total, count, *∂total/∂params)."""
        if dropout not in self._masked:
            self._masked[dropout] = (
                self._per_shape(lambda shape: self._masked_graph(dropout, shape, with_grads=False)),
                self._per_shape(lambda shape: self._masked_graph(dropout, shape, with_grads=True)),
            )
        return self._masked[dropout]

    def _masked_graph(self, dropout: Dropout, shape, with_grads: bool):
        model = self.model
        X, Y, M = model.inputs(shape)
        S = model.start_states(shape)
        masks = model.masks(dropout, shape)
        if not with_grads:
            return self._compile([X, Y, M, S, *masks.inputs()], list(model.loss(X, Y, M, S, masks)[:2]))
        total, count, loss, _ = model.loss(X, Y, M, S, masks, "sum")
        grads = pytensor.grad(loss, list(model.params.values()))
        return self._compile([X, Y, M, S, *masks.inputs()], [total, count, *grads])

    def grads(self, X, Y, M, S, *masks, dropout: Dropout = NO_DROPOUT) -> dict[str, np.ndarray]:
        """∂(total nats)/∂param for each parameter, on one batch from the states S."""
        out = self.masked(dropout)[1](X, Y, M, S, *masks)
        return dict(zip(self.model.params, out[2:]))

    def train(self, settings: TrainStep = TrainStep()):
        """The fused train step f(X, Y, M, S, learning_rate, *dropout masks) -> (total nats,
        targets, gradient norm, final states). The masks come from `model.dropout_masks`; the
        optimizer's state is `model.optimizer_state`."""
        if settings not in self._train:
            if self.model.portable:
                self._train_graph(settings, None)  # creates the optimizer's state now, for a checkpoint
            self._train[settings] = self._per_shape(lambda shape: self._compile(*self._train_graph(settings, shape)))
        return self._train[settings]

    def _train_graph(self, s: TrainStep, shape):
        model = self.model
        X, Y, M = model.inputs(shape)
        S = model.start_states(shape)
        lr = pt.scalar("learning_rate", dtype=model.dtype)
        masks = model.masks(s.dropout, shape)
        total, count, loss, final = model.loss(X, Y, M, S, masks, s.objective)
        params = list(model.params.values())
        norm, updates = step_updates(
            model.optimizer_state,
            s.optimizer,
            params,
            pytensor.grad(loss, params),
            lr,
            s.clip_norm,
            model.dtype,
            sparse=not model.portable,
            weight_decay=s.weight_decay,
            beta1=s.beta1,
            beta2=s.beta2,
            rho=s.rho,
            eps=s.eps,
        )
        return [X, Y, M, S, lr, *masks.inputs()], [total, count, norm, final], updates

    @cached_property
    def step(self):
        """f(x (B,), states (L·S, B, H)) -> (log-probabilities (B, C), new states): one step of
        generation, carrying the hidden state between calls."""
        x = pt.ivector("x")
        carried = pt.tensor3("states", dtype=self.model.dtype)
        logp, states = self.model.step(x, carried)
        return self._compile([x, carried], [logp, states], light=True)
