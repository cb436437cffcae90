"""The gradient norm and the updates of a train step, with sparse SGD on lookup tables.

A lookup table (the RNN's U, read by columns; an embedding E, read by rows) gets a gradient
only in the entries the batch looked up, but PyTensor's gradient is the dense C×H matrix
``inc_subtensor(zeros, rows, ids)``: zeroed, scattered into, read and subtracted from the
table, every step. For plain SGD without weight decay, `step_updates` instead adds −lr·rows
to the looked-up entries in place, and takes the table's share of the gradient norm from the
rows themselves (`ScatteredSquaredNorm`: duplicates summed first, so the norm is the dense
gradient's). Other optimizers keep the dense gradient (their moments decay everywhere). A
tied embedding, which also gets the output layer's dense gradient, stays dense by itself.
"""

from __future__ import annotations

import pytensor.tensor as pt
from pytensor.tensor.elemwise import DimShuffle
from pytensor.tensor.exceptions import NotScalarConstantError
from pytensor.tensor.subtensor import AdvancedIncSubtensor

from rnnlm.models.ops.scattered_norm import ScatteredSquaredNorm
from rnnlm.models.optim import updates


def scattered_rows(grad):
    """(rows, ids, transposed) when `grad` is [the transpose of] inc_subtensor(zeros, rows, ids),
    the gradient of a table lookup ``table[ids]`` (``table.T[ids]`` when transposed), else None."""
    node, transposed = grad.owner, False
    if node is not None and isinstance(node.op, DimShuffle) and node.op.new_order == (1, 0):
        node, transposed = node.inputs[0].owner, True
    if node is None or not isinstance(node.op, AdvancedIncSubtensor) or node.op.set_instead_of_inc:
        return None
    base, rows, *idx = node.inputs
    try:
        zeros = pt.get_underlying_scalar_constant_value(base) == 0
    except NotScalarConstantError:
        zeros = False
    if not zeros or len(idx) != 1 or idx[0].dtype not in ("int32", "int64"):
        return None
    return rows, idx[0], transposed


def step_updates(state, optimizer: str, params: list, grads: list, lr, clip_norm, dtype: str, sparse=True, **options):
    """(gradient norm, (shared variable, new value) pairs) of one step: norm clipping to
    `clip_norm` (None: none), then `optim.updates` (or, with `sparse`, the sparse SGD of lookup
    tables: see the module's doc)."""
    use_sparse, sparse = sparse, {}
    if use_sparse and optimizer == "sgd" and options.get("weight_decay") is None:
        sparse = {i: s for i, g in enumerate(grads) if (s := scattered_rows(g)) is not None}
    squares = []
    for i, g in enumerate(grads):
        if i in sparse:
            rows, ids, _ = sparse[i]
            squares.append(ScatteredSquaredNorm()(rows.reshape((-1, rows.shape[-1])), ids.flatten()))
        else:
            squares.append(pt.sum(g**2))
    norm = pt.sqrt(sum(squares))
    scale = None if clip_norm is None else pt.minimum(1.0, clip_norm / (norm + 1e-12)).astype(dtype)
    dense = [i for i in range(len(params)) if i not in sparse]
    steps = updates(
        state,
        optimizer,
        [params[i] for i in dense],
        [grads[i] if scale is None else grads[i] * scale for i in dense],
        lr,
        **options,
    )
    for i, (rows, ids, transposed) in sparse.items():
        table = params[i].T if transposed else params[i]
        delta = -lr * (rows if scale is None else rows * scale)
        new = pt.inc_subtensor(table[ids], delta.astype(dtype))
        steps.append((params[i], new.T if transposed else new))
    return norm, steps
