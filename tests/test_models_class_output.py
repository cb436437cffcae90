"""The class-factored softmax: class assignment, normalisation, the same loss in every
graph, padding, the gate, and a model file that is enough to rebuild it."""

import math

import numpy as np
import pytest

from rnnlm import RnnlmError
from rnnlm.data.batching import Batch, chunks
from rnnlm.models.classes import assign_classes
from rnnlm.models.io import load_model, save_model
from rnnlm.models.lm import RecurrentLM
from rnnlm.training.gradcheck import gradient_check, random_batch

COUNTS = np.r_[50, 50, 7, 1000 / np.arange(1, 38)].round()  # START, END, UNK, then Zipf: 40 ids


def class_model(cell="gru", mode="FAST_COMPILE", dtype="float64", **spec):
    model = RecurrentLM.from_spec(
        dict(cell=cell, hidden=6, embedding=5, dtype=dtype, seed=2, output="class") | spec,
        len(COUNTS),
        mode=mode,
        counts=COUNTS,
    )
    model.init_output_bias(COUNTS)
    return model


def test_classes_bin_the_vocabulary_by_frequency():
    bounds = assign_classes(COUNTS)
    assert bounds == assign_classes(list(COUNTS))  # deterministic, from the counts alone
    assert bounds[0] == 0 and bounds[-1] == 40 and len(bounds) - 1 <= round(math.sqrt(40))
    sizes, mass = np.diff(bounds), np.add.reduceat(COUNTS, bounds[:-1]) / COUNTS.sum()
    assert np.all(sizes > 0) and sizes[0] < sizes[-1]  # frequent words in small classes, rare in large
    assert mass.max() < 2.5 / (len(bounds) - 1)  # each class about 1/K of the tokens
    assert assign_classes([5, 0, 0, 0], 2) == [0, 1, 4]  # a heavy word gets a class of its own


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_next_word_distribution_sums_to_one_over_the_vocabulary(cell):
    model = class_model(cell)
    rng = np.random.default_rng(0)
    states = rng.uniform(-1, 1, model.initial_states(4).shape)  # random states, not only the zero start
    logp, _ = model.compiled.step(rng.integers(0, 40, 4).astype(np.int32), states)
    assert logp.shape == (4, 40)
    np.testing.assert_allclose(np.exp(logp).sum(axis=1), 1.0, rtol=1e-12)
    assert np.ptp(logp, axis=1).min() > 0.5  # not uniform: a real distribution


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_step_scores_equal_the_batch_loss_and_padding_changes_nothing(cell):
    model = class_model(cell)
    rng = np.random.default_rng(1)
    ids, targets = rng.integers(0, 40, (6, 2)).astype(np.int32), rng.integers(1, 40, (6, 2)).astype(np.int32)
    states, stepwise = model.initial_states(2), 0.0
    for x, y in zip(ids, targets):
        logp, states = model.compiled.step(x, states)
        stepwise -= logp[np.arange(2), y].sum()
    total, count, _ = model.compiled.loss(ids, targets, np.ones((6, 2)), model.initial_states(2))
    assert count == 12 and stepwise == pytest.approx(total, rel=1e-12)
    X, Y, M = random_batch(rng, 40, 6, 3)
    pad = lambda a, fill: np.concatenate([a, np.full((3, 3), fill, a.dtype)])  # noqa: E731
    S = model.initial_states(3)
    a, b = model.compiled.masked()[1](X, Y, M, S), model.compiled.masked()[1](pad(X, 5), pad(Y, 7), pad(M, 0), S)
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)
    pieces = chunks(Batch(X, Y, M), 6)  # two steps of the three sentences at a time, state carried
    whole = model.compiled.token_logprobs(X, Y, M, S)[0]
    np.testing.assert_allclose(model.compiled.token_logprobs_over(pieces), whole, rtol=1e-12, atol=1e-13)


def test_the_gate_covers_the_class_output():
    result = gradient_check("gru-class", {"cell": "gru", "layers": 2, "output": "class"}, mode="FAST_COMPILE")
    assert result["output"] == "class" and result["classes"][-1] == 13
    assert {"Vclass", "cclass", "V", "c"} <= set(result["finite_differences"])
    assert max(r["max_relative_error"] for r in result["finite_differences"].values()) < 1e-5
    rnn = gradient_check("rnn-class", {"cell": "rnn", "bptt_truncate": 4, "output": "class"}, mode="FAST_COMPILE")
    assert set(rnn["finite_differences"]) == {"U", "W", "V", "Vclass"} and "numpy_reference" not in rnn


def test_a_model_file_is_enough_to_rebuild_the_class_model(tmp_path):
    model = class_model("gru")
    spec = {
        "cell": "gru",
        "hidden": 6,
        "embedding": 5,
        "dtype": "float64",
        "seed": 2,
        "output": "class",
        "classes": model.classes,
    }
    save_model(tmp_path / "m.npz", model.get_params(), {"spec": spec, "vocab_size": 40, "vocab_hash": "v"})
    loaded, _ = load_model(tmp_path / "m.npz", mode="FAST_COMPILE")
    assert loaded.classes == model.classes
    X, Y, M = random_batch(np.random.default_rng(2), 40, 5, 2)
    S = model.initial_states(2)
    assert loaded.compiled.loss(X, Y, M, S)[0] == model.compiled.loss(X, Y, M, S)[0]
    with pytest.raises(RnnlmError, match="output: class needs the vocabulary's counts"):
        RecurrentLM.from_spec({"cell": "gru", "output": "class"}, 40)


def test_numba_class_kernels_follow_float64():
    fast, exact = class_model("gru", mode="FAST_RUN", dtype="float32"), class_model("gru")
    fast.set_params(exact.get_params())
    X, Y, M = random_batch(np.random.default_rng(3), 40, 7, 4)
    S = exact.initial_states(4)
    for a, b in zip(fast.compiled.masked()[1](X, Y, M, S), exact.compiled.masked()[1](X, Y, M, S)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * np.abs(b).max())
    logp, _ = fast.compiled.step(X[0], fast.initial_states(4))
    np.testing.assert_allclose(logp, exact.compiled.step(X[0], exact.initial_states(4))[0], rtol=1e-5, atol=1e-5)
