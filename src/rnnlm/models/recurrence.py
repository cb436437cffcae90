"""A recurrent layer as one PyTensor Op: the whole recurrence in a compiled loop (kernels.py).

``Recurrence(cell, truncate)(xw, R, m) -> (h, aux)``: from zero initial states, the states h
(T×B×H) of one layer given its input pre-activations xw (T×B×gH, computed outside for all
steps at once), its recurrent matrix R (rnn: W, H×H; gru/lstm: U, H×gH) and a recurrent-
dropout mask m (B×H, ones without dropout). `aux` holds what the backward pass needs (and the
LSTM's cell states, ``aux[:, :, :H]``); only h may be differentiated.

Its gradient, `RecurrenceGrad`, is full BPTT, or with ``truncate`` = k ≥ 0 the tutorial's
per-output truncation: the loss at step t sends gradient back through steps t..t-k only,
exactly what `truncation.truncated_top` computes with scans (tests compare the two), at the
cost of k+1 passes of big products instead of a recomputed window scan.

Compared with scans of `cells.step`, the graph is smaller (it compiles in seconds) and a step
costs one BLAS product and one pass over its gates. `perform` runs the same Numba kernels,
so every PyTensor mode computes the same thing.
"""

from __future__ import annotations

import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, grad_not_implemented
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from rnnlm.models import kernels
from rnnlm.models.ops import source_version


class Recurrence(Op):
    __props__ = ("cell", "truncate")

    def __init__(self, cell: str, truncate: int = -1):
        self.cell, self.truncate = cell, truncate

    def make_node(self, xw, R, m):
        xw, R, m = (pt.as_tensor_variable(v) for v in (xw, R, m))
        h = pt.tensor3(dtype=xw.dtype)
        return Apply(self, [xw, R, m.astype(xw.dtype)], [h, pt.tensor3(dtype=xw.dtype)])

    def perform(self, node, inputs, outputs):
        xw, R, m = inputs
        A = kernels.AUX[self.cell] * m.shape[1]
        outputs[0][0], outputs[1][0] = kernels.run_forward(kernels.CELL[self.cell], xw, R, m, A)

    def infer_shape(self, node, shapes):
        (T, B, _), _, (_, H) = shapes
        return [(T, B, H), (T, B, kernels.AUX[self.cell] * H)]

    def pullback(self, inputs, outputs, cotangents):
        xw, R, m = inputs
        g_h, g_aux = cotangents
        if not isinstance(g_aux.type, DisconnectedType):
            raise NotImplementedError("Recurrence: only the states h can be differentiated, not its saved activations")
        if isinstance(g_h.type, DisconnectedType):
            g_h = pt.zeros_like(outputs[0])
        dxw, dR = RecurrenceGrad(self.cell, self.truncate)(R, m, outputs[0], outputs[1], g_h)
        return [dxw, dR, grad_not_implemented(self, 2, m, "the dropout mask is an input, not a parameter")]


class RecurrenceGrad(Op):
    __props__ = ("cell", "truncate")

    def __init__(self, cell: str, truncate: int = -1):
        self.cell, self.truncate = cell, truncate

    def make_node(self, R, m, h, aux, gh):
        R, m, h, aux, gh = (pt.as_tensor_variable(v) for v in (R, m, h, aux, gh))
        return Apply(self, [R, m, h, aux, gh], [pt.tensor3(dtype=h.dtype), R.type()])

    def perform(self, node, inputs, outputs):
        R, m, h, aux, gh = inputs
        outputs[0][0], outputs[1][0] = kernels.run_backward(kernels.CELL[self.cell], self.truncate, R, m, h, aux, gh)

    def infer_shape(self, node, shapes):
        R, _, (T, B, _), _, _ = shapes
        gH = R[0] if self.cell == "rnn" else R[1]
        return [(T, B, gH), R]


def recurrence(cell: str, xw, R, m, truncate: int = -1):
    """(h, aux) of one layer: see `Recurrence`."""
    return Recurrence(cell, truncate)(xw, R, m)


@register_funcify_default_op_cache_key(Recurrence)
def _numba_recurrence(op, node, **kwargs):
    cell, A = kernels.CELL[op.cell], kernels.AUX[op.cell]
    run = kernels.run_forward

    @numba_basic.numba_njit
    def recurrence_forward(xw, R, m):
        return run(cell, xw, R, m, A * m.shape[1])

    return recurrence_forward, source_version(kernels.__name__) ^ source_version(__name__)


@register_funcify_default_op_cache_key(RecurrenceGrad)
def _numba_recurrence_grad(op, node, **kwargs):
    cell, truncate = kernels.CELL[op.cell], op.truncate
    run = kernels.run_backward

    @numba_basic.numba_njit
    def recurrence_backward(R, m, h, aux, gh):
        return run(cell, truncate, R, m, h, aux, gh)

    return recurrence_backward, source_version(kernels.__name__) ^ source_version(__name__)
