"""Compiling a model's graphs ahead of its training: what decides the graphs (`graph_spec`), a
stand-in that compiles the same graphs, and a compile job whose cache the train job reads."""

import copy
import json
import os
from pathlib import Path

import pytest
from helpers import load_config

from rnnlm.config import validate_config
from rnnlm.models.io import read_model
from rnnlm.training.graph_spec import STRUCTURE, compiles_ahead, graph_spec, stand_in_spec
from rnnlm.training.schedule import Schedule, architecture, train_settings


def entry(bundled_config, name, **change):
    """A validated model entry of the bundled config (defaults filled in), with `change`;
    `train` in `change` updates the entry's training settings."""
    config = copy.deepcopy(bundled_config)
    model = config["models"][name]
    model["train"] = model.get("train", {}) | change.pop("train", {})
    model |= change
    return validate_config(config)["models"][name]


RETUNED = [
    {"hidden": 300, "embedding": 300},
    {"seed": 7},
    {"threads": 2},
    {"train": {"learning_rate": 0.01, "epochs": 2, "batch_size": 64}},
    {"train": {"clip_norm": 1.0, "dropout": 0.1, "seed": 3}},
]
RESTRUCTURED = [
    {"cell": "lstm"},
    {"output": "class"},
    {"tie_weights": False},
    {"dtype": "float64"},
    {"mode": "CVM"},
    {"train": {"optimizer": "sgd"}},
    {"train": {"clip_norm": 0}},
    {"train": {"dropout": 0}},
    {"train": {"recurrent_dropout": 0.2}},
    {"train": {"weight_decay": 0.01}},
    {"train": {"schedule": "tutorial", "dropout": 0}},
]


@pytest.mark.parametrize("change", RETUNED)
def test_retuning_a_model_keeps_its_graph_spec(bundled_config, change):
    assert graph_spec(entry(bundled_config, "gru", **copy.deepcopy(change))) == graph_spec(entry(bundled_config, "gru"))


@pytest.mark.parametrize("change", RESTRUCTURED)
def test_a_change_of_structure_or_train_step_changes_the_graph_spec(bundled_config, change):
    assert graph_spec(entry(bundled_config, "gru", **copy.deepcopy(change))) != graph_spec(entry(bundled_config, "gru"))


@pytest.mark.parametrize(
    "name, change", [("rnn", {}), ("rnn", {"output": "class"}), ("gru", {}), *(("gru", c) for c in RESTRUCTURED)]
)
def test_the_stand_in_has_the_models_structure_and_train_step(bundled_config, name, change):
    spec = entry(bundled_config, name, **copy.deepcopy(change))
    stand_in = stand_in_spec(graph_spec(spec), 16)
    real, small = architecture(spec), architecture(stand_in)
    assert {k: small[k] for k in STRUCTURE if k in small} == {k: real[k] for k in STRUCTURE if k in real}
    assert (small["embedding"] is None) == (real["embedding"] is None) and small["hidden"] == 16
    assert stand_in.get("mode") == spec.get("mode")
    step, small_step = (Schedule(train_settings(s)).train_step() for s in (spec, stand_in))
    assert small_step.graph_key() == step.graph_key()


def test_only_modes_that_cache_compiled_code_compile_ahead():
    assert compiles_ahead({}) and compiles_ahead({"mode": "NUMBA"}) and compiles_ahead({"mode": "C"})
    assert not compiles_ahead({"mode": "FAST_COMPILE"}) and not compiles_ahead({"mode": "JAX"})
    assert not compiles_ahead({}, default_mode="FAST_COMPILE")  # RNNLM_MODE
    assert compiles_ahead({"mode": "FAST_RUN"}, default_mode="FAST_COMPILE")


def compiled_graphs(cache: Path) -> set[str]:
    """The files of PyTensor's Numba cache: each compiled graph and piece of one (the rest of
    the folder holds the C backend's modules, such as the gate's Python VM)."""
    return {str(p.relative_to(cache)) for p in (cache / "numba").rglob("*") if p.is_file()}


def test_the_compile_job_fills_the_cache_so_training_compiles_nothing(workflow, tmp_path):
    """The compile job builds a stand-in of the model (64 words, 16 units) and compiles its
    train step and per-token graph; the real model (another vocabulary, width and class
    boundaries) then trains and validates without writing one new entry to the cache. The
    cache is a fresh one (our own kernels' stays shared), so the job compiles cold."""
    config = load_config("months")
    config["models"] = {
        "ahead": {"cell": "rnn", "hidden": 9, "output": "class", "train": {"schedule": "tutorial", "max_steps": 30}},
        "light": {"cell": "rnn", "hidden": 9, "mode": "FAST_COMPILE"},
    }
    args = workflow.configure(config)
    cache = tmp_path / "compile-cache"
    flags = [f for f in os.environ["PYTENSOR_FLAGS"].split(",") if not f.startswith("base_compiledir=")]
    env = {"PYTENSOR_FLAGS": ",".join([*flags, f"base_compiledir={cache}"]), "RNNLM_MODE": ""}
    assert workflow.planned(*args)["compile"] == 1  # not for the FAST_COMPILE model

    workflow.run("results/models/ahead/compiled.json", *args, extra_env=env)
    record = json.loads((workflow / "results/models/ahead/compiled.json").read_text())
    assert record["mode"] == "FAST_RUN" and record["seconds"]["train step"] > 0
    compiled = compiled_graphs(cache)
    assert len(compiled) > 10

    workflow.run("results/models/ahead/model.npz", *args, extra_env=env)
    _, meta = read_model(workflow / "results/models/ahead/model.npz")
    assert meta["stopped"] == "max_steps 30 reached" and meta["valid_loss"] > 0
    assert meta["vocab_size"] != 64 and len(meta["spec"]["classes"]) != 9  # not the stand-in's
    assert compiled_graphs(cache) == compiled

    retuned = copy.deepcopy(config)
    retuned["models"]["ahead"] |= {"hidden": 12, "train": {"schedule": "tutorial", "max_steps": 20, "seed": 4}}
    jobs = workflow.planned(*workflow.configure(retuned, "retuned.yaml"), "--", "results/models/ahead/model.npz")
    assert jobs["train"] == 1 and "compile" not in jobs
