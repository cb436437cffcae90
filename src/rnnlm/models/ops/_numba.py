"""What every Numba kernel of our Ops shares: compile flags, fast float32 math, log-sum-exp.

* `JIT`: the flags of every kernel. Fastmath without ``nnan``/``ninf``, so that NaNs
  propagate (a diverged loss must stay NaN); the numpy error model (no exceptions from
  division); cached on disk (`rnnlm.models.environment` puts the cache beside PyTensor's).
* ``exp``, ``sigmoid``, ``tanh``: numpy's functions in Python; inside a kernel, for float32,
  branch-free versions built on `exp32` (a Cody-Waite range reduction and Cephes'
  polynomial, ~1 ulp) that LLVM can vectorise, unlike libm's scalar ``expf``. float64 uses
  libm, so float64 results equal numpy's to rounding (the gradient-check gate runs there).
* ``logsumexp(row, lo, hi)``: log Σ_{j in [lo, hi)} exp(row[j]), computed from the maximum,
  the one form of it that every softmax kernel uses; `softmax_inplace` the same pass, keeping
  the normalised exponentials (a gradient's softmax).
* `source_version`: a number that changes with a module's source, the cache key of the
  kernels PyTensor compiles from it.
* `plain_slice_assignment_errors`: run at import, before anything compiles here.
"""

from __future__ import annotations

import hashlib
import inspect
import sys

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.core.typing.templates import builtin_registry
from numba.extending import intrinsic, overload
from numba.np import arrayobj

FASTMATH = {"arcp", "contract", "afn", "reassoc", "nsz"}
JIT = {"fastmath": FASTMATH, "error_model": "numpy", "cache": True}
INLINE = {"fastmath": FASTMATH, "error_model": "numpy", "inline": "always"}
f32 = np.float32


def plain_slice_assignment_errors() -> bool:
    """Numba's CPU target compiles, into every function that assigns an array to a slice, an
    error path that formats both shapes into its message (f-strings, str() and join of
    tuples): measured 5–12 s of a cold train-graph compile of ~50 s (our recurrence's
    backward kernel and PyTensor's Alloc each hold one). Numba's generic target raises the
    same ValueError without the shapes; use it on the CPU too. Returns whether it applied
    (a Numba without that hook compiles as before)."""
    hook = getattr(arrayobj, "raise_with_shape_context", None)
    plain = getattr(arrayobj, "ol_raise_with_shape_context_generic", None)
    if hook is None or plain is None:
        return False
    applied = False
    for function, typ in builtin_registry.globals:
        if function is hook:
            for template in getattr(typ, "templates", ()):
                if getattr(template, "metadata", {}).get("target") == "CPU":
                    template._overload_func = plain
                    applied = True
    return applied


PLAIN_SLICE_ERRORS = plain_slice_assignment_errors()


def source_version(*module_names: str) -> int:
    """A number that changes with the modules' source: the Numba cache key of their kernels."""
    text = "".join(inspect.getsource(sys.modules[name]) for name in module_names)
    return int(hashlib.sha256(text.encode()).hexdigest()[:12], 16)


@intrinsic
def _float32_from_bits(typingctx, bits):
    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.FloatType())

    return types.float32(types.int32), codegen


@numba.njit(**INLINE)
def exp32(x):
    """e**x for float32 x (0 below -87, inf above 88.7, NaN stays NaN)."""
    x = f32(-87.0) if x < f32(-87.0) else x
    x = f32(88.8) if x > f32(88.8) else x
    n = np.floor(x * f32(1.44269504) + f32(0.5))
    r = x - n * f32(0.693359375) + n * f32(2.12194440e-4)
    p = f32(1.9875691500e-4)
    p = p * r + f32(1.3981999507e-3)
    p = p * r + f32(8.3334519073e-3)
    p = p * r + f32(4.1665795894e-2)
    p = p * r + f32(1.6666665459e-1)
    p = p * r + f32(5.0000001201e-1)
    p = p * r * r + r + f32(1.0)
    return p * _float32_from_bits((np.int32(n) + np.int32(127)) << np.int32(23))


@numba.njit(**INLINE)
def sigmoid32(x):
    return f32(1.0) / (f32(1.0) + exp32(-x))


@numba.njit(**INLINE)
def tanh32(x):
    """tanh for float32: Cephes' odd polynomial below 0.625, (1 - e^-2|x|) / (1 + e^-2|x|) above."""
    a = -x if x < f32(0.0) else x
    z = x * x
    small = (
        (((f32(-5.70498872745e-3) * z + f32(2.06390887954e-2)) * z - f32(5.37397155531e-2)) * z + f32(1.33314422036e-1))
        * z
        - f32(3.33332819422e-1)
    ) * z * x + x
    e = exp32(f32(-2.0) * (f32(20.0) if a > f32(20.0) else a))
    big = (f32(1.0) - e) / (f32(1.0) + e)
    big = -big if x < f32(0.0) else big
    return big if a >= f32(0.625) else small


def exp(x):
    return np.exp(x)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def tanh(x):
    return np.tanh(x)


@overload(exp, jit_options=INLINE)
def _exp(x):
    if x == types.float32:
        return lambda x: exp32(x)
    return lambda x: np.exp(x)


@overload(sigmoid, jit_options=INLINE)
def _sigmoid(x):
    if x == types.float32:
        return lambda x: sigmoid32(x)
    return lambda x: 1.0 / (1.0 + np.exp(-x))


@overload(tanh, jit_options=INLINE)
def _tanh(x):
    if x == types.float32:
        return lambda x: tanh32(x)
    return lambda x: np.tanh(x)


@numba.njit(**INLINE)
def logsumexp(row, lo, hi):
    """log Σ exp(row[lo:hi]) for a non-empty range, from its maximum (no overflow)."""
    m = row[lo]
    for j in range(lo + 1, hi):
        m = max(m, row[j])
    s = np.zeros(1, dtype=row.dtype)[0]
    for j in range(lo, hi):
        s += exp(row[j] - m)
    return m + np.log(s)


@numba.njit(**INLINE)
def softmax_inplace(row, lo, hi, weight):
    """row[lo:hi] becomes `weight` times its softmax (exponentials computed once); returns the
    log-sum-exp."""
    m = row[lo]
    for j in range(lo + 1, hi):
        m = max(m, row[j])
    s = np.zeros(1, dtype=row.dtype)[0]
    for j in range(lo, hi):
        e = exp(row[j] - m)
        row[j] = e
        s += e
    scale = weight / s
    for j in range(lo, hi):
        row[j] *= scale
    return m + np.log(s)
