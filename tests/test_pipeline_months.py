"""Month after month: the README's "Adding a month" steps, verbatim, with real snakemake; every
change to data or settings retrains (never a stale model, never a manual step), and
`init_from: previous` starts from the last run's parameters."""

import logging
import re
import shutil

import numpy as np
import pytest
from helpers import Workflow, load_config

from rnnlm.data.batching import SplitReader
from rnnlm.models.io import load_model, read_model
from rnnlm.training.checkpoint import fingerprint
from rnnlm.training.schedule import architecture, train_settings
from rnnlm.training.train import train_model

BASE = load_config("months")
MODEL = BASE["models"]["m"]
MONTH = {"c": {"path": "resources/synthetic/c.csv", "synthetic": True}}


def train_log(workdir):
    return (workdir / "logs/train/m.log").read_text()


@pytest.fixture(scope="module")
def finished(new_workflow):
    """A finished run of two months."""
    workflow = new_workflow("months")
    workflow.run(*workflow.configure(BASE))
    return workflow


@pytest.fixture
def workdir(finished, tmp_path) -> Workflow:
    """A copy of the finished run (mtimes kept), so that every test starts from the same place."""
    copy = tmp_path / "run"
    shutil.copytree(finished.workdir, copy, symlinks=True)
    return Workflow(copy)


def test_adding_a_month_retrains_on_all_months_with_no_manual_step(workdir):
    before = read_model(workdir / "results/models/m/model.npz")[1]
    args = workdir.configure(BASE | {"dumps": BASE["dumps"] | MONTH})
    jobs = workdir.planned(*args)
    assert jobs["tokenize"] == 1 and jobs["encode"] == 3 and jobs["train"] == 1
    workdir.run(*args)
    log = train_log(workdir)
    assert "the data or settings changed since the checkpoints" in log and "training afresh" in log
    assert "resuming from" not in log
    after = read_model(workdir / "results/models/m/model.npz")[1]
    assert after["steps"] > 0 and after["vocab_hash"] != before["vocab_hash"]
    assert len({p.parent for p in (workdir / "results/checkpoints/m").glob("*/step-*.npz")}) == 2  # both runs kept
    assert workdir.planned(*args) == {}


def test_with_a_frozen_vocabulary_and_init_from_a_new_month_continues_from_the_last_model(workdir):
    shutil.copy(workdir / "results/vocab.parquet", workdir / "vocab-frozen.parquet")
    frozen = BASE | {"vocab": {"frozen": "vocab-frozen.parquet"}}
    frozen["models"] = {"m": MODEL | {"train": MODEL["train"] | {"init_from": "previous"}}}
    workdir.run(*workdir.configure(frozen))  # same vocabulary, same data, new setting: a new run
    first = read_model(workdir / "results/models/m/model.npz")[1]
    args = workdir.configure(frozen | {"dumps": BASE["dumps"] | MONTH})
    jobs = workdir.planned(*args)
    assert jobs["tokenize"] == jobs["encode"] == 1 and "vocab" not in jobs and jobs["train"] == 1
    workdir.run(*args)
    log = train_log(workdir)
    assert re.search(r"train m: starting from the parameters of results/checkpoints/m/[0-9a-f]+/step-\d+\.npz", log)
    after = read_model(workdir / "results/models/m/model.npz")[1]
    assert after["vocab_hash"] == first["vocab_hash"] and after["steps"] > 0


@pytest.mark.parametrize(
    "change",
    [
        {"split": {"valid": 0.1, "test": 0.05}},
        {"models": {"m": MODEL | {"train": MODEL["train"] | {"epochs": 3}}}},
        {"models": {"m": MODEL | {"train": MODEL["train"] | {"learning_rate": 0.01}}}},
    ],
)
def test_a_changed_split_epoch_count_or_learning_rate_reruns_training(finished, change):
    assert finished.planned(*finished.configure(BASE | change, "changed.yaml"))["train"] == 1


def test_a_changed_split_retrains_afresh_and_never_resumes_the_old_run(workdir):
    args = workdir.configure(BASE | {"split": {"valid": 0.1, "test": 0.05}})
    workdir.run("results/models/m/model.npz", *args)
    assert "training afresh" in train_log(workdir) and "resuming from" not in train_log(workdir)


def test_the_fingerprint_covers_data_vocabulary_architecture_and_settings_not_cadence(finished):
    encoded = [str(finished / f"results/encoded/{d}.parquet") for d in ("a", "b")]
    arch, settings = architecture(MODEL), train_settings(MODEL)
    base = fingerprint(encoded, "v", arch, settings)
    assert fingerprint(encoded, "v", arch, settings | {"checkpoint_every": 7, "keep_checkpoints": 9}) == base
    assert fingerprint(encoded[:1], "v", arch, settings) != base
    assert fingerprint(encoded, "w", arch, settings) != base
    assert fingerprint(encoded, "v", arch | {"hidden": 17}, settings) != base
    assert fingerprint(encoded, "v", arch, settings | {"learning_rate": 0.1}) != base


def test_a_warm_start_begins_with_the_old_models_loss_on_the_first_batch(finished, tmp_path, caplog):
    caplog.set_level(logging.INFO, "rnnlm")
    encoded = [str(finished / f"results/encoded/{d}.parquet") for d in ("a", "b")]
    vocab, old_path = str(finished / "results/vocab.parquet"), finished / "results/models/m/model.npz"
    spec = MODEL | {"train": MODEL["train"] | {"init_from": str(old_path), "max_steps": 1, "seed": 5}}
    train_model("warm", spec, encoded, vocab, str(tmp_path / "w.npz"), str(tmp_path / "h.csv"), str(tmp_path / "ck"))
    logged = float(re.search(r"train warm: first step .* its loss (\d+\.\d+)", caplog.text).group(1))
    old, _ = load_model(old_path, mode="FAST_COMPILE")
    s = train_settings(spec)
    reader = SplitReader(encoded, "train", s["max_length"])
    first = next(reader.batches(0, 5, s["batch_size"], s["max_tokens"], s["buffer"]))
    total, count = old.compiled.loss_over([first])
    assert logged == pytest.approx(total / count, abs=2e-6)
    fresh = MODEL | {"train": MODEL["train"] | {"max_steps": 1, "seed": 5}}
    caplog.clear()
    train_model("cold", fresh, encoded, vocab, str(tmp_path / "c.npz"), str(tmp_path / "h2.csv"), str(tmp_path / "c"))
    cold = float(re.search(r"train cold: first step .* its loss (\d+\.\d+)", caplog.text).group(1))
    assert cold > logged + 0.5  # the trained model is far better than a fresh one on that batch
    assert np.isfinite(cold)
