"""The within-class word term of the class-factored softmax (`rnnlm.models.classes`).

Classes are contiguous id ranges: class k holds ids ``bounds[k] … bounds[k+1]−1`` and
``class_of[id]`` is its class. For a row with state h and target y of class k:

    nll_word = logsumexp_{j in k}(V_j·h + c_j) − (V_y·h + c_y)

`ClassWordNLL` computes it (and, for training, Σ w·nll_word) touching only the rows of V in
the target's class: O(|class|·H) per target instead of O(C·H). Its gradient,
`ClassWordNLLGrad`, recomputes the class's logits z and returns dense ∂/∂h, ∂/∂V, ∂/∂c whose
nonzero rows are the classes seen:

    ∂/∂z_j = g·w · (softmax_k(z)_j − [j = y]),   ∂h = Σ_j ∂z_j V_j,   ∂V_j = ∂z_j h,   ∂c_j = ∂z_j

`perform` runs the same Numba kernels, so every PyTensor mode computes the same thing.
"""

from __future__ import annotations

import numba
import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import DisconnectedType, disconnected_type
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.link.numba.dispatch import basic as numba_basic
from pytensor.link.numba.dispatch.basic import register_funcify_default_op_cache_key

from rnnlm.models.ops._numba import JIT, exp, logsumexp, source_version

KERNEL_MODULES = (__name__, "rnnlm.models.ops._numba")


@numba.njit(**JIT)
def class_logits(h, V, c, lo, hi, z):
    """z[:hi-lo] = V[lo:hi]·h + c[lo:hi]."""
    for j in range(lo, hi):
        v, acc = V[j], c[j]
        for d in range(h.shape[0]):
            acc += h[d] * v[d]
        z[j - lo] = acc


@numba.njit(**JIT)
def word_forward(h, V, c, y, class_of, bounds, w, skip_unweighted):
    """(nll_word per row, Σ w·nll_word); with `skip_unweighted`, rows of weight 0 get 0."""
    N = h.shape[0]
    nll = np.zeros(N, dtype=h.dtype)
    z = np.empty(np.max(bounds[1:] - bounds[:-1]), dtype=h.dtype)
    total = 0.0
    for i in range(N):
        if skip_unweighted and w[i] == 0:
            continue
        k = class_of[y[i]]
        lo, hi = bounds[k], bounds[k + 1]
        class_logits(h[i], V, c, lo, hi, z)
        nll[i] = logsumexp(z, 0, hi - lo) - z[y[i] - lo]
        total += w[i] * nll[i]
    return nll, np.asarray(total, dtype=h.dtype)


@numba.njit(**JIT)
def word_backward(h, V, c, y, class_of, bounds, w, g):
    """∂(g · Σ w·nll_word) / ∂(h, V, c)."""
    dh, dV, dc = np.zeros_like(h), np.zeros_like(V), np.zeros_like(c)
    z = np.empty(np.max(bounds[1:] - bounds[:-1]), dtype=h.dtype)
    for i in range(h.shape[0]):
        if w[i] == 0:
            continue
        k = class_of[y[i]]
        lo, hi = bounds[k], bounds[k + 1]
        h_row, dh_row = h[i], dh[i]
        class_logits(h_row, V, c, lo, hi, z)
        lse = logsumexp(z, 0, hi - lo)
        scale = g * w[i]
        for j in range(lo, hi):
            dz = scale * (exp(z[j - lo] - lse) - (j == y[i]))
            v, dv = V[j], dV[j]
            for d in range(h.shape[1]):
                dh_row[d] += dz * v[d]
                dv[d] += dz * h_row[d]
            dc[j] += dz
    return dh, dV, dc


class ClassWordNLL(Op):
    """(h, V, c, y, class_of, bounds) -> nll_word; with_grad: (…, w) -> (nll_word, Σ w·nll_word)."""

    __props__ = ("with_grad",)

    def __init__(self, with_grad: bool):
        self.with_grad = with_grad

    def make_node(self, h, V, c, y, class_of, bounds, w=None):
        inputs = [pt.as_tensor_variable(v) for v in (h, V, c, y, class_of, bounds)]
        outputs = [pt.vector(dtype=inputs[0].dtype)]
        if self.with_grad:
            inputs.append(pt.as_tensor_variable(w).astype(inputs[0].dtype))
            outputs.append(pt.scalar(dtype=inputs[0].dtype))
        return Apply(self, inputs, outputs)

    def perform(self, node, inputs, outputs):
        h, V, c, y, class_of, bounds = inputs[:6]
        w = inputs[6] if self.with_grad else np.ones(len(y), dtype=h.dtype)
        nll, total = word_forward(h, V, c, y, class_of, bounds, w, self.with_grad)
        outputs[0][0] = nll
        if self.with_grad:
            outputs[1][0] = total

    def infer_shape(self, node, shapes):
        return [(shapes[3][0],), ()] if self.with_grad else [(shapes[3][0],)]

    def connection_pattern(self, node):
        if not self.with_grad:
            return [[True]] * 3 + [[False]] * 3
        return [[True, True]] * 3 + [[False, False]] * 3 + [[False, True]]

    def pullback(self, inputs, outputs, cotangents):
        if not self.with_grad or not isinstance(cotangents[0].type, DisconnectedType):
            raise NotImplementedError("differentiate the weighted loss (output 1) of ClassWordNLL(with_grad=True)")
        g = cotangents[1]
        dh, dV, dc = ClassWordNLLGrad()(*inputs, g)
        return [dh, dV, dc, disconnected_type(), disconnected_type(), disconnected_type(), g * outputs[0]]


class ClassWordNLLGrad(Op):
    __props__ = ()

    def make_node(self, h, V, c, y, class_of, bounds, w, g):
        inputs = [pt.as_tensor_variable(v) for v in (h, V, c, y, class_of, bounds, w, g)]
        return Apply(self, inputs, [inputs[0].type(), inputs[1].type(), inputs[2].type()])

    def perform(self, node, inputs, outputs):
        g = np.asarray(inputs[7]).astype(inputs[0].dtype)[()]
        for out, value in zip(outputs, word_backward(*inputs[:7], g)):
            out[0] = value

    def infer_shape(self, node, shapes):
        return shapes[:3]


@register_funcify_default_op_cache_key(ClassWordNLL)
def _numba_class_word_nll(op, node, **kwargs):
    if op.with_grad:

        @numba_basic.numba_njit
        def class_word_nll(h, V, c, y, class_of, bounds, w):
            return word_forward(h, V, c, y, class_of, bounds, w, True)

        return class_word_nll, source_version(*KERNEL_MODULES)

    @numba_basic.numba_njit
    def class_word_nll_eval(h, V, c, y, class_of, bounds):
        return word_forward(h, V, c, y, class_of, bounds, np.ones(y.shape[0], dtype=h.dtype), False)[0]

    return class_word_nll_eval, source_version(*KERNEL_MODULES)


@register_funcify_default_op_cache_key(ClassWordNLLGrad)
def _numba_class_word_nll_grad(op, node, **kwargs):
    @numba_basic.numba_njit
    def class_word_nll_grad(h, V, c, y, class_of, bounds, w, g):
        return word_backward(h, V, c, y, class_of, bounds, w, g.item())

    return class_word_nll_grad, source_version(*KERNEL_MODULES)
