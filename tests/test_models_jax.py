"""mode: JAX (PyTensor's JAX backend, the GPU path) against the default backend: the same
losses and gradients in float64, the same training run, fixed-shape batches, the GPU check."""

import numpy as np
import pytest

from rnnlm import RnnlmError
from rnnlm.data.batching import Batch, bucket_length, fixed_shape_chunks, pad
from rnnlm.models.backend import check_device
from rnnlm.models.dropout import Dropout
from rnnlm.models.lm import RecurrentLM

C = 40
CASES = [  # (cell, layers, bptt_truncate, tie_weights, dropout)
    ("rnn", 1, 4, False, None),
    ("gru", 2, 2, False, None),
    ("lstm", 2, -1, True, Dropout(0.3, 0.2, True)),
]


def batch(rng, T=9, B=4):
    X, Y = (rng.integers(0, C, (T, B)).astype(np.int32) for _ in range(2))
    M = np.ones((T, B))
    M[6:, 1] = M[3:, 3] = 0
    return X, Y, M


@pytest.mark.parametrize("cell,layers,k,tie,dropout", CASES)
@pytest.mark.slow  # a JAX compile per case
def test_jax_loss_and_gradients_equal_the_default_backends(cell, layers, k, tie, dropout):
    spec = {
        "cell": cell,
        "hidden": 8,
        "embedding": 8,
        "layers": layers,
        "bptt_truncate": k,
        "tie_weights": tie,
        "dtype": "float64",
        "seed": 3,
    }
    default, jax = (RecurrentLM.from_spec(spec, C, mode=m) for m in ("FAST_COMPILE", "JAX"))
    assert jax.portable and not default.portable
    rng = np.random.default_rng(0)
    X, Y, M = batch(rng)
    dropout = dropout or Dropout()
    masks = default.dropout_masks(dropout, *X.shape, rng)
    S = rng.uniform(-0.5, 0.5, default.initial_states(X.shape[1]).shape)  # a later chunk's start
    a = default.compiled.masked(dropout)[1](X, Y, M, S, *masks)
    b = jax.compiled.masked(dropout)[1](X, Y, M, S, *masks)
    assert float(a[0]) > 0 and float(a[1]) == M.sum() == float(b[1])
    for name, u, v in zip(["loss", "count", *default.params], a, b):
        np.testing.assert_allclose(np.asarray(v), u, rtol=1e-5, atol=1e-8, err_msg=name)
    # per-token log-probabilities (evaluation) in fixed-shape chunks with the state carried:
    # the padding and the chunking are free
    pieces = fixed_shape_chunks(Batch(X, Y, M), 6, 48)  # 8 steps of 6 columns, then 1 (padded to 8)
    assert [p.X.shape for p in pieces] == [(8, 6), (8, 6)] and [p.carry for p in pieces] == [False, True]
    np.testing.assert_allclose(
        jax.compiled.token_logprobs_over(pieces)[:9, :4],
        default.compiled.token_logprobs(X, Y, M, default.initial_states(4))[0],
        rtol=1e-9,
        atol=1e-12,
    )


def test_fixed_shape_batches_pad_steps_to_a_bucket_and_columns_to_the_batch_size():
    sentences = [np.arange(n, dtype=np.int32) for n in (5, 11, 7)]
    free = pad(sentences, "float64")
    [fixed] = fixed_shape_chunks(free, 4, 4 * 12)
    assert free.X.shape == (10, 3) and fixed.X.shape == (bucket_length(10), 4) == (12, 4)
    assert fixed.M.sum() == free.M.sum() == 4 + 10 + 6
    np.testing.assert_array_equal(fixed.X[:10, :3], free.X)
    np.testing.assert_array_equal(fixed.M[:10, :3], free.M)


def test_bucket_lengths_are_few_and_waste_at_most_a_third():
    lengths = {bucket_length(t) for t in range(1, 201)}
    assert sorted(lengths) == [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256]
    assert all(bucket_length(t) >= t and (t <= 8 or bucket_length(t) <= 1.5 * t) for t in range(1, 201))


def test_a_jax_model_that_asked_for_a_gpu_stops_with_one_line_on_a_cpu_node():
    no_gpu = r"^gpu: true, but JAX sees no GPU here \(devices: cpu\): install jax\[cuda12\]"
    with pytest.raises(RnnlmError, match=no_gpu):
        check_device(True, "JAX")
    assert check_device("optional", "JAX") == "mode JAX: on cpu (1 device)"
    assert check_device(True, "FAST_RUN") == "mode FAST_RUN: on the CPU (gpu: true is only used by mode: JAX)"


def test_class_output_is_refused_with_jax():
    with pytest.raises(RnnlmError, match="output: class runs on the Numba and C backends only"):
        RecurrentLM.from_spec({"cell": "gru", "output": "class"}, C, mode="JAX", counts=np.arange(C)[::-1])


def test_a_jax_training_run_follows_the_default_backends(tmp_path, workflow):
    """The pipeline trains the same model with each backend (float64, Adam, no dropout: the
    padded batches of JAX draw no different masks); the parameters agree."""
    base = {
        "cell": "gru",
        "embedding": 12,
        "hidden": 12,
        "layers": 1,
        "dtype": "float64",
        "gpu": "optional",
        "train": {
            "epochs": 1,
            "batch_size": 16,
            "eval_every": 20,
            "optimizer": "adam",
            "learning_rate": 0.005,
            "dropout": 0.0,
        },
    }
    config = {
        "dumps": {"a": {"path": "resources/synthetic/a.csv", "synthetic": True}},
        "synthetic": {"comments": 200, "topics": 3},
        "models": {"cpu": base | {"mode": "FAST_COMPILE"}, "jax": base | {"mode": "JAX"}},
    }
    workflow.run("results/models/cpu/model.npz", "results/models/jax/model.npz", *workflow.configure(config))
    models = {}
    for name in ("cpu", "jax"):
        with np.load(tmp_path / f"results/models/{name}/model.npz", allow_pickle=False) as z:
            models[name] = {k: z[k] for k in z.files if k.startswith("param.")}
    assert models["cpu"].keys() == models["jax"].keys() and len(models["cpu"]) == 6
    for k, v in models["cpu"].items():
        np.testing.assert_allclose(models["jax"][k], v, rtol=1e-5, atol=1e-7, err_msg=k)
    log = (tmp_path / "logs/train/jax.log").read_text()
    assert "mode JAX: on cpu" in log
