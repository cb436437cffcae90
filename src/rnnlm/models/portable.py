"""The model's graph in PyTensor's standard Ops only, for backends that cannot run our
custom Ops (their kernels are Numba): JAX, which runs on GPUs (``mode: JAX``).

* the recurrence is a scan of `cell_step.step` (`Recurrence` is one Numba Op);
* the output loss is a log-softmax and a one-hot selection (XLA fuses the select and the
  sum, so no C-wide one-hot is materialised), differentiated by PyTensor;
* inputs have static shapes (T, B), so that scan lengths and ``arange``s are constants, as
  JAX needs: a function is compiled per input shape (`PerShape`), and a JAX model's batches
  are padded to a few fixed shapes (`batching.pad` with `fixed_batch`).
Same parameters, same losses, same gradients as the default graph (tests/test_jax.py).
"""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.tensor.special import log_softmax

from rnnlm.models.cell_step import step as cell_step
from rnnlm.models.cells import CELLS

PORTABLE_MODES = ("JAX",)


def is_portable(mode_name: str | None) -> bool:
    return mode_name in PORTABLE_MODES


def scan_layer(cell: str, hidden: int, xw, R, initial: list, rmask=None) -> list:
    """One layer's state sequences (T×B×H each) from its `initial` states, as a scan."""
    n = CELLS[cell].states

    def step(x_t, *args):
        states, rest = list(args[:n]), args[n:]
        return list(cell_step(cell, hidden, x_t, states, rest[0], rest[1] if rmask is not None else None))

    out = pytensor.scan(
        step,
        sequences=[xw],
        outputs_info=list(initial),
        non_sequences=[R] + ([rmask] if rmask is not None else []),
        strict=True,
        return_updates=False,
    )
    return out if isinstance(out, list) else [out]


def nll(logits, y, vocab_size: int):
    """Per-row negative log-likelihood of targets y under softmax(logits): the log-softmax
    picked by a one-hot mask (an arange of the constant vocabulary size: fine in JAX)."""
    one_hot = pt.eq(y[:, None], pt.arange(vocab_size)[None, :])
    return -pt.sum(pt.switch(one_hot, log_softmax(logits, axis=1), 0), axis=1)


def weighted_nll(logits, y, w, vocab_size: int):
    """(nll per row, Σ w·nll): differentiate the second."""
    rows = nll(logits, y, vocab_size)
    return rows, pt.sum(w * rows)


class PerShape:
    """A compiled function per input shape: `build((T, B))` on the first call with X of that
    shape. Batches padded to a few shapes (`batching.pad` with `fixed_batch`) keep the compiles few."""

    def __init__(self, build):
        self.build, self.compiled = build, {}

    def __call__(self, X, *rest):
        shape = tuple(np.shape(X))
        if shape not in self.compiled:
            self.compiled[shape] = self.build(shape)
        return self.compiled[shape](X, *rest)
