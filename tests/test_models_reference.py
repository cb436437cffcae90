"""The numpy reference and the PyTensor models: losses, gradients, masks, carried state."""

import math

import numpy as np
import pytest

from rnnlm import RnnlmError
from rnnlm.data.batching import Batch, chunks
from rnnlm.models.compiled import TrainStep
from rnnlm.models.dropout import Dropout
from rnnlm.models.io import load_model, save_model
from rnnlm.models.lm import RecurrentLM
from rnnlm.models.numpy_rnn import RNNNumpy, relative_error
from rnnlm.training.gradcheck import numpy_reference_errors, random_batch

FAST = "FAST_COMPILE"  # compiles in seconds: the same graphs without the speed rewrites of FAST_RUN


def model(vocab=11, **spec):
    return RecurrentLM.from_spec(spec, vocab, mode=FAST)


@pytest.fixture(scope="session")
def models():
    """One small float64 model per cell (and a truncated RNN), shared by the tests so that
    each graph compiles once."""
    return {
        "rnn": model(cell="rnn", hidden=6, dtype="float64", seed=1),
        "rnn-k2": model(cell="rnn", hidden=6, dtype="float64", bptt_truncate=2, seed=1),
        "gru": model(cell="gru", hidden=6, embedding=5, layers=2, dtype="float64", seed=1),
        "lstm": model(cell="lstm", hidden=6, embedding=5, layers=2, dtype="float64", bptt_truncate=3, seed=1),
    }


# ---- the numpy reference --------------------------------------------------------------


def test_untrained_loss_is_log_vocabulary_size():
    rng = np.random.default_rng(10)
    model = RNNNumpy(8000, 100, seed=10)
    X = [rng.integers(0, 8000, 30) for _ in range(30)]
    Y = [rng.integers(0, 8000, 30) for _ in range(30)]
    assert model.loss(X, Y) == pytest.approx(math.log(8000), rel=0.01)  # 8.987 in the tutorial


def test_sgd_lowers_the_loss_on_a_small_set():
    rng = np.random.default_rng(0)
    sentences = [np.concatenate([[0], rng.integers(3, 30, 8), [1]]) for _ in range(20)]
    X, Y = [s[:-1] for s in sentences], [s[1:] for s in sentences]
    model = RNNNumpy(30, 16, bptt_truncate=4, seed=0)
    before = model.loss(X, Y)
    for _ in range(15):
        for x, y in zip(X, Y):
            model.sgd_step(x, y, 0.05)
    after = model.loss(X, Y)
    assert before == pytest.approx(math.log(30), rel=0.05)
    assert after < 0.7 * before


def test_numpy_bptt_passes_its_gradient_check_and_truncation_changes_it():
    model = RNNNumpy(20, 8, bptt_truncate=-1, seed=3)
    x, y = [0, 5, 7, 2, 9, 4], [5, 7, 2, 9, 4, 1]
    errors = model.gradient_check(x, y)
    assert max(errors.values()) < 1e-6
    full = model.bptt(x, y)
    model.bptt_truncate = 1
    truncated = model.bptt(x, y)
    np.testing.assert_array_equal(truncated["V"], full["V"])  # V is outside the recurrence
    assert relative_error(truncated["W"], full["W"]) > 1e-3
    model.bptt_truncate = 100  # longer than the sentence: full BPTT again
    np.testing.assert_allclose(model.bptt(x, y)["W"], full["W"], rtol=1e-12)


def test_forward_does_not_mutate_its_outputs_in_bptt():
    model = RNNNumpy(10, 4, seed=0)
    o_before = model.forward([1, 2, 3])[0].copy()
    model.bptt([1, 2, 3], [2, 3, 4])
    np.testing.assert_array_equal(model.forward([1, 2, 3])[0], o_before)


# ---- PyTensor against numpy -----------------------------------------------------------


@pytest.mark.parametrize("name", ["rnn", "rnn-k2"])
def test_pytensor_rnn_equals_numpy_reference(models, name):
    X, Y, M = random_batch(np.random.default_rng(5), 11, 7, 4)
    report = numpy_reference_errors(models[name], X, Y, M)
    assert set(report) == {"loss", "U", "V", "W"}
    for param, r in report.items():
        assert r["max_relative_error"] < 1e-6, param


def test_untrained_pytensor_loss_is_log_vocabulary_size():
    rnn = model(8000, cell="rnn", hidden=100, dtype="float64", seed=10)
    rng = np.random.default_rng(1)
    X = rng.integers(0, 8000, (20, 8)).astype(np.int32)
    total, count, _ = rnn.compiled.loss(X, X, np.ones((20, 8)), rnn.initial_states(8))
    assert count == 160
    assert total / count == pytest.approx(math.log(8000), rel=0.01)


# ---- masks and padding ----------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["rnn", "rnn-k2", "gru", "lstm"])
def test_padding_changes_nothing(models, name):
    model = models[name]
    rng = np.random.default_rng(2)
    X, Y, M = random_batch(rng, 11, 6, 3)
    X2, Y2, M2 = (
        np.concatenate([a, pad])
        for a, pad in zip(
            (X, Y, M),
            (
                rng.integers(0, 11, (4, 3)).astype(np.int32),
                rng.integers(1, 11, (4, 3)).astype(np.int32),
                np.zeros((4, 3)),
            ),
        )
    )
    X[M == 0] = 7  # garbage in padded positions must not matter either
    S = model.initial_states(3)
    a, b = model.compiled.masked()[1](X, Y, M, S), model.compiled.masked()[1](X2, Y2, M2, S)
    assert a[1] == b[1] == M.sum()
    for x, y in zip(a, b):
        np.testing.assert_allclose(x, y, rtol=1e-12, atol=1e-14)


# ---- carried state: generation and scoring --------------------------------------------


@pytest.mark.parametrize("name", ["rnn", "gru", "lstm"])
def test_step_function_carries_state_like_the_batch_forward(models, name):
    model = models[name]
    rng = np.random.default_rng(4)
    ids = rng.integers(0, 11, 6).astype(np.int32)
    targets = rng.integers(1, 11, 6).astype(np.int32)
    states, stepwise = model.initial_states(1), 0.0
    for x, y in zip(ids, targets):
        logp, states = model.compiled.step(np.array([x], np.int32), states)
        assert logp.shape == (1, 11) and np.exp(logp).sum() == pytest.approx(1.0)
        stepwise -= logp[0, y]
    total, _, _ = model.compiled.loss(ids[:, None], targets[:, None], np.ones((6, 1)), model.initial_states(1))
    assert stepwise == pytest.approx(total, rel=1e-12)


@pytest.mark.parametrize("name", ["rnn", "rnn-k2", "gru", "lstm"])
@pytest.mark.parametrize("max_tokens", [5, 16])  # chunks of 1 and 3 steps for the 5 sentences
def test_a_batch_in_chunks_with_carried_states_scores_exactly_as_in_one_piece(models, name, max_tokens):
    """What evaluation does with a sentence longer than its token budget: the same
    log-probabilities, and the same total loss, as the batch in one piece."""
    model = models[name]
    X, Y, M = random_batch(np.random.default_rng(6), 11, 9, 5)
    whole = Batch(X, Y, M)
    pieces = chunks(whole, max_tokens)
    assert len(pieces) == -(-9 // (max_tokens // 5)) and [p.carry for p in pieces] == [False] + [True] * (
        len(pieces) - 1
    )
    one_piece = model.compiled.token_logprobs(X, Y, M, model.initial_states(5))[0]
    np.testing.assert_allclose(model.compiled.token_logprobs_over(pieces), one_piece, rtol=1e-12, atol=1e-13)
    total, count = model.compiled.loss_over(pieces)
    assert count == M.sum() and total == pytest.approx(-one_piece.sum(), rel=1e-12)
    assert model.compiled.loss_over([whole]) == pytest.approx((total, count), rel=1e-12)


# ---- the fused train step -------------------------------------------------------------


@pytest.mark.parametrize("optimizer, lr", [("sgd", 2.0), ("adam", 0.05)])
def test_train_step_lowers_the_loss(optimizer, lr):
    gru = model(cell="gru", hidden=8, embedding=6, dtype="float32", seed=0)
    rng = np.random.default_rng(0)
    X = rng.integers(0, 11, (8, 16)).astype(np.int32)
    Y = (X + 1) % 11  # a learnable rule: the next id follows the current one
    M = np.ones((8, 16), np.float32)
    step = gru.compiled.train(TrainStep(optimizer, clip_norm=5.0))
    S = gru.initial_states(16)
    first = step(X, Y, M, S, lr)
    for _ in range(60):
        last = step(X, Y, M, S, lr)
    assert first[1] == last[1] == 128
    assert last[0] < 0.5 * first[0]
    assert gru.get_params()["V"].dtype == np.float32
    if optimizer == "adam":
        assert gru.optimizer_state.values()["adam.t"] == 61


def test_parameters_round_trip_through_a_model_file_and_shapes_are_checked(models, tmp_path):
    gru = models["gru"]
    original = gru.get_params()
    assert set(original) == {"E", "W0", "U0", "b0", "W1", "U1", "b1", "V", "c"}
    assert original["U0"].shape == (6, 18) and original["V"].shape == (11, 6)
    changed = {k: v + 0.5 for k, v in original.items()}
    try:
        gru.set_params(changed)
        for k, v in gru.get_params().items():
            np.testing.assert_array_equal(v, changed[k], err_msg=k)
        spec = {"cell": "gru", "hidden": 6, "embedding": 5, "layers": 2, "dtype": "float64", "seed": 1}
        save_model(tmp_path / "m.npz", gru.get_params(), {"spec": spec, "vocab_size": 11, "vocab_hash": "v1"})
        loaded, meta = load_model(tmp_path / "m.npz", vocab_hash="v1", mode=FAST)
        assert meta["spec"] == spec and loaded.layers == 2 and loaded.embedding == 5
        for k, v in loaded.get_params().items():
            np.testing.assert_array_equal(v, changed[k], err_msg=k)
        with pytest.raises(RnnlmError, match="trained with another vocabulary"):
            load_model(tmp_path / "m.npz", vocab_hash="v2")
        with pytest.raises(RnnlmError, match=r"parameter E: shape \(3, 3\), model has \(11, 5\)"):
            gru.set_params(changed | {"E": np.zeros((3, 3))})
    finally:
        gru.set_params(original)


# ---- regularisation: dropout masks, tied weights, weight decay --------------------------


def test_dropout_masks_are_seeded_scaled_and_shaped():
    from rnnlm.models.dropout import sample

    variational = Dropout(rate=0.25, recurrent=0.5, variational=True)
    a = sample(variational, 2, 5, 6, 7, 300, np.random.default_rng(1), "float32")
    b = sample(variational, 2, 5, 6, 7, 300, np.random.default_rng(1), "float32")
    assert [m.shape for m in a] == [(1, 300, 5), (1, 300, 6), (1, 300, 6), (300, 6), (300, 6)]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert set(np.unique(a[0])) == {0.0, np.float32(1 / 0.75)} and set(np.unique(a[3])) == {0.0, 2.0}
    assert abs(a[0].mean() - 1.0) < 0.05  # inverted dropout keeps the expected value
    per_step = sample(Dropout(rate=0.25, variational=False), 1, 5, 6, 7, 3, np.random.default_rng(1), "float32")
    assert [m.shape for m in per_step] == [(7, 3, 5), (7, 3, 6)]
    assert sample(Dropout(), 2, 5, 6, 7, 3, np.random.default_rng(1), "float32") == []


def test_dropout_changes_the_training_loss_and_masks_of_ones_do_not():
    from rnnlm.models.dropout import Dropout

    lstm = model(cell="lstm", hidden=6, embedding=6, layers=2, tie_weights=True, dtype="float64", seed=3)
    assert "V" not in lstm.get_params()  # the output layer is the embedding
    dropout = Dropout(rate=0.5, recurrent=0.3, variational=False)
    X, Y, M = random_batch(np.random.default_rng(0), 11, 6, 3)
    loss, _ = lstm.compiled.masked(dropout)
    masks = lstm.dropout_masks(dropout, 6, 3, np.random.default_rng(2))
    ones = [np.ones_like(m) for m in masks]
    S = lstm.initial_states(3)
    plain = lstm.compiled.loss(X, Y, M, S)[0]
    assert loss(X, Y, M, S, *ones)[0] == pytest.approx(plain, rel=1e-12)
    assert abs(loss(X, Y, M, S, *masks)[0] - plain) > 1e-3


def test_weight_decay_shrinks_weights_but_not_biases():
    gru = model(cell="gru", hidden=4, embedding=3, dtype="float64", seed=0)
    before = gru.get_params()
    step = gru.compiled.train(TrainStep("sgd", weight_decay=0.1))
    X = np.zeros((3, 2), np.int32)
    step(X, X, np.zeros((3, 2)), gru.initial_states(2), 0.5)  # no targets: a zero gradient, only the decay acts
    after = gru.get_params()
    for name in ("E", "W0", "U0", "V"):
        np.testing.assert_allclose(after[name], before[name] * (1 - 0.5 * 0.1), rtol=1e-12, err_msg=name)
    for name in ("b0", "c"):
        np.testing.assert_array_equal(after[name], before[name], err_msg=name)


def test_steps_that_differ_only_in_numbers_share_one_compiled_function_and_each_number_acts():
    gru = model(cell="gru", hidden=4, embedding=3, dtype="float64", seed=0)
    X = np.array([[1, 2], [3, 4], [5, 6]], np.int32)
    M, S = np.ones((3, 2)), gru.initial_states(2)
    norm = float(gru.compiled.train(TrainStep("sgd"))(X, X, M, S, 0.0)[2])  # learning rate 0: no change
    steps = {
        clip: gru.compiled.train(TrainStep("sgd", clip_norm=clip, dropout=Dropout(p)))
        for clip, p in [(0.01, 0.2), (0.02, 0.5)]
    }
    assert steps[0.01].function is steps[0.02].function  # one graph: clipping on, rate dropout on
    assert gru.compiled.train(TrainStep("sgd", clip_norm=0.01)).function is not steps[0.01].function  # no dropout
    masks = gru.dropout_masks(Dropout(0.2), 3, 2, np.random.default_rng(0))
    for clip, step in steps.items():
        assert norm > clip
        before = gru.get_params()
        step(X, X, M, S, 0.5, *masks)
        moved = np.sqrt(sum(np.sum((gru.get_params()[k] - v) ** 2) for k, v in before.items()))
        assert moved == pytest.approx(0.5 * clip, rel=1e-9)  # the gradient clipped to this step's norm


def test_output_bias_starts_at_the_log_unigram_distribution():
    gru = model(cell="gru", hidden=4, embedding=3, dtype="float64", seed=0)
    counts = np.array([10, 10, 0, 40, 20, 5, 5, 3, 3, 2, 2])
    gru.init_output_bias(counts)
    p = np.exp(gru.get_params()["c"])
    assert p.sum() == pytest.approx(1.0) and p[3] == pytest.approx(41 / (100 + 11))
