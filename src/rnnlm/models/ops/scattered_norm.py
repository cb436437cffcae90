"""The squared norm of a lookup table's gradient, from the looked-up rows alone.

A table lookup ``table[ids]`` has the gradient ``G = inc_subtensor(zeros, rows, ids)``: the
rows summed where an id repeats. `ScatteredSquaredNorm` returns

    ‖G‖² = Σ_{distinct id} ‖Σ_{n: ids_n = id} rows_n‖²

without building the dense C×H matrix (sparse SGD's share of the clipping norm: `sparse.py`).
"""

from __future__ import annotations

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from rnnlm.models.ops._numba import JIT, source_version


@numba.njit(**JIT)
def scattered_squared_norm(rows, ids):
    order = np.argsort(ids)
    total, acc = 0.0, np.zeros(rows.shape[1])
    for n in range(len(order)):
        acc += rows[order[n]]
        if n + 1 == len(order) or ids[order[n + 1]] != ids[order[n]]:
            total += np.sum(acc * acc)
            acc[:] = 0.0
    return total


class ScatteredSquaredNorm(Op):
    """(rows N×H, ids N) -> ‖inc_subtensor(zeros, rows, ids)‖², without the dense matrix."""

    __props__ = ()

    def make_node(self, rows, ids):
        rows = pt.as_tensor_variable(rows)
        ids = pt.as_tensor_variable(ids)
        return Apply(self, [rows, ids], [pt.scalar(dtype=rows.dtype)])

    def perform(self, node, inputs, outputs):
        rows, ids = inputs
        outputs[0][0] = np.asarray(scattered_squared_norm(np.ascontiguousarray(rows), ids), dtype=rows.dtype)

    def infer_shape(self, node, shapes):
        return [()]


@register_funcify_default_op_cache_key(ScatteredSquaredNorm)
def _numba_scattered_squared_norm(op, node, **kwargs):
    dtype = np.dtype(node.outputs[0].dtype)

    @numba_basic.numba_njit
    def scattered_norm(rows, ids):
        return np.asarray(scattered_squared_norm(np.ascontiguousarray(rows), ids), dtype=dtype)

    return scattered_norm, source_version(__name__, "rnnlm.models.ops._numba")
