"""Custom PyTensor Ops for the output layer: a fused softmax cross-entropy.

`SoftmaxCrossEntropy` takes logits (N×C), targets (N) and, for training, row weights w (N)
(the mask, divided by the number of targets for a mean objective). It returns each row's
negative log-likelihood and, in training, the weighted loss Σ w·nll with its gradient with
respect to the logits, ``w·(softmax − onehot)``, written over the logits in place. So the
backward pass builds neither a one-hot matrix nor a second N×C temporary, and the softmax's
exponentials are computed once. The gradient is only defined for the weighted loss (the
per-row nll is for reporting).

Implementations: numpy (`perform`: the Python and C backends, FAST_COMPILE) and Numba
(FAST_RUN). In float32 the Numba kernel uses a vectorisable exp (`exp32`: Cody-Waite range
reduction and Cephes' polynomial, ~1 ulp), since Numba has no vector exp without SVML; float64
uses the libm exp, so float64 results equal numpy's to rounding.
"""

from __future__ import annotations

import hashlib
import inspect
import sys

import numba
import numpy as np
import pytensor.tensor as pt
from llvmlite import ir
from numba import types
from numba.extending import intrinsic
from pytensor.compile import optdb
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import WalkingGraphRewriter, node_rewriter
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key


def source_version(module_name: str) -> int:
    """A number that changes with a module's source: the Numba cache key of its kernels."""
    text = inspect.getsource(sys.modules[module_name])
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


class SoftmaxCrossEntropy(Op):
    """(logits, y) -> nll; with_grad: (logits, y, w) -> (nll, Σ w·nll, w·(softmax − onehot))."""

    __props__ = ("with_grad", "inplace")

    def __init__(self, with_grad: bool, inplace: bool = False):
        self.with_grad, self.inplace = with_grad, inplace and with_grad
        if self.inplace:
            self.destroy_map = {2: [0]}  # the gradient overwrites the logits (set by a rewrite)

    def make_node(self, logits, y, w=None):
        logits, y = pt.as_tensor_variable(logits), pt.as_tensor_variable(y)
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


class LogSoftmax(Op):
    """Row-wise log-softmax of a matrix, without gradient (generation and scoring). PyTensor's
    own compiles C code for its inner graph even in the Python VM (seconds, cold): this one
    is numpy in `perform` and a Numba kernel."""

    __props__ = ()

    def make_node(self, z):
        z = pt.as_tensor_variable(z)
        return Apply(self, [z], [z.type()])

    def perform(self, node, inputs, outputs):
        z = inputs[0]
        shifted = z - z.max(axis=1, keepdims=True)
        outputs[0][0] = (shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))).astype(z.dtype)

    def infer_shape(self, node, shapes):
        return shapes


def log_softmax(z):
    return LogSoftmax()(z)


# ---- Numba ------------------------------------------------------------------------------


@intrinsic
def _float32_from_bits(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


# fastmath without nnan/ninf: NaNs propagate (a diverged loss must stay NaN)
FASTMATH = {"arcp", "contract", "afn", "reassoc", "nsz"}


@numba.njit(fastmath=FASTMATH, error_model="numpy", inline="always")
def exp32(x):
    """e**x for float32 x (0 below -87, inf above 88.7, NaN stays NaN): a Cody-Waite reduction
    and Cephes' polynomial, which vectorise, unlike libm's expf."""
    x = np.float32(-87.0) if x < np.float32(-87.0) else x
    x = np.float32(88.8) if x > np.float32(88.8) else x
    n = np.floor(x * np.float32(1.44269504) + np.float32(0.5))
    r = x - n * np.float32(0.693359375) + n * np.float32(2.12194440e-4)
    p = np.float32(1.9875691500e-4)
    p = p * r + np.float32(1.3981999507e-3)
    p = p * r + np.float32(8.3334519073e-3)
    p = p * r + np.float32(4.1665795894e-2)
    p = p * r + np.float32(1.6666665459e-1)
    p = p * r + np.float32(5.0000001201e-1)
    p = p * r * r + r + np.float32(1.0)
    return p * _float32_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))


@numba.njit(fastmath=FASTMATH, error_model="numpy", inline="always")
def exp64(x):
    return np.exp(x)


def _kernels(exp, zero, inplace):
    @numba_basic.numba_njit
    def row_max(row):
        m = row[0]
        for j in range(1, row.shape[0]):
            m = max(m, row[j])
        return m

    @numba_basic.numba_njit
    def nll_only(logits, y):
        nll = np.empty(logits.shape[0], dtype=logits.dtype)
        for i in range(logits.shape[0]):
            row = logits[i]
            m, s = row_max(row), zero
            for j in range(row.shape[0]):
                s += exp(row[j] - m)
            nll[i] = m + np.log(s) - row[y[i]]
        return nll

    @numba_basic.numba_njit
    def with_grad(logits, y, w):
        if not inplace:
            logits = logits.copy()
        nll = np.empty(logits.shape[0], dtype=logits.dtype)
        total = 0.0
        for i in range(logits.shape[0]):
            row, wi = logits[i], w[i]
            m, s, target = row_max(row), zero, row[y[i]]
            for j in range(row.shape[0]):
                e = exp(row[j] - m)
                row[j] = e
                s += e
            nll[i] = m + np.log(s) - target
            total += wi * nll[i]
            scale = wi / s
            for j in range(row.shape[0]):
                row[j] *= scale
            row[y[i]] -= wi
        return nll, np.asarray(total, dtype=logits.dtype), logits

    return nll_only, with_grad


@register_funcify_default_op_cache_key(SoftmaxCrossEntropy)
def _numba_softmax_cross_entropy(op, node, **kwargs):
    f32 = node.inputs[0].dtype == "float32"
    nll_only, with_grad = _kernels(exp32 if f32 else exp64, np.float32(0) if f32 else np.float64(0), op.inplace)
    return (with_grad if op.with_grad else nll_only), source_version(__name__)


@register_funcify_default_op_cache_key(LogSoftmax)
def _numba_log_softmax(op, node, **kwargs):
    f32 = node.inputs[0].dtype == "float32"
    exp, zero = (exp32, np.float32(0)) if f32 else (exp64, np.float64(0))

    @numba_basic.numba_njit
    def log_softmax_rows(z):
        out = np.empty_like(z)
        for i in range(z.shape[0]):
            row = z[i]
            m = row[0]
            for j in range(1, row.shape[0]):
                m = max(m, row[j])
            s = zero
            for j in range(row.shape[0]):
                s += exp(row[j] - m)
            lse = m + np.log(s)
            for j in range(row.shape[0]):
                out[i, j] = row[j] - lse
        return out

    return log_softmax_rows, source_version(__name__)
