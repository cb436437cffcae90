"""Recurrent cells: their parameters and one step of their recurrence.

* ``rnn``: the tutorial's cell, ``s_t = tanh(U[:, x_t] + W s_{t-1})``; U: H×C, W: H×H.
* ``gru`` / ``lstm``: per layer, input weights ``W{l}`` (in×gH), recurrent ``U{l}`` (H×gH)
  and bias ``b{l}``, the g gates side by side.

A step takes the input part of the pre-activations (``xw``, B×gH: computed for all time
steps at once, outside the scan) and the previous states, and returns the new states.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

from rnnlm.errors import RnnlmError

CELLS = ("rnn", "gru", "lstm")
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
STATES = {"rnn": 1, "gru": 1, "lstm": 2}  # the LSTM carries (h, c)

# Gate nonlinearities, looked up at graph-build time (a test swaps in one with a wrong
# gradient to prove that the gradient-check gate can fail).
sigmoid = pt.sigmoid
tanh = pt.tanh


def check_cell(cell: str, layers: int) -> None:
    if cell not in CELLS:
        raise RnnlmError(f"unknown cell {cell!r} (expected one of {', '.join(CELLS)})")
    if cell == "rnn" and layers != 1:
        raise RnnlmError("the tutorial's rnn has one layer; use gru or lstm to stack layers")


def orthogonal(rng: np.random.Generator, n: int, dtype) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.sign(np.diag(r))).astype(dtype)


def uniform_init(rng: np.random.Generator, dtype):
    """uniform(shape, fan_in): U(±1/sqrt(fan-in)), the tutorial's initialisation."""

    def uniform(shape, fan_in):
        b = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-b, b, shape).astype(dtype)

    return uniform


def input_params(cell: str, vocab_size: int, hidden: int, embedding: int | None, layers: int, uniform, rng):
    """The parameters up to the top layer: the tutorial RNN's U and W; else E and the layers'."""
    C, H = vocab_size, hidden
    if cell == "rnn":
        return {"U": uniform((H, C), C), "W": uniform((H, H), H)}
    return {"E": uniform((C, embedding), embedding)} | recurrent_params(cell, H, embedding, layers, uniform, rng)


def recurrent_params(cell: str, hidden: int, embedding: int, layers: int, uniform, rng=None) -> dict[str, np.ndarray]:
    """The recurrent layers' parameters; `uniform(shape, fan_in)` draws ±1/sqrt(fan_in). With
    `rng`, each gate's recurrent matrix is orthogonal instead (it keeps the state's scale)."""
    g, H = GATES[cell], hidden
    p = {}
    for layer in range(layers):
        fan_in = embedding if layer == 0 else H
        p[f"W{layer}"] = uniform((fan_in, g * H), fan_in)
        p[f"U{layer}"] = uniform((H, g * H), H)
        if rng is not None:
            p[f"U{layer}"] = np.concatenate([orthogonal(rng, H, p[f"U{layer}"].dtype) for _ in range(g)], axis=1)
        b = np.zeros(g * H, dtype=p[f"W{layer}"].dtype)
        if cell == "lstm":
            b[H : 2 * H] = 1.0  # forget gate open at the start
        p[f"b{layer}"] = b
    return p


def step(cell: str, hidden: int, xw, states, U, rmask=None):
    """One step of one layer; `states` and the result are tuples of (B, H) tensors. `rmask`
    (B, H), if given, drops units of the state where it enters the recurrent products
    (variational recurrent dropout); the state carried on is not masked."""
    H = hidden
    h = states[0]
    seen = h if rmask is None else h * rmask
    if cell == "rnn":
        return (tanh(xw + pt.dot(seen, U.T)),)
    if cell == "gru":
        hu = pt.dot(seen, U[:, : 2 * H])
        z = sigmoid(xw[:, :H] + hu[:, :H])
        r = sigmoid(xw[:, H : 2 * H] + hu[:, H:])
        candidate = tanh(xw[:, 2 * H :] + pt.dot(r * seen, U[:, 2 * H :]))
        return (z * h + (1 - z) * candidate,)
    c = states[1]
    g = xw + pt.dot(seen, U)
    i, f, o = sigmoid(g[:, :H]), sigmoid(g[:, H : 2 * H]), sigmoid(g[:, 2 * H : 3 * H])
    c = f * c + i * tanh(g[:, 3 * H :])
    return o * tanh(c), c
