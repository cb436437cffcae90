"""Update rules for the fused train step: SGD, RMSProp and Adam, with their state.

The state (moments, Adam's step count) lives in PyTensor shared variables owned by an
`OptimizerState`, so a checkpoint can save and restore it by name.
"""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt

from rnnlm.errors import RnnlmError

OPTIMIZERS = ("sgd", "rmsprop", "adam")


class OptimizerState:
    """Named shared slots (``adam.m.V``, ``rmsprop.W``, ``adam.t``…) of one model."""

    def __init__(self, dtype: str):
        self.dtype = dtype
        self.slots: dict[str, pytensor.compile.SharedVariable] = {}

    def slot(self, name: str, like: np.ndarray) -> pytensor.compile.SharedVariable:
        if name not in self.slots:
            self.slots[name] = pytensor.shared(np.zeros_like(like), name=name)
        return self.slots[name]

    def values(self) -> dict[str, np.ndarray]:
        return {k: v.get_value() for k, v in self.slots.items()}

    def load(self, values: dict[str, np.ndarray]) -> None:
        unknown = set(values) - set(self.slots)
        if unknown:
            raise RnnlmError(f"optimizer state has slots this optimizer does not: {', '.join(sorted(unknown))}")
        for k, v in values.items():
            self.slots[k].set_value(np.asarray(v, dtype=self.slots[k].dtype))


def decays(name: str) -> bool:
    """Weight decay shrinks weight matrices (E, W*, U*, V), never biases (b*, c)."""
    return name[0] in "EWUV"


def updates(
    state: OptimizerState,
    optimizer: str,
    params,
    grads,
    lr,
    *,
    weight_decay=None,
    beta1=0.9,
    beta2=0.999,
    rho=0.9,
    eps=1e-8,
) -> list:
    """(shared variable, new value) pairs of one step. The hyperparameters may be numbers or
    symbolic scalars (`compiled.TrainStep.graph_key`); `weight_decay` None: none."""
    if optimizer not in OPTIMIZERS:
        raise RnnlmError(f"unknown optimizer {optimizer!r} (expected one of {', '.join(OPTIMIZERS)})")
    dtype = state.dtype

    def cast(v):
        return pt.cast(v, dtype)

    def new(p, step):
        if weight_decay is not None and decays(p.name):
            step = step + weight_decay * p
        return cast(p - lr * step)

    if optimizer == "sgd":
        return [(p, new(p, g)) for p, g in zip(params, grads)]
    if optimizer == "rmsprop":
        out = []
        for p, g in zip(params, grads):
            ms = state.slot(f"rmsprop.{p.name}", p.get_value())
            new_ms = cast(rho * ms + (1 - rho) * g**2)
            out += [(ms, new_ms), (p, new(p, g / (pt.sqrt(new_ms) + eps)))]
        return out
    t = state.slot("adam.t", np.asarray(0.0, dtype=dtype))
    t_new = t + 1
    out = [(t, t_new)]
    correction = cast(pt.sqrt(1 - beta2**t_new) / (1 - beta1**t_new))
    for p, g in zip(params, grads):
        m, v = state.slot(f"adam.m.{p.name}", p.get_value()), state.slot(f"adam.v.{p.name}", p.get_value())
        m_new, v_new = cast(beta1 * m + (1 - beta1) * g), cast(beta2 * v + (1 - beta2) * g**2)
        out += [(m, m_new), (v, v_new), (p, new(p, correction * m_new / (pt.sqrt(v_new) + eps)))]
    return out
