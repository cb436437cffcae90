"""Training, checkpoints and resume (a real SIGKILL), evaluation, generation and scoring."""

import json
import logging
import math
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from helpers import REPO, Workflow, load_config, model_params

from rnnlm import RnnlmError
from rnnlm.training.checkpoint import Checkpoints

TINY = load_config("training")


@pytest.fixture(scope="module")
def trained(new_workflow):
    """An uninterrupted run of the whole pipeline on a tiny config (its directory)."""
    workflow = new_workflow("trained")
    workflow.run(*workflow.configure(TINY))
    return workflow.workdir


def test_every_job_log_says_what_the_job_did(trained):
    logs = sorted((trained / "logs").rglob("*.log"))
    assert len(logs) == 17  # 2 each of synthetic_corpus, tokenize, count, encode; 9 more, one per rule
    assert [str(p.relative_to(trained)) for p in logs if not p.read_text().strip()] == []
    assert re.search(
        r"count a: the train split's [\d,]+ sentences of [\d,]+: [\d,]+ tokens of [\d,]+ types",
        (trained / "logs/count/a.log").read_text(),
    )
    assert "synthetic corpus a: 400 comments" in (trained / "logs/synthetic_corpus/a.csv.log").read_text()
    assert "generate tiny: 5 samples" in (trained / "logs/generate/tiny.log").read_text()
    assert "best on test:" in (trained / "logs/summary.log").read_text()
    assert "gradcheck tiny: passed" in (trained / "logs/gradcheck/tiny.log").read_text()


def test_pipeline_trains_evaluates_generates_and_summarizes(trained):
    model = trained / "results/models/tiny"
    history = (model / "history.csv").read_text().splitlines()
    assert history[0] == "step,epoch,learning_rate,train_loss,valid_loss,valid_perplexity,tokens,seconds"
    assert len(history) >= 4
    assert (model / "loss.png").read_bytes()[:4] == b"\x89PNG"
    result = json.loads((model / "eval.json").read_text())
    test = result["test"]
    assert set(test) == {"tiny", "tiny+kneser_ney_3", "uniform", "unigram", "kneser_ney_3", "true_source"}
    weight = result["interpolation"]["model_weight"]
    assert 0 <= weight <= 1 and result["interpolation"]["tuned_on"] == "valid"
    valid = result["valid"]  # tuned on valid over a grid with both ends: never worse than either part
    assert (
        valid["tiny+kneser_ney_3"]["nats_per_token"]
        <= min(valid["tiny"]["nats_per_token"], valid["kneser_ney_3"]["nats_per_token"]) + 1e-9
    )
    assert set(result["without_oov"]["test"]) == set(test) - {"true_source"}
    assert result["without_oov"]["test"]["tiny"]["tokens"] < test["tiny"]["tokens"]
    assert 0 < result["oov_rate"]["test"] < 0.2
    vocab_size = json.loads((trained / "results/baselines.json").read_text())["vocab_size"]
    assert test["uniform"]["nats_per_token"] == pytest.approx(math.log(vocab_size))
    assert test["true_source"]["perplexity"] < test["tiny"]["perplexity"] < test["unigram"]["perplexity"]
    assert test["tiny"]["tokens"] == test["unigram"]["tokens"] == test["true_source"]["tokens"]
    samples = (model / "samples.txt").read_text().splitlines()
    assert len(samples) == 5 and all("UNKNOWN_TOKEN" not in s and len(s.split()) >= 5 for s in samples)
    summary = (trained / "results/summary.md").read_text()
    assert "| tiny |" in summary and "| kneser_ney_3 |" in summary
    Workflow(trained).run("--report", "results/report.html", "--configfile", str(trained / "config.yaml"))
    report = (trained / "results/report.html").read_text()
    assert "loss.png" in report and "samples.txt" in report and "summary.md" in report


def train_script(snakemake_pid: int):
    import psutil

    for child in psutil.Process(snakemake_pid).children(recursive=True):
        if any(part.endswith(".train.py") for part in child.cmdline()):
            return child
    return None


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_interrupted_training_resumes_to_the_same_parameters(trained, tmp_path, how):
    """SIGKILL (a crash) loses the steps since the last checkpoint; SIGTERM (Slurm's time
    limit or preemption) checkpoints first. Either way the rerun ends where an uninterrupted
    run does, bit for bit."""
    args = Workflow(tmp_path).configure(TINY)
    cmd = [
        str(Path(sys.executable).with_name("snakemake")),
        "--snakefile",
        str(REPO / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--cores",
        "2",
        "results/models/tiny/model.npz",
        *args,
    ]
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    checkpoints = tmp_path / "results/checkpoints/tiny"
    deadline = time.monotonic() + 300
    while not (checkpoints.exists() and any(checkpoints.glob("step-*.npz"))):
        assert proc.poll() is None, "training ended before it could be interrupted"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    if how == "SIGKILL":
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        Workflow(tmp_path).run("--unlock", *args)
    else:
        train_script(proc.pid).send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) != 0
        stopped = re.search(
            r"stopped by SIGTERM at step (\d+); checkpoint saved", (tmp_path / "logs/train/tiny.log").read_text()
        )
        assert stopped, (tmp_path / "logs/train/tiny.log").read_text()
        assert (checkpoints / f"step-{int(stopped.group(1)):09d}.npz").exists()
    assert not (tmp_path / "results/models/tiny/model.npz").exists()
    Workflow(tmp_path).run("results/models/tiny/model.npz", *args)
    assert "resuming from" in (tmp_path / "logs/train/tiny.log").read_text()
    a, b = (
        model_params(trained / "results/models/tiny/model.npz"),
        model_params(tmp_path / "results/models/tiny/model.npz"),
    )
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)

    def history(workdir):  # every column but the wall-clock seconds
        lines = (workdir / "results/models/tiny/history.csv").read_text().splitlines()
        return [line.rsplit(",", 1)[0] for line in lines]

    assert history(tmp_path) == history(trained)


def test_checkpoints_of_another_fingerprint_are_set_aside_and_corrupt_ones_skipped(tmp_path, caplog):
    caplog.set_level(logging.INFO, "rnnlm")
    ck = Checkpoints(tmp_path, "fingerprint-a", keep=2)
    for step in (10, 20, 30):
        ck.write(step, {"live": {"W": np.full(2, step)}, "best": {}}, {"step": step, "epoch": 0})
    assert [p.name for p in ck.paths()] == ["step-000000030.npz", "step-000000020.npz"]
    (tmp_path / "step-000000040.npz").write_bytes(b"PK\x03\x04 truncated")
    groups, meta = ck.latest()
    assert meta["step"] == 30 and groups["live"]["W"].tolist() == [30, 30]
    assert "skipping unreadable checkpoint" in caplog.text
    other = Checkpoints(tmp_path, "fingerprint-b")
    assert other.latest() is None  # never resumed: moved aside instead
    assert not any(tmp_path.glob("step-*.npz"))
    assert sorted(p.name for p in (tmp_path / "previous").iterdir()) == [
        "step-000000020.npz",
        "step-000000030.npz",
        "step-000000040.npz",
    ]
    params, previous_meta = other.previous_model()
    assert params["W"].tolist() == [30, 30] and previous_meta["fingerprint"] == "fingerprint-a"
    assert "training afresh; the old checkpoints are kept in" in caplog.text


def test_diverging_training_stops_with_a_clear_error(trained, tmp_path):
    from rnnlm.training.train import train_model

    spec = TINY["models"]["tiny"] | {
        "train": {
            "schedule": "fast",
            "optimizer": "sgd",
            "learning_rate": 1e38,
            "clip_norm": 0.0,
            "checkpoint_every": 1,
        }
    }
    encoded = [str(trained / f"results/encoded/{d}.parquet") for d in ("a", "b")]
    message = r"loss is (nan|inf) at step \d+ \(learning rate 1e\+38\); stopped\. Last good checkpoint: .*step-"
    with pytest.raises(RnnlmError, match=message):
        train_model(
            "boom",
            spec,
            encoded,
            str(trained / "results/vocab.parquet"),
            str(tmp_path / "m.npz"),
            str(tmp_path / "h.csv"),
            str(tmp_path / "ck"),
        )
    assert not (tmp_path / "m.npz").exists()


def test_score_ranks_real_sentences_above_shuffled_ones(trained, rnnlm_cli):
    from rnnlm.data.synthetic import Source, generate_comments

    source = Source.build(TINY["synthetic"].get("seed", 2015), topics=3, topic_boost=8.0)
    sentences = [" ".join(s) for c in generate_comments(source, 20, seed=99) for s in c.sentences[:1]][:12]
    rng = np.random.default_rng(0)
    blocks = []
    for s in sentences:
        words = s.split()
        body, end = words[:-1], words[-1]
        shuffled = " ".join(list(rng.permutation(body)) + [end])
        blocks.append(f"{shuffled}\n{s}\n")
    proc = rnnlm_cli(
        "score", "--nbest", "--model", "results/models/tiny/model.npz", cwd=trained, stdin="\n".join(blocks)
    )
    assert proc.returncode == 0, proc.stderr
    ranked = [json.loads(line)["ranked"] for line in proc.stdout.splitlines()]
    assert len(ranked) == len(sentences)
    firsts = [r[0]["text"] for r in ranked]
    assert sum(f == s for f, s in zip(firsts, sentences)) == len(sentences)
    one = rnnlm_cli("score", "--model", "results/models/tiny/model.npz", "zzzqx flarp .", cwd=trained)
    scored = json.loads(one.stdout)
    assert scored["unknown"] == 2 and [t.get("unknown", False) for t in scored["tokens"]] == [True, True, False, False]
    assert scored["logprob"] == pytest.approx(sum(math.log(t["prob"]) for t in scored["tokens"]))


def test_generate_cli_and_loading_needs_only_model_and_vocab(trained, rnnlm_cli, tmp_path):
    import shutil

    shutil.copy(trained / "results/models/tiny/model.npz", tmp_path / "model.npz")
    shutil.copy(trained / "results/vocab.parquet", tmp_path / "vocab.parquet")
    proc = rnnlm_cli(
        "generate",
        "--model",
        "model.npz",
        "--vocab",
        "vocab.parquet",
        "-n",
        "3",
        "--temperature",
        "0.7",
        "--seed",
        "1",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert len(lines) == 3 and all(len(line.split()) >= 5 for line in lines)
    again = rnnlm_cli(
        "generate",
        "--model",
        "model.npz",
        "--vocab",
        "vocab.parquet",
        "-n",
        "3",
        "--temperature",
        "0.7",
        "--seed",
        "1",
        cwd=tmp_path,
    )
    assert again.stdout == proc.stdout
    missing = rnnlm_cli("generate", "--model", "nope", cwd=tmp_path)
    assert missing.returncode == 2 and "results/models/nope/model.npz: no such model" in missing.stderr


def _train(trained, tmp_path, name, **train):
    from rnnlm.training.train import train_model

    spec = TINY["models"]["tiny"] | {"train": TINY["models"]["tiny"]["train"] | train}
    encoded = [str(trained / f"results/encoded/{d}.parquet") for d in ("a", "b")]
    out = tmp_path / name
    summary = train_model(
        name,
        spec,
        encoded,
        str(trained / "results/vocab.parquet"),
        str(out / "m.npz"),
        str(out / "h.csv"),
        str(tmp_path / "ck" / name),
    )
    return summary, out


def test_max_steps_stop_survives_a_resume_and_epoch_ends_validate_once(trained, tmp_path):
    from rnnlm.data.batching import SplitReader

    sentences, _ = SplitReader([str(trained / f"results/encoded/{d}.parquet") for d in ("a", "b")], "train").count()
    per_epoch = math.ceil(sentences / 16)
    settings = {"eval_every": per_epoch, "max_steps": per_epoch + 3, "checkpoint_every": per_epoch + 3}
    first, out = _train(trained, tmp_path, "m", **settings)
    assert first["steps"] == per_epoch + 3 and first["stopped"] == f"max_steps {per_epoch + 3} reached"
    steps = [line.split(",")[0] for line in (out / "h.csv").read_text().splitlines()[1:]]
    assert len(steps) == len(set(steps))  # the epoch end that is also an eval step: one row
    # a crash after the last checkpoint but before the model was written: the rerun adds nothing
    (out / "m.npz").unlink()
    again, _ = _train(trained, tmp_path, "m", **settings)
    assert again["steps"] == first["steps"]


def test_score_does_not_predict_sentence_starts(trained, rnnlm_cli):
    proc = rnnlm_cli("score", "--model", "results/models/tiny/model.npz", "One two. Three four.", cwd=trained)
    scored = json.loads(proc.stdout)
    assert [t["token"] for t in scored["tokens"]] == [
        "one",
        "two",
        ".",
        "SENTENCE_END",
        "three",
        "four",
        ".",
        "SENTENCE_END",
    ]
    empty = rnnlm_cli("generate", "--model", "results/models/tiny/model.npz", "--prefix", "  ", cwd=trained)
    assert empty.returncode == 2 and "has no words" in empty.stderr


def test_score_interpolates_with_kneser_ney_at_the_evaluated_weight(trained, rnnlm_cli):
    """`rnnlm score --interpolate kn`: every token's probability is λ·P_model + (1-λ)·P_KN with
    evaluation's λ (eval.json), the KN model being the pipeline's artifact."""
    from rnnlm.data.vocab import load_vocab
    from rnnlm.evaluation.ngram import KneserNey

    text = "One two. Three four."

    def score(*extra):
        proc = rnnlm_cli("score", "--model", "tiny", *extra, text, cwd=trained)
        assert proc.returncode == 0, proc.stderr
        return json.loads(proc.stdout)

    alone, mixed, half = score(), score("--interpolate", "kn"), score("--interpolate", "kn", "--weight", "0.5")
    weight = json.loads((trained / "results/models/tiny/eval.json").read_text())["interpolation"]["model_weight"]
    assert 0 < weight < 1
    kn = KneserNey.load(next((trained / "results/ngram").glob("kneser_ney_*.npz")))
    index = {t: i for i, t in enumerate(load_vocab(trained / "results/vocab.parquet")["token"])}
    ids = [index.get(t, index["UNKNOWN_TOKEN"]) for t in ["SENTENCE_START", "one", "two", ".", "SENTENCE_END"]]
    ids += [index.get(t, index["UNKNOWN_TOKEN"]) for t in ["SENTENCE_START", "three", "four", ".", "SENTENCE_END"]]
    p_kn = np.exp(np.concatenate([kn.token_logprobs(ids[:5]), kn.token_logprobs(ids[5:])]))
    p_model = np.array([t["prob"] for t in alone["tokens"]])
    for result, w in ((mixed, weight), (half, 0.5)):
        np.testing.assert_allclose([t["prob"] for t in result["tokens"]], w * p_model + (1 - w) * p_kn, rtol=1e-9)
        assert result["logprob"] == pytest.approx(np.log(w * p_model + (1 - w) * p_kn).sum())
    bad = rnnlm_cli("score", "--model", "tiny", "--interpolate", "kn", "--weight", "1.5", text, cwd=trained)
    assert bad.returncode == 2 and "expected a number from 0 to 1, got '1.5'" in bad.stderr
