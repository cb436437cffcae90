"""Compiling a model's graphs before its training: the pipeline's `compile` job.

A cold compile of a train step takes half a minute or more (docs/benchmarks.md), and none of
it depends on the data: a compiled graph holds neither the vocabulary's size nor the class
boundaries nor the layers' sizes nor the hyperparameters' values (they are inputs or shared
variables), only the model's structure and what its train step does (`graph_spec`). So the
`compile` job builds the model at stand-in sizes and calls its train step and its per-token
graph (validation, evaluation, scoring) once on a tiny batch, which fills the compile cache
(`models.environment`), while the data stages run. The train job then loads both in about a
second. Where it misses the cache anyway (another cache directory, a node with another CPU)
it compiles them itself, as it would without this job.
"""

from __future__ import annotations

import time

import numpy as np

from rnnlm.models import backend
from rnnlm.models.lm import RecurrentLM
from rnnlm.progress import log
from rnnlm.training.graph_spec import stand_in_spec
from rnnlm.training.schedule import Schedule, architecture, train_settings

STAND_IN_VOCABULARY = 64  # words (class output: 8 classes); any size compiles the same graphs
STAND_IN_WIDTH = 16  # units per layer
TINY_BATCH = (5, 2)  # time steps, sentences


def compile_graphs(name: str, graph: dict) -> dict:
    """Compile (or load from the cache) the train step and the per-token graph of a
    `graph_spec.graph_spec` (the pipeline runs it where `graph_spec.compiles_ahead`); returns
    the mode and the seconds each took."""
    started = time.monotonic()
    spec = stand_in_spec(graph, STAND_IN_WIDTH)
    counts = 1.0 / np.arange(1, STAND_IN_VOCABULARY + 1)  # Zipf counts, for the class boundaries
    model = RecurrentLM.from_spec(architecture(spec), STAND_IN_VOCABULARY, graph["mode"], counts=counts)
    step = Schedule(train_settings(spec)).train_step()
    T, B = TINY_BATCH
    rng = np.random.default_rng(0)
    X, Y = (rng.integers(0, STAND_IN_VOCABULARY, (T, B), dtype=np.int32) for _ in range(2))
    M = np.ones((T, B), dtype=model.dtype)
    masks = model.dropout_masks(step.dropout, T, B, rng)
    seconds = {"build": time.monotonic() - started}
    for graph_name, call in (
        ("train step", lambda: model.compiled.train(step)(X, Y, M, model.initial_states(B), 1e-3, *masks)),
        ("per-token", lambda: model.compiled.token_logprobs(X, Y, M, model.initial_states(B))),
    ):
        started = time.monotonic()
        call()
        seconds[graph_name] = time.monotonic() - started
    seconds = {k: round(v, 2) for k, v in seconds.items()}
    log.info(
        f"compile {name}: train step {seconds['train step']:.1f} s, per-token graph {seconds['per-token']:.1f} s "
        f"(cache {backend.compiledir()}: the train job loads them)"
    )
    return {"model": name, "mode": backend.mode(graph["mode"]) or "FAST_RUN", "seconds": seconds}
