"""The recurrent cells, in one table, and their parameters.

Every fact about a cell that code elsewhere needs is a field of its `Cell` entry: the
config schema's `cell` choices (`rnnlm.config`), the layout of the weight matrices, the
states a model carries, and the kernel that runs its recurrence (`ops/_recurrence_kernels.py`).
Its maths, one step at a time in PyTensor's standard Ops, is `cell_step.step`.

* ``rnn``: the tutorial's cell, ``s_t = tanh(U[:, x_t] + W s_{t-1})``; U: H×C, W: H×H, no
  biases, no embedding, one layer.
* ``gru`` / ``lstm``: an embedding E (C×E) and, per layer l, input weights ``W{l}``
  (in×gH), recurrent weights ``U{l}`` (H×gH) and a bias ``b{l}`` (gH), the g gates side by
  side: GRU (z, r, candidate); LSTM (i, f, o, g).

No PyTensor here: the config reads this table before any job runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# kernel ids: compile-time constants of the Numba recurrence kernels
RNN, GRU, LSTM = 0, 1, 2


@dataclass(frozen=True)
class Cell:
    name: str
    kernel: int  # its id in the recurrence kernels
    gates: int  # gate blocks side by side in W{l}, U{l}, b{l}
    states: int  # states carried from step to step: h, or (h, c)
    saved: int  # activations the kernels keep per step for the backward pass, in units of H
    gated: bool  # an embedding and stacked layers W{l}, U{l}, b{l}; else the tutorial's U, W


CELLS = {
    cell.name: cell
    for cell in (
        Cell("rnn", RNN, gates=1, states=1, saved=0, gated=False),
        Cell("gru", GRU, gates=3, states=1, saved=3, gated=True),  # saved: z, r, candidate
        Cell("lstm", LSTM, gates=4, states=2, saved=6, gated=True),  # saved: c, i, f, o, g, tanh c
    )
}


def parameter_shapes(cell: str, vocab_size: int, hidden: int, embedding: int, layers: int) -> dict[str, tuple]:
    """Name -> (shape, fan-in) of the parameters below the output layer."""
    C, H = vocab_size, hidden
    if not CELLS[cell].gated:
        return {"U": ((H, C), C), "W": ((H, H), H)}
    gH = CELLS[cell].gates * H
    shapes = {"E": ((C, embedding), embedding)}
    for layer in range(layers):
        fan_in = embedding if layer == 0 else H
        shapes[f"W{layer}"] = ((fan_in, gH), fan_in)
        shapes[f"U{layer}"] = ((H, gH), H)
        shapes[f"b{layer}"] = ((gH,), None)
    return shapes


def orthogonal(rng: np.random.Generator, n: int, dtype) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return (q * np.sign(np.diag(r))).astype(dtype)


def uniform_init(rng: np.random.Generator, dtype):
    """uniform(shape, fan_in): U(±1/sqrt(fan-in)), the tutorial's initialisation."""

    def uniform(shape, fan_in):
        bound = 1.0 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(dtype)

    return uniform


def initial_params(
    cell: str, vocab_size: int, hidden: int, embedding: int, layers: int, rng: np.random.Generator, dtype
) -> dict[str, np.ndarray]:
    """The parameters below the output layer: weights U(±1/sqrt(fan-in)), as the tutorial; a
    gated cell's recurrent matrices orthogonal per gate (they keep the state's scale), its
    biases zero but the LSTM's forget gate, open (1) at the start."""
    uniform = uniform_init(rng, dtype)
    params = {}
    for name, (shape, fan_in) in parameter_shapes(cell, vocab_size, hidden, embedding, layers).items():
        if name.startswith("b"):
            params[name] = np.zeros(shape, dtype=dtype)
            if cell == "lstm":
                params[name][hidden : 2 * hidden] = 1.0
        else:
            params[name] = uniform(shape, fan_in)
            if name.startswith("U") and CELLS[cell].gated:
                gates = [orthogonal(rng, hidden, dtype) for _ in range(CELLS[cell].gates)]
                params[name] = np.concatenate(gates, axis=1)
    return params
