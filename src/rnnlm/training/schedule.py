"""The two training schedules (`train.schedule`), and a model's settings with their defaults.

* ``tutorial``: batch-1 SGD on each sentence's total loss over shuffled sentences; every
  `evaluate_after` epochs the training loss is computed and the learning rate halved when it
  rose (the tutorial's `train_with_sgd`). The model is the last parameters.
* ``fast``: length-bucketed minibatches, Adam/RMSProp/SGD, norm clipping, validation every
  `eval_every` steps and each epoch; the learning rate times `lr_decay` when it did not
  improve, a stop after `patience` such validations. The model is the best validated.
"""

from __future__ import annotations

import math

import numpy as np

from rnnlm.config import defaults
from rnnlm.models.compiled import TrainStep
from rnnlm.models.dropout import Dropout
from rnnlm.models.lm import ARCHITECTURE
from rnnlm.training.state import TrainState


def train_settings(spec: dict) -> dict:
    """A model entry's `train` settings, the schema's defaults filled in."""
    return defaults("models", "*", "train") | (spec.get("train") or {})


def architecture(spec: dict) -> dict:
    """The keys of a model entry that decide its parameters' shapes and initial values."""
    return {k: v for k, v in (defaults("models", "*") | spec).items() if k in ARCHITECTURE}


class Schedule:
    def __init__(self, settings: dict):
        self.settings = settings
        self.tutorial = settings["schedule"] == "tutorial"
        self.batch_size = 1 if self.tutorial else settings["batch_size"]
        self.optimizer = "sgd" if self.tutorial else settings["optimizer"]
        self.dropout = Dropout(settings["dropout"], settings["recurrent_dropout"], settings["variational"])

    def train_step(self) -> TrainStep:
        if self.tutorial:  # the tutorial's SGD: a sentence's total loss, no clipping
            return TrainStep("sgd", objective="sum")
        s = self.settings
        return TrainStep(self.optimizer, clip_norm=s["clip_norm"], weight_decay=s["weight_decay"], dropout=self.dropout)

    def step_function(self, model):
        """f(batch, learning rate, step number, initial states) -> (total nats, targets, gradient
        norm, final states): one update, its dropout masks a function of (seed, step number), so
        a resumed run is exact."""
        update = model.compiled.train(self.train_step())
        seed = self.settings["seed"]

        def step(batch, learning_rate, number, states):
            rng = np.random.default_rng([seed, 0x5EED, number])
            masks = model.dropout_masks(self.dropout, batch.X.shape[0], batch.X.shape[1], rng)
            return update(batch.X, batch.Y, batch.M, states, learning_rate, *masks)

        return step

    def validates_after_step(self, state: TrainState) -> bool:
        """Fast: `eval_every` steps after the last validation (an epoch's end validates too, so
        counting from it keeps two validations from falling a few steps apart)."""
        return not self.tutorial and state.step - max(state.last_eval_step, 0) >= self.settings["eval_every"]

    def records_after_step(self, state: TrainState) -> bool:
        """Tutorial: a point of the training loss's running mean every `eval_every` steps, so
        that its history draws a curve (its loss evaluations come only every few epochs)."""
        return self.tutorial and state.step % self.settings["eval_every"] == 0

    def keeps_best(self, state: TrainState) -> bool:
        """Whether the model is the best validated parameters (fast), not the last (tutorial)."""
        return not self.tutorial and state.best_loss < math.inf
