"""One step of each cell, in PyTensor's standard Ops.

A step takes the input part of the pre-activations (``xw``, B×gH, computed for all time
steps at once, outside any loop: ``x W{l} + b{l}``, or the RNN's column of U), the previous
states and the recurrent matrix, and returns the new states. These graphs are the cells'
maths as written: the scans of `mode: JAX` (portable.py), the exact truncated BPTT of stacked
layers (truncation.py) and one step of generation run them, and the tests hold the
recurrence kernels equal to them.

* rnn:  h' = tanh(xw + h Wᵀ)                 (the tutorial's W s_{t-1}, as rows)
* gru:  z, r = σ(xw_z + h U_z), σ(xw_r + h U_r);  n = tanh(xw_n + (r·h) U_n);  h' = z·h + (1−z)·n
* lstm: i, f, o = σ(·), g = tanh(·) of xw + h U;  c' = f·c + i·g;  h' = o·tanh(c')
"""

from __future__ import annotations

import pytensor.tensor as pt
from pytensor.tensor import sigmoid, tanh


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
    i = sigmoid(g[:, :H])
    f = sigmoid(g[:, H : 2 * H])
    o = sigmoid(g[:, 2 * H : 3 * H])
    c = f * c + i * tanh(g[:, 3 * H :])
    return o * tanh(c), c
