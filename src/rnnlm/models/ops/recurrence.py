"""A recurrent layer as one Op: the whole recurrence in a compiled loop.

``Recurrence(cell, truncate)(xw, R, m, h0, c0) -> (h, aux)``: from the initial states h0 (and,
for the LSTM, the cell state c0; B×H each, zeros at a sentence's start), the states

    h_t = cell(xw_t, h_{t-1} · m; R)          t = 0 … T−1,  h_{−1} = h0

of one layer (T×B×H), given its input pre-activations xw (T×B×gH, computed for all steps at
once outside the loop), its recurrent matrix R (rnn: W, H×H; gru/lstm: U, H×gH) and a
recurrent-dropout mask m (B×H, ones without dropout). `aux` holds what the backward pass
needs (and the LSTM's cell states, ``aux[:, :, :H]``); only h may be differentiated. The
final states, h[-1] (and aux[-1, :, :H]), start the next chunk of a sentence too long for one
batch: the initial states are constants, so a gradient stops there (truncated BPTT across
chunks).

Its gradient, `RecurrenceGrad`, is full BPTT or, with ``truncate`` = k ≥ 0, the tutorial's
per-output truncation: the loss at step t sends gradient back through steps t … t−k only,
exactly what `truncation.truncated_top` computes with scans (the tests compare the two), at
the cost of k+1 passes of big products instead of a recomputed window scan.

Compared with a scan of `cell_step.step`, the graph is small (it compiles in seconds) and a
step costs one BLAS product and one pass over its gates. `perform` runs the same Numba
kernels (`_recurrence_kernels.py`), so every PyTensor mode computes the same thing.
"""

from __future__ import annotations

import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from rnnlm.models.cells import CELLS
from rnnlm.models.ops import _recurrence_kernels as kernels
from rnnlm.models.ops._numba import source_version

KERNEL_MODULES = (__name__, kernels.__name__, "rnnlm.models.ops._numba")


class Recurrence(Op):
    __props__ = ("cell", "truncate")

    def __init__(self, cell: str, truncate: int = -1):
        self.cell = cell
        self.truncate = truncate

    def make_node(self, xw, R, m, h0, c0):
        xw, R = pt.as_tensor_variable(xw), pt.as_tensor_variable(R)
        m, h0, c0 = (pt.as_tensor_variable(v).astype(xw.dtype) for v in (m, h0, c0))
        return Apply(self, [xw, R, m, h0, c0], [pt.tensor3(dtype=xw.dtype), pt.tensor3(dtype=xw.dtype)])

    def perform(self, node, inputs, outputs):
        xw, R, m, h0, c0 = inputs
        cell = CELLS[self.cell]
        outputs[0][0], outputs[1][0] = kernels.run_forward(cell.kernel, xw, R, m, cell.saved * m.shape[1], h0, c0)

    def infer_shape(self, node, shapes):
        (T, B, _), _, (_, H), _, _ = shapes
        return [(T, B, H), (T, B, CELLS[self.cell].saved * H)]

    def pullback(self, inputs, outputs, cotangents):
        xw, R, m, h0, c0 = inputs
        g_h, g_aux = cotangents
        if not isinstance(g_aux.type, DisconnectedType):
            raise NotImplementedError("Recurrence: only the states h can be differentiated, not its saved activations")
        if isinstance(g_h.type, DisconnectedType):
            g_h = pt.zeros_like(outputs[0])
        dxw, dR = RecurrenceGrad(self.cell, self.truncate)(R, m, outputs[0], outputs[1], g_h, h0, c0)
        constant = "a chunk's initial states are constants (truncated BPTT across chunks)"
        return [
            dxw,
            dR,
            grad_not_implemented(self, 2, m, "the dropout mask is an input, not a parameter"),
            grad_not_implemented(self, 3, h0, constant),
            grad_not_implemented(self, 4, c0, constant),
        ]


class RecurrenceGrad(Op):
    """(R, m, h, aux, ∂loss/∂h, h0, c0) -> (∂loss/∂xw, ∂loss/∂R), truncated as the forward Op says."""

    __props__ = ("cell", "truncate")

    def __init__(self, cell: str, truncate: int = -1):
        self.cell = cell
        self.truncate = truncate

    def make_node(self, R, m, h, aux, gh, h0, c0):
        R, m, h, aux, gh, h0, c0 = (pt.as_tensor_variable(v) for v in (R, m, h, aux, gh, h0, c0))
        return Apply(self, [R, m, h, aux, gh, h0, c0], [pt.tensor3(dtype=h.dtype), R.type()])

    def perform(self, node, inputs, outputs):
        cell = CELLS[self.cell].kernel
        outputs[0][0], outputs[1][0] = kernels.run_backward(cell, self.truncate, *inputs)

    def infer_shape(self, node, shapes):
        R, _, (T, B, _), _, _, _, _ = shapes
        return [(T, B, R[1]), R]  # R is H×gH (the RNN's W: H×H, g = 1)


def recurrence(cell: str, xw, R, m, h0, c0, truncate: int = -1):
    """(h, aux) of one layer from its initial states: see `Recurrence`."""
    return Recurrence(cell, truncate)(xw, R, m, h0, c0)


@register_funcify_default_op_cache_key(Recurrence)
def _numba_recurrence(op, node, **kwargs):
    cell = CELLS[op.cell].kernel
    saved = CELLS[op.cell].saved
    run = kernels.run_forward

    @numba_basic.numba_njit
    def recurrence_forward(xw, R, m, h0, c0):
        return run(cell, xw, R, m, saved * m.shape[1], h0, c0)

    return recurrence_forward, source_version(*KERNEL_MODULES)


@register_funcify_default_op_cache_key(RecurrenceGrad)
def _numba_recurrence_grad(op, node, **kwargs):
    cell = CELLS[op.cell].kernel
    truncate = op.truncate
    run = kernels.run_backward

    @numba_basic.numba_njit
    def recurrence_backward(R, m, h, aux, gh, h0, c0):
        return run(cell, truncate, R, m, h, aux, gh, h0, c0)

    return recurrence_backward, source_version(*KERNEL_MODULES)
