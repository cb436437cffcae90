"""The gradient-check gate: a model's PyTensor gradients against finite differences and,
for the tutorial's RNN, against the numpy reference's BPTT.

Run in float64 on a small copy of the configured model (same cell, layers and
`bptt_truncate`; small vocabulary, hidden and embedding sizes) with random ids and a
mask that has padding. Finite differences check the derivative of the loss, so they are
taken with full BPTT (a truncated gradient is not a derivative); the numpy comparison is
done with the configured truncation as well, like with like.
"""

from __future__ import annotations

import time

import numpy as np

from rnnlm.config import defaults
from rnnlm.errors import RnnlmError
from rnnlm.models.classes import assign_classes
from rnnlm.models.dropout import NO_DROPOUT, Dropout
from rnnlm.models.lm import RecurrentLM
from rnnlm.models.numpy_rnn import RNNNumpy, five_point_derivative, relative_error
from rnnlm.progress import log


class GradientCheckError(RnnlmError):
    pass


def random_batch(rng, vocab: int, steps: int, batch: int):
    """Time-major ids, targets and a mask whose sequences have different lengths."""
    lengths = rng.integers(2, steps + 1, batch)
    lengths[0] = steps
    X = rng.integers(0, vocab, (steps, batch)).astype(np.int32)
    Y = rng.integers(1, vocab, (steps, batch)).astype(np.int32)
    M = (np.arange(steps)[:, None] < lengths[None, :]).astype(np.float64)
    return X, Y, M


FLOOR = 1e-7  # gradients below this (in nats of total loss) are compared in absolute terms


def numeric_gradient(loss, shared, index: int, inputs: list, eps: float) -> float:
    """d loss / d (entry `index` of the flattened parameter `shared`), by finite differences;
    `loss(*inputs)` is a compiled loss whose first output is the total."""
    value = shared.get_value()
    flat = value.reshape(-1)
    original = flat[index]

    def loss_at(delta):
        flat[index] = original + delta
        shared.set_value(value)
        return loss(*inputs)[0]

    try:
        return five_point_derivative(loss_at, eps)
    finally:
        flat[index] = original
        shared.set_value(value)


def finite_difference_errors(
    model: RecurrentLM, X, Y, M, rng, sample: int, eps: float, dropout: Dropout = NO_DROPOUT
) -> dict[str, dict]:
    """Per parameter: max relative error of the symbolic gradient against finite differences
    on `sample` entries (all entries of smaller parameters), through the training graph with
    `dropout`'s masks fixed, from random initial states (as a later chunk of a long sentence
    starts). The five-point central stencil (error O(eps^4)) keeps float64 round-off far below
    the tolerance even for tiny entries."""
    S = rng.uniform(-0.5, 0.5, model.initial_states(X.shape[1]).shape).astype(model.dtype)
    inputs = [X, Y, M, S, *model.dropout_masks(dropout, X.shape[0], X.shape[1], rng)]
    loss, loss_and_grads = model.compiled.masked(dropout)
    grads = dict(zip(model.params, loss_and_grads(*inputs)[2:]))
    report = {}
    for name, shared in model.params.items():
        size = shared.get_value(borrow=True).size
        idx = np.arange(size) if size <= sample else rng.choice(size, sample, replace=False)
        numeric = np.array([numeric_gradient(loss, shared, i, inputs, eps) for i in idx])
        symbolic = grads[name].reshape(-1)[idx]
        report[name] = {
            "entries": int(size),
            "checked": int(len(idx)),
            "max_relative_error": relative_error(symbolic, numeric, FLOOR),
        }
    return report


def numpy_reference_errors(model: RecurrentLM, X, Y, M) -> dict[str, dict]:
    """The vanilla RNN's loss and gradients against RNNNumpy, one sentence at a time."""
    ref = RNNNumpy(model.vocab_size, model.hidden, bptt_truncate=model.bptt_truncate)
    ref.set_params(model.get_params())
    out = model.compiled.masked()[1](X, Y, M, model.initial_states(X.shape[1]))
    grads = dict(zip(model.params, out[2:]))
    ref_grads = {k: np.zeros_like(v) for k, v in ref.get_params().items()}
    ref_loss = 0.0
    for b in range(X.shape[1]):
        n = int(M[:, b].sum())
        x, y = X[:n, b], Y[:n, b]
        ref_loss += ref.total_loss([x], [y])
        for k, g in ref.bptt(x, y).items():
            ref_grads[k] += g
    report = {"loss": {"max_relative_error": relative_error(out[0], ref_loss)}}
    for k in ref_grads:
        report[k] = {
            "entries": int(ref_grads[k].size),
            "checked": int(ref_grads[k].size),
            "max_relative_error": relative_error(grads[k], ref_grads[k]),
        }
    return report


def gradient_check(
    name: str,
    spec: dict,
    *,
    tolerance: float = 1e-4,
    vocab: int = 13,
    hidden: int = 7,
    embedding: int = 5,
    steps: int = 6,
    batch: int = 3,
    sample: int = 100,
    eps: float = 2e-3,
    seed: int = 0,
    mode: str | None = None,
) -> dict:
    """Check model `name` (its config `spec`: cell, layers, truncation, tied weights and, with
    fixed masks, its dropouts); raises GradientCheckError above `tolerance`."""
    started = time.monotonic()
    spec = defaults("models", "*") | spec
    train = defaults("models", "*", "train") | (spec.get("train") or {})
    dropout = Dropout(train["dropout"], train["recurrent_dropout"], train["variational"])
    embedding = hidden if spec["tie_weights"] else embedding
    rng = np.random.default_rng(seed)
    classes = assign_classes(1.0 / np.arange(1, vocab + 1)) if spec["output"] == "class" else None  # Zipf counts
    small = {
        "cell": spec["cell"],
        "vocab_size": vocab,
        "hidden": hidden,
        "embedding": embedding,
        "layers": spec["layers"],
        "tie_weights": spec["tie_weights"],
        "output": spec["output"],
        "classes": classes,
        "dtype": "float64",
        "seed": seed,
        "mode": mode,
    }
    X, Y, M = random_batch(rng, vocab, steps, batch)
    sizes = {"vocab": vocab, "hidden": hidden, "embedding": embedding, "steps": steps, "batch": batch}
    result = {
        "model": name,
        "cell": spec["cell"],
        "layers": spec["layers"],
        "tie_weights": spec["tie_weights"],
        "output": spec["output"],
        "classes": classes,
        "dropout": vars(dropout) if dropout.active else None,
        "dtype": "float64",
        "tolerance": tolerance,
        "sizes": sizes | {"padding": int((M == 0).sum())},
    }
    full = RecurrentLM(**small, bptt_truncate=-1)
    result["finite_differences"] = finite_difference_errors(full, X, Y, M, rng, sample, eps, dropout)
    if spec["cell"] == "rnn" and spec["output"] == "full":  # the numpy reference has a full softmax
        result["numpy_reference"] = numpy_reference_checks(full, small, spec["bptt_truncate"], X, Y, M)
    result["seconds"] = round(time.monotonic() - started, 2)
    check_tolerance(result, name, spec["cell"], tolerance)
    return result


def numpy_reference_checks(full: RecurrentLM, small: dict, truncate: int, X, Y, M) -> dict[str, dict]:
    """The RNN against RNNNumpy with full BPTT and, if the model truncates, truncated alike."""
    checks = {"full BPTT": full}
    if truncate >= 0:
        truncated = RecurrentLM(**small, bptt_truncate=truncate)
        truncated.set_params(full.get_params())
        checks[f"bptt_truncate={truncate}"] = truncated
    return {label: numpy_reference_errors(model, X, Y, M) for label, model in checks.items()}


def check_tolerance(result: dict, name: str, cell: str, tolerance: float) -> None:
    """Log the worst relative error of every parameter and the verdict; raise on a failure."""
    worst: dict[str, float] = {}
    for _, report in _reports(result):
        for param, r in report.items():
            err = r["max_relative_error"]
            if not err <= worst.get(param, 0.0):  # larger, or NaN
                worst[param] = err
            worst.setdefault(param, err)
    errors = ", ".join(f"{param} {err:.2g}" for param, err in worst.items())
    failures = [
        (where, param, r["max_relative_error"])
        for where, report in _reports(result)
        for param, r in report.items()
        if not r["max_relative_error"] <= tolerance  # NaN fails too
    ]
    if failures:
        detail = "; ".join(f"{param} ({where}): {err:.3g}" for where, param, err in failures)
        log.error(f"gradcheck {name}: FAILED (tolerance {tolerance:g}); worst relative errors: {errors}")
        raise GradientCheckError(
            f"gradient check failed for model {name!r} ({cell}): relative error above {tolerance:g} in {detail}"
        )
    log.info(
        f"gradcheck {name}: passed ({cell}, float64, {result['seconds']} s); worst relative error per parameter, "
        f"tolerance {tolerance:g}: {errors}"
    )


def _reports(result: dict):
    yield "finite differences", result["finite_differences"]
    for label, report in result.get("numpy_reference", {}).items():
        yield f"numpy reference, {label}", report
