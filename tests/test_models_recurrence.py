"""The custom Ops against the PyTensor graphs they replace: the Recurrence Op against scans of
`cell_step.step` (and the scan windows of the exact truncation), the fused softmax cross-entropy
against log_softmax; float64 to rounding, and the Numba kernels (float32) against float64."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlm.models.cell_step import step as cell_step
from rnnlm.models.cells import CELLS
from rnnlm.models.compiled import TrainStep
from rnnlm.models.dropout import Masks
from rnnlm.models.lm import RecurrentLM
from rnnlm.models.ops.recurrence import recurrence
from rnnlm.models.ops.scattered_norm import ScatteredSquaredNorm
from rnnlm.models.ops.softmax_cross_entropy import softmax_cross_entropy, weighted_softmax_cross_entropy
from rnnlm.models.truncation import truncated_top

CASES = [
    ("rnn", -1, False),
    ("rnn", 2, False),
    ("rnn", -1, True),
    ("gru", -1, True),
    ("gru", 3, False),
    ("lstm", -1, True),
    ("lstm", 2, False),
]


def scan_reference(model, X, rmask, k, S):
    """The top states from the initial states S by scans of `cell_step.step` (and, truncated,
    by the scan windows)."""
    n = CELLS[model.cell].states

    def step(xw_t, *args):
        return cell_step(model.cell, model.hidden, xw_t, args[:n], args[n], *args[n + 1 :])

    fixed = [model.recurrent_matrix(0)] + ([] if rmask is None else [rmask])
    out = pytensor.scan(
        step,
        sequences=[model.project(0, X)],
        outputs_info=[S[i] for i in range(n)],
        non_sequences=fixed,
        strict=True,
        return_updates=False,
    )
    states = [list(out) if n > 1 else [out]]
    return states[0][0] if k < 0 else truncated_top(model, states, X, S)


def states_and_grads(cell, k, use_mask, dtype, mode, reference):
    rng = np.random.default_rng(0)
    model = RecurrentLM.from_spec(
        dict(cell=cell, hidden=6, embedding=5, bptt_truncate=k, dtype=dtype, seed=1), 11, mode=mode
    )
    X, rmask, S = pt.imatrix("X"), pt.matrix("m", dtype=dtype), pt.tensor3("S", dtype=dtype)
    if reference:
        top = scan_reference(model, X, rmask if use_mask else None, k, S)
    else:
        c0 = S[1] if cell == "lstm" else S[0]
        top = recurrence(cell, model.project(0, X), model.recurrent_matrix(0), rmask, S[0], c0, k)[0]
    G = rng.standard_normal((7, 3, 6))
    grads = pytensor.grad(pt.sum(top * G.astype(dtype)), list(model.params.values()), disconnected_inputs="ignore")
    f = pytensor.function([X, rmask, S], [top, *grads], mode=mode, on_unused_input="ignore")
    mask = (rng.random((3, 6)) > 0.3) / 0.7 if use_mask else np.ones((3, 6))
    initial = rng.uniform(-0.8, 0.8, (CELLS[cell].states, 3, 6))  # a later chunk's start, not zeros
    return f(rng.integers(0, 11, (7, 3)).astype(np.int32), mask.astype(dtype), initial.astype(dtype))


@pytest.mark.parametrize("cell, k, use_mask", CASES)
def test_recurrence_op_equals_the_scan_graph(cell, k, use_mask):
    ours = states_and_grads(cell, k, use_mask, "float64", "FAST_COMPILE", reference=False)
    scans = states_and_grads(cell, k, use_mask, "float64", "FAST_COMPILE", reference=True)
    assert len(ours) == len(scans) and np.abs(ours[0]).max() > 0.1
    for a, b in zip(ours, scans):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("cell, k, use_mask", [c for c in CASES if c[2] or c[1] >= 0])
def test_numba_float32_kernels_follow_float64(cell, k, use_mask):
    """FAST_RUN: the Numba kernels with the vectorised float32 tanh, sigmoid and exp."""
    fast = states_and_grads(cell, k, use_mask, "float32", "FAST_RUN", reference=False)
    exact = states_and_grads(cell, k, use_mask, "float64", "FAST_COMPILE", reference=False)
    for a, b in zip(fast, exact):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=2e-6 * np.abs(b).max())


@pytest.mark.parametrize("dtype, mode", [("float64", "FAST_COMPILE"), ("float64", "FAST_RUN"), ("float32", "FAST_RUN")])
def test_fused_softmax_cross_entropy_equals_log_softmax(dtype, mode):
    rng = np.random.default_rng(3)
    h, V, y, w = pt.matrix("h", dtype=dtype), pt.matrix("V", dtype=dtype), pt.ivector("y"), pt.vector("w", dtype=dtype)
    nll, loss = weighted_softmax_cross_entropy(pt.dot(h, V.T), y, w)
    logp = pt.special.log_softmax(pt.dot(h, V.T), axis=-1)
    ref_nll = -logp[pt.arange(y.shape[0]), y]
    ref_loss = pt.sum(w * ref_nll)
    ours = pytensor.function(
        [h, V, y, w], [nll, softmax_cross_entropy(pt.dot(h, V.T), y), loss, *pytensor.grad(loss, [h, V])], mode=mode
    )
    ref = pytensor.function(
        [h, V, y, w], [ref_nll, ref_nll, ref_loss, *pytensor.grad(ref_loss, [h, V])], mode="FAST_COMPILE"
    )
    args = [
        rng.standard_normal((40, 9)).astype(dtype) * 3,
        rng.standard_normal((300, 9)).astype(dtype),
        rng.integers(0, 300, 40).astype(np.int32),
        (rng.random(40) > 0.2).astype(dtype) / 7,
    ]
    rtol = 1e-12 if dtype == "float64" else 2e-6
    for a, b in zip(ours(*args), ref(*args)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


def test_truncated_recurrence_needs_no_dropout_and_keeps_states():
    model = RecurrentLM.from_spec(
        dict(cell="gru", hidden=4, embedding=3, bptt_truncate=2, dtype="float64"), 7, mode="FAST_COMPILE"
    )
    X = pt.imatrix("X")
    full = RecurrentLM.from_spec(dict(cell="gru", hidden=4, embedding=3, dtype="float64"), 7, mode="FAST_COMPILE")
    full.set_params(model.get_params())
    ids = np.arange(12, dtype=np.int32).reshape(4, 3) % 7
    S = model.start_states()
    start = np.random.default_rng(0).uniform(-1, 1, model.initial_states(3).shape)
    a = pytensor.function([X, S], list(model.top(X, S, Masks())), mode="FAST_COMPILE")(ids, start)
    b = pytensor.function([X, S], list(full.top(X, S, Masks())), mode="FAST_COMPILE")(ids, start)
    for x, y in zip(a, b):  # the outputs and the final states
        np.testing.assert_array_equal(x, y)  # truncation changes gradients, never the forward values


@pytest.mark.parametrize("cell, tied, clip", [("rnn", False, 0.0), ("gru", False, 0.5), ("lstm", True, 0.0)])
def test_sparse_sgd_step_equals_the_dense_update(cell, tied, clip):
    """SGD updates only the looked-up entries of U or E; the result and the reported gradient
    norm are the dense update's (ids repeat within the batch; a tied E stays dense)."""
    spec = dict(
        cell=cell,
        hidden=5,
        embedding=5,
        tie_weights=tied,
        bptt_truncate=2 if cell == "rnn" else -1,
        dtype="float64",
        seed=3,
    )
    model = RecurrentLM.from_spec(spec, 9, mode="FAST_COMPILE")
    rng = np.random.default_rng(5)
    X, Y = rng.integers(0, 4, (6, 3)).astype(np.int32), rng.integers(1, 9, (6, 3)).astype(np.int32)
    M = np.ones((6, 3))
    before = model.get_params()
    S = model.initial_states(3)
    grads = dict(zip(model.params, model.compiled.masked()[1](X, Y, M, S)[2:]))
    norm = np.sqrt(sum(np.sum(g**2) for g in grads.values()))
    scale = min(1.0, clip / (norm + 1e-12)) if clip else 1.0
    step = model.compiled.train(TrainStep("sgd", clip_norm=clip, objective="sum"))
    sparse = any(isinstance(n.op, ScatteredSquaredNorm) for n in step.function.maker.fgraph.apply_nodes)
    assert sparse == (not tied)
    reported = step(X, Y, M, S, 0.1)[2]
    assert reported == pytest.approx(norm, rel=1e-12)
    for name, value in model.get_params().items():
        np.testing.assert_allclose(value, before[name] - 0.1 * scale * grads[name], rtol=1e-12, atol=1e-14)
