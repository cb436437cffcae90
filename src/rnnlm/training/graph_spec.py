"""What a model's compiled graphs depend on (`graph_spec`), without importing PyTensor: the
Snakefile reads it as the `compile` job's parameters (training/precompile.py).

A compiled graph holds the model's structure and what its train step does, never sizes, rates,
seeds or the vocabulary (those are inputs or shared variables: models/compiled.py,
`TrainStep.graph_key`). So the spec keeps the structure and, of the training settings, the
schedule, the optimizer and which of clipping, weight decay and each dropout are on: a retuned
model compiles nothing, and its `compile` job does not run again.
"""

from __future__ import annotations

# modes whose compiled code is cached on disk (Numba, C), so compiling ahead saves the train
# job's compile; FAST_COMPILE compiles nothing, JAX compiles per batch shape in the train job
CACHED_MODES = (None, "FAST_RUN", "NUMBA", "CVM", "C")
STRUCTURE = ("cell", "layers", "bptt_truncate", "tie_weights", "output", "dtype", "mode")
STEP_KIND = ("schedule", "optimizer", "variational")  # of the training settings, kept as they are
SWITCHES = ("clip_norm", "weight_decay", "dropout", "recurrent_dropout")  # on when > 0


def graph_spec(spec: dict) -> dict:
    """The part of a validated model entry (defaults filled in) that its graphs depend on."""
    train = spec["train"]
    return {k: spec.get(k) for k in STRUCTURE} | {
        "embedding": spec.get("embedding") is not None,
        "train": {k: train[k] for k in STEP_KIND} | {k: train[k] > 0 for k in SWITCHES},
    }


def compiles_ahead(spec: dict, default_mode: str | None = None) -> bool:
    """Whether a model entry's graphs are worth compiling before its training: its mode (or
    `default_mode`, RNNLM_MODE, when it names none) caches compiled code."""
    return (spec.get("mode") or default_mode or None) in CACHED_MODES


def stand_in_spec(graph: dict, width: int) -> dict:
    """A model entry with the graphs of `graph` and `width` units per layer: what the
    `compile` job builds (the numbers stand in for any others)."""
    train = graph["train"]
    on = {"clip_norm": 1.0, "weight_decay": 0.01, "dropout": 0.5, "recurrent_dropout": 0.5}
    return {k: graph[k] for k in STRUCTURE} | {
        "hidden": width,
        "embedding": width if graph["embedding"] else None,
        "train": {k: train[k] for k in STEP_KIND} | {k: on[k] if train[k] else 0.0 for k in SWITCHES},
    }
