"""The tutorial's truncated BPTT, exactly: the loss at step t back-propagates through steps
t, t-1, …, t-k only.

Scan's own ``truncate_gradient`` cuts k steps from the *end* of the sequence instead, so it is
not used. Every state is recomputed from the stop-gradient state k+1 steps earlier, in one
extra scan of k+1 steps over all positions at once; forward values are unchanged.
"""

from __future__ import annotations

import pytensor
import pytensor.tensor as pt
from pytensor.gradient import disconnected_grad

from rnnlm.models.cell_step import step as cell_step
from rnnlm.models.cells import CELLS


def truncated_top(model, states: list[list], X, S):
    """Top-layer outputs (T×B×H) of `model` for ids X from the initial states S, given the full
    forward pass's `states` (per layer, its state sequences), with gradients that follow
    `model.bptt_truncate`."""
    k = model.bptt_truncate
    T, B = X.shape[0], X.shape[1]
    H, n = model.hidden, CELLS[model.cell].states
    # window of output t: steps t-k..t, starting from the (constant) state before t-k, which
    # is the initial state S before step 0
    sequences = [s for layer in states for s in layer]
    starts = [
        pt.concatenate([S[i][None]] * (k + 1) + [disconnected_grad(s)])[:T].reshape((T * B, H))
        for i, s in enumerate(sequences)
    ]
    xw = model.project(0, X)
    padded = pt.concatenate([pt.zeros_like(xw[:1])] * k + [xw])  # (static shapes, for JAX; any T)
    windows = pt.stack([padded[j : j + T] for j in range(k + 1)]).reshape((k + 1, T * B, -1))
    t = pt.arange(T)
    valid = pt.stack([pt.repeat(pt.ge(t + j, k), B) for j in range(k + 1)]).astype(model.dtype)[:, :, None]
    recurrent = [model.recurrent_matrix(layer) for layer in range(model.layers)]
    extra = [model.params[f"{w}{layer}"] for layer in range(1, model.layers) for w in "Wb"]

    def step(xw_j, valid_j, *args):
        flat, rest = args[: n * model.layers], args[n * model.layers :]
        Us, Ws = rest[: model.layers], rest[model.layers :]
        out, inputs = [], xw_j
        for layer in range(model.layers):
            if layer > 0:
                inputs = pt.dot(inputs, Ws[2 * layer - 2]) + Ws[2 * layer - 1]
            previous = flat[n * layer : n * (layer + 1)]
            new = cell_step(model.cell, model.hidden, inputs, previous, Us[layer])
            out += [valid_j * s + (1 - valid_j) * p for s, p in zip(new, previous)]  # before step 0: the start
            inputs = out[n * layer]
        return out

    final = pytensor.scan(
        step,
        sequences=[windows, valid],
        outputs_info=starts,
        non_sequences=recurrent + extra,
        strict=True,
        return_updates=False,
    )
    final = final if isinstance(final, list) else [final]
    return final[-n][-1].reshape((T, B, H))
