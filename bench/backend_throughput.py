"""Train-step throughput of the default models on each backend: the default (Numba, CPU)
against mode: JAX (on a GPU when JAX sees one, else on the CPU).

    .venv/bin/python bench/backend_throughput.py [--models gru,lstm] [--steps 30] [--config config.yaml]

The models are config.yaml's `fast`-schedule models (their size, optimizer, dropout), at
C=8000 on random Zipf-distributed sentences of 5–60 tokens sorted by length into batches:
`Schedule.step_function` exactly as training calls it. JAX batches are padded to fixed shapes
as in training (`batching.fixed_shape_chunks`); tokens/s counts real targets only, so the padding is
charged to JAX. Compile: seconds of the first step of each distinct shape (JAX) or of the one
graph (default). The backends take turns, round by round, in this one process; a rate is the
median over rounds, the ratio the median of the per-round ratios. Prints JSON (progress on stderr).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import yaml

from rnnlm.data.batching import fixed_shape_chunks, pad
from rnnlm.models.backend import check_device
from rnnlm.models.lm import RecurrentLM
from rnnlm.training.schedule import Schedule, architecture, train_settings

C = 8000
REPO = Path(__file__).resolve().parents[1]


def sentences(n: int, rng) -> list[np.ndarray]:
    p = 1.0 / (np.arange(3, C) + 1.7)
    p /= p.sum()
    return [np.concatenate([[0], 3 + rng.choice(C - 3, k, p=p), [1]]).astype(np.int32) for k in rng.integers(5, 61, n)]


def batches(sents: list[np.ndarray], size: int, fixed: bool, rng) -> list:
    order = sorted(range(len(sents)), key=lambda i: len(sents[i]))
    groups = [order[i : i + size] for i in range(0, len(order), size)]
    padded = [pad([sents[i] for i in groups[k]], "float32") for k in rng.permutation(len(groups))]
    return [fixed_shape_chunks(b, size, size * 64)[0] if fixed else b for b in padded]  # (60 steps at most)


def timed(step, data: list, lr: float, start: int) -> tuple[float, float]:
    """(seconds, real targets) of one pass of steps over `data`."""
    tokens, began = 0.0, time.perf_counter()
    for i, b in enumerate(data):
        out = step(b, lr, start + i)
        tokens += float(b.M.sum())
    float(np.asarray(out[0]))  # JAX dispatches asynchronously: wait for the last step
    return time.perf_counter() - began, tokens


def bench_model(name: str, spec: dict, steps: int, rounds: int) -> dict:
    settings = train_settings(spec)
    size = settings["batch_size"]
    rng = np.random.default_rng(2015)
    sents = sentences(size * steps, rng)
    result, rates = {"batch_size": size}, {}
    runners = {}
    for backend, mode in (("default", None), ("jax", "JAX")):
        model = RecurrentLM.from_spec(architecture(spec), C, mode)
        update = Schedule(settings).step_function(model)
        step = lambda b, lr, n, model=model, update=update: update(b, lr, n, model.initial_states(b.X.shape[1]))  # noqa: E731
        data = batches(sents, size, model.portable, rng)
        began = time.perf_counter()
        shapes = {}
        for b in data:  # one step per distinct shape: the compiles
            if b.X.shape not in shapes:
                t = time.perf_counter()
                float(np.asarray(step(b, 1e-4, 0)[0]))
                shapes[b.X.shape] = time.perf_counter() - t
        result[f"{backend}_compile_s"] = round(time.perf_counter() - began, 1)
        result[f"{backend}_shapes"] = len(shapes)
        runners[backend], rates[backend] = (step, data), []
    for r in range(rounds):
        for backend, (step, data) in runners.items():
            seconds, tokens = timed(step, data, 1e-4, 1 + r * len(data))
            rates[backend].append(tokens / seconds)
    for backend, values in rates.items():
        result[f"{backend}_tokens_per_s"] = round(statistics.median(values))
    result["jax_over_default"] = round(statistics.median(j / d for j, d in zip(rates["jax"], rates["default"])), 3)
    return result


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default=str(REPO / "config.yaml"))
    p.add_argument("--models", help="comma-separated model names (default: every fast-schedule model)")
    p.add_argument("--steps", type=int, default=30, help="batches per round")
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    models = yaml.safe_load(Path(args.config).read_text())["models"]
    names = (
        args.models.split(",")
        if args.models
        else [n for n, s in models.items() if (s.get("train") or {}).get("schedule", "fast") == "fast"]
    )
    out = {"vocabulary": C, "jax": check_device("optional", "JAX"), "models": {}}
    for name in names:
        out["models"][name] = bench_model(name, models[name], args.steps, args.rounds)
        print(json.dumps({name: out["models"][name]}), file=sys.stderr, flush=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
