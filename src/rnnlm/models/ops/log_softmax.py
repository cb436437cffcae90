"""Log-softmax within segments of each row, without gradient (generation and scoring).

For z (B×C) and segment boundaries b_0 = 0 < b_1 < … < b_K = C:

    out[i, j] = z[i, j] − logsumexp(z[i, b_k : b_{k+1}])   for b_k ≤ j < b_{k+1}

One segment [0, C] is the ordinary log-softmax of the full output layer; the class-factored
output uses one segment per class (the word's log-probability within its class). PyTensor's
own log-softmax compiles C code for its inner graph even in the Python VM (seconds, cold);
`perform` here is numpy, so a first `rnnlm generate` compiles nothing.
"""

from __future__ import annotations

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from rnnlm.models.ops._numba import JIT, logsumexp, source_version


class LogSoftmax(Op):
    """(z B×C, bounds K+1) -> the log-softmax of z within each segment."""

    __props__ = ()

    def make_node(self, z, bounds):
        z = pt.as_tensor_variable(z)
        bounds = pt.as_tensor_variable(bounds)
        return Apply(self, [z, bounds], [z.type()])

    def perform(self, node, inputs, outputs):
        z, bounds = inputs
        out = np.empty_like(z)
        for lo, hi in zip(bounds[:-1], bounds[1:]):
            part = z[:, lo:hi] - z[:, lo:hi].max(axis=1, keepdims=True)
            out[:, lo:hi] = part - np.log(np.exp(part).sum(axis=1, keepdims=True))
        outputs[0][0] = out

    def infer_shape(self, node, shapes):
        return [shapes[0]]


def log_softmax(z, bounds):
    """The log-softmax of each row of `z` within the segments `bounds`: an int32 variable (a
    shared one keeps the values out of the compiled graph's cache key) or a list, made a constant."""
    if not isinstance(bounds, pt.TensorVariable):
        bounds = pt.constant(np.asarray(bounds, dtype=np.int32))
    return LogSoftmax()(z, bounds)


@numba.njit(**JIT)
def log_softmax_segments(z, bounds):
    out = np.empty_like(z)
    for i in range(z.shape[0]):
        row = z[i]
        for k in range(bounds.shape[0] - 1):
            lo, hi = bounds[k], bounds[k + 1]
            lse = logsumexp(row, lo, hi)
            for j in range(lo, hi):
                out[i, j] = row[j] - lse
    return out


@register_funcify_default_op_cache_key(LogSoftmax)
def _numba_log_softmax(op, node, **kwargs):
    @numba_basic.numba_njit
    def log_softmax_rows(z, bounds):
        return log_softmax_segments(z, bounds)

    return log_softmax_rows, source_version(__name__, "rnnlm.models.ops._numba")
