"""A model's compiled functions, each compiled on first use and kept for the model's life.

`RecurrentLM` (lm.py) builds symbolic graphs; this turns them into callables with the mode
the model asks for (`backend.mode`). A JAX model compiles a function per input shape
(`portable.PerShape`); every other mode compiles once for all shapes.

Each batch function takes the initial states S (`model.initial_states(B)` at sentences'
starts; a chunk's predecessor's final states, `batching.chunks`) and returns the final ones:

* `token_logprobs(X, Y, M, S) -> (log p per target (T×B), final states)`: validation,
  evaluation and scoring;
* `loss(X, Y, M, S) -> (total nats, real targets, final states)`: summed from
  `token_logprobs`, so that a model compiles one graph (not two) for all three;
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

    # the numbers each optimizer reads, besides the clip norm and weight decay (when they are on)
    READS = {"sgd": (), "rmsprop": ("rho", "eps"), "adam": ("beta1", "beta2", "eps")}

    def graph_key(self) -> TrainStep:
        """What the compiled graph depends on: the optimizer, the objective, whether clipping,
        weight decay and each kind of dropout are on. The numbers themselves are inputs of
        the graph (`hyperparameters`; a dropout rate only shapes the masks), so steps that
        differ only in them share one compiled function."""
        return TrainStep(
            self.optimizer,
            clip_norm=float(self.clip_norm > 0),
            objective=self.objective,
            weight_decay=float(self.weight_decay > 0),
            dropout=self.dropout.structure(),
            beta1=0.0,
            beta2=0.0,
            rho=0.0,
            eps=0.0,
        )

    def hyperparameters(self) -> dict[str, float]:
        """The numbers this step's graph takes as inputs, in their order."""
        names = ("clip_norm",) * (self.clip_norm > 0) + ("weight_decay",) * (self.weight_decay > 0)
        return {name: float(getattr(self, name)) for name in names + self.READS.get(self.optimizer, ())}


class BoundTrainStep:
    """A compiled train step with its hyperparameters' values: f(X, Y, M, S, lr, *masks)."""

    def __init__(self, function, hyperparameters: dict[str, float]):
        self.function = function
        self.hyperparameters = list(hyperparameters.values())

    def __call__(self, X, Y, M, S, lr, *masks):
        return self.function(X, Y, M, S, lr, *self.hyperparameters, *masks)


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
    def token_logprobs(self):
        """f(X, Y, M, S) -> (log p(Y | X) per target (T×B; 0 on padding), final states)."""

        def build(shape):
            X, Y, M = self.model.inputs(shape)
            S = self.model.start_states(shape)
            return self._compile([X, Y, M, S], list(self.model.token_logprobs(X, Y, M, S)))

        return self._per_shape(build)

    def loss(self, X, Y, M, S) -> tuple[float, float, np.ndarray]:
        """(total nats, real targets, final states) of one batch from the states S. Summed from
        `token_logprobs` (float64 sums): a second graph for the total alone would cost a cold
        compile of its own (seconds) to save a T×B array."""
        logp, final = self.token_logprobs(X, Y, M, S)
        return -float(np.sum(logp, dtype=np.float64)), float(np.sum(M, dtype=np.float64)), final

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
        key = dropout.structure()
        if key not in self._masked:
            self._masked[key] = (
                self._per_shape(lambda shape: self._masked_graph(key, shape, with_grads=False)),
                self._per_shape(lambda shape: self._masked_graph(key, shape, with_grads=True)),
            )
        return self._masked[key]

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

    def train(self, settings: TrainStep = TrainStep()) -> BoundTrainStep:
        """The fused train step f(X, Y, M, S, learning_rate, *dropout masks) -> (total nats,
        targets, gradient norm, final states). The masks come from `model.dropout_masks`; the
        optimizer's state is `model.optimizer_state`. One compiled function serves every
        `settings` of the same `TrainStep.graph_key`."""
        key = settings.graph_key()
        if key not in self._train:
            if self.model.portable:
                self._train_graph(key, None)  # creates the optimizer's state now, for a checkpoint
            self._train[key] = self._per_shape(lambda shape: self._compile(*self._train_graph(key, shape)))
        return BoundTrainStep(self._train[key], settings.hyperparameters())

    def _train_graph(self, key: TrainStep, shape):
        model = self.model
        X, Y, M = model.inputs(shape)
        S = model.start_states(shape)
        lr = pt.scalar("learning_rate", dtype=model.dtype)
        hyper = {name: pt.dscalar(name) for name in key.hyperparameters()}
        masks = model.masks(key.dropout, shape)
        total, count, loss, final = model.loss(X, Y, M, S, masks, key.objective)
        params = list(model.params.values())
        norm, updates = step_updates(
            model.optimizer_state,
            key.optimizer,
            params,
            pytensor.grad(loss, params),
            lr,
            hyper.get("clip_norm"),
            model.dtype,
            sparse=not model.portable,
            weight_decay=hyper.get("weight_decay"),
            **{name: hyper[name] for name in TrainStep.READS.get(key.optimizer, ())},
        )
        inputs = [X, Y, M, S, lr, *hyper.values(), *masks.inputs()]
        return inputs, [total, count, norm, final], updates

    @cached_property
    def step(self):
        """f(x (B,), states (L·S, B, H)) -> (log-probabilities (B, C), new states): one step of
        generation, carrying the hidden state between calls."""
        x = pt.ivector("x")
        carried = pt.tensor3("states", dtype=self.model.dtype)
        logp, states = self.model.step(x, carried)
        return self._compile([x, carried], [logp, states], light=True)
