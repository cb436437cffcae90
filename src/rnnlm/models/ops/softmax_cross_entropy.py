"""The fused softmax cross-entropy of the output layer.

For logits z (N×C), targets y (N) and, in training, row weights w (N) (the mask, divided by
the number of targets for a mean objective):

    nll_i = logsumexp(z_i) − z_{i,y_i}
    loss  = Σ_i w_i · nll_i
    ∂loss/∂z_i = w_i · (softmax(z_i) − onehot(y_i))

`SoftmaxCrossEntropy(with_grad=True)` returns (nll, loss, ∂loss/∂z), the last written over
the logits in place (set by a rewrite, `inplace=True`): the backward pass builds neither a
one-hot matrix nor a second N×C temporary, and the exponentials are computed once. Its
gradient is defined for the weighted loss only; the per-row nll is for reporting.
`with_grad=False` returns nll alone (evaluation).

`perform` is numpy (the Python VM, the C backend); the Numba kernel runs under FAST_RUN.
"""

from __future__ import annotations

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.compile import optdb
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import WalkingGraphRewriter, node_rewriter
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from rnnlm.models.ops._numba import JIT, logsumexp, softmax_inplace, source_version


class SoftmaxCrossEntropy(Op):
    """(logits, y) -> nll; with_grad: (logits, y, w) -> (nll, Σ w·nll, w·(softmax − onehot))."""

    __props__ = ("with_grad", "inplace")

    def __init__(self, with_grad: bool, inplace: bool = False):
        self.with_grad = with_grad
        self.inplace = inplace and with_grad
        if self.inplace:
            self.destroy_map = {2: [0]}

    def make_node(self, logits, y, w=None):
        logits = pt.as_tensor_variable(logits)
        y = pt.as_tensor_variable(y)
        nll = pt.vector(dtype=logits.dtype)
        if not self.with_grad:
            return Apply(self, [logits, y], [nll])
        w = pt.as_tensor_variable(w).astype(logits.dtype)
        return Apply(self, [logits, y, w], [nll, pt.scalar(dtype=logits.dtype), logits.type()])

    def perform(self, node, inputs, outputs):
        logits, y = inputs[0], inputs[1]
        rows = np.arange(len(y))
        m = logits.max(axis=1, keepdims=True)
        e = np.exp(logits - m)
        s = e.sum(axis=1, keepdims=True)
        nll = (np.log(s) + m)[:, 0] - logits[rows, y]
        outputs[0][0] = nll.astype(logits.dtype)
        if self.with_grad:
            w = inputs[2]
            e *= (w[:, None] / s).astype(logits.dtype)
            e[rows, y] -= w
            if self.inplace:
                logits[...] = e
                e = logits
            outputs[1][0] = np.asarray(np.dot(w, nll), dtype=logits.dtype)
            outputs[2][0] = e

    def infer_shape(self, node, shapes):
        if not self.with_grad:
            return [(shapes[1][0],)]
        return [(shapes[1][0],), (), shapes[0]]

    def pullback(self, inputs, outputs, cotangents):
        if not self.with_grad:
            raise NotImplementedError("SoftmaxCrossEntropy(with_grad=False) is for evaluation: it has no gradient")
        if not isinstance(cotangents[0].type, DisconnectedType) or not isinstance(cotangents[2].type, DisconnectedType):
            raise NotImplementedError("differentiate the weighted loss (output 1), not the per-row nll or the logits")
        g = cotangents[1]
        return [g * outputs[2], disconnected_type(), g * outputs[0]]

    def connection_pattern(self, node):
        if not self.with_grad:
            return [[True], [False]]
        return [[True, True, True], [False, False, False], [False, True, False]]


def softmax_cross_entropy(logits, y):
    """Per-row negative log-likelihood of targets `y` under softmax(`logits`) (no gradient)."""
    return SoftmaxCrossEntropy(False)(logits, y)


def weighted_softmax_cross_entropy(logits, y, w):
    """(nll per row, Σ w·nll): differentiate the second. Consumes `logits` (in place)."""
    nll, loss, _ = SoftmaxCrossEntropy(True)(logits, y, w)
    return nll, loss


@node_rewriter([SoftmaxCrossEntropy], inplace=True)
def _inplace_softmax_cross_entropy(fgraph, node):
    if not node.op.with_grad or node.op.inplace:
        return False
    return SoftmaxCrossEntropy(True, inplace=True).make_node(*node.inputs).outputs


optdb.register(
    "rnnlm_inplace_softmax_cross_entropy",
    WalkingGraphRewriter(_inplace_softmax_cross_entropy, failure_callback=WalkingGraphRewriter.warn_inplace),
    "fast_run",
    "inplace",
    position=50.2,
)


@numba.njit(**JIT)
def nll_rows(logits, y):
    nll = np.empty(logits.shape[0], dtype=logits.dtype)
    for i in range(logits.shape[0]):
        nll[i] = logsumexp(logits[i], 0, logits.shape[1]) - logits[i, y[i]]
    return nll


@numba.njit(**JIT)
def nll_and_gradient(logits, y, w):
    """(nll, Σ w·nll); `logits` become the gradient w·(softmax − onehot)."""
    nll = np.empty(logits.shape[0], dtype=logits.dtype)
    total = 0.0
    for i in range(logits.shape[0]):
        target = logits[i, y[i]]
        nll[i] = softmax_inplace(logits[i], 0, logits.shape[1], w[i]) - target
        total += w[i] * nll[i]
        logits[i, y[i]] -= w[i]
    return nll, np.asarray(total, dtype=logits.dtype)


@register_funcify_default_op_cache_key(SoftmaxCrossEntropy)
def _numba_softmax_cross_entropy(op, node, **kwargs):
    version = source_version(__name__, "rnnlm.models.ops._numba")
    if not op.with_grad:

        @numba_basic.numba_njit
        def softmax_cross_entropy_eval(logits, y):
            return nll_rows(logits, y)

        return softmax_cross_entropy_eval, version
    inplace = op.inplace

    @numba_basic.numba_njit
    def softmax_cross_entropy_train(logits, y, w):
        if not inplace:
            logits = logits.copy()
        nll, total = nll_and_gradient(logits, y, w)
        return nll, total, logits

    return softmax_cross_entropy_train, version
