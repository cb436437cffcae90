"""Training, checkpoints and resume (a real SIGKILL), evaluation, generation and scoring."""

import json
import logging
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from html import escape
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest
from helpers import REPO, Workflow, load_config, model_params, report_files

from rnnlm import RnnlmError
from rnnlm.models.io import read_model, save_npz
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
    assert len(logs) == 19  # 2 each of synthetic_corpus, tokenize, count, encode; 11 more, one per rule
    assert [str(p.relative_to(trained)) for p in logs if not p.read_text().strip()] == []
    assert re.search(
        r"count a: the train split's [\d,]+ sentences of [\d,]+: [\d,]+ tokens of [\d,]+ types",
        (trained / "logs/count/a.log").read_text(),
    )
    assert "synthetic corpus a: 400 comments" in (trained / "logs/synthetic_corpus/a.csv.log").read_text()
    assert "generate tiny: 5 samples" in (trained / "logs/generate/tiny.log").read_text()
    assert "best on test:" in (trained / "logs/summary.log").read_text()
    assert "gradcheck tiny: passed" in (trained / "logs/gradcheck/tiny.log").read_text()
    # the long stages' progress lines (every 5 s, and a last one at 100%)
    baselines = (trained / "logs/baselines.log").read_text()
    assert re.search(
        r"baselines: count kneser_ney_3 on train: [\d,]+ sentences \(.*, 100\.0%, ETA 0:00:00\)", baselines
    )
    evaluate = (trained / "logs/evaluate/tiny.log").read_text()
    assert re.search(r"evaluate tiny on test: [\d,]+ tokens \(.*, 100\.0%, ETA 0:00:00\)", evaluate)


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
    shown = report_files(trained / "results/report.html")
    assert sorted(shown) == [
        "results/comparison.png",
        "results/gradcheck/tiny.html",
        "results/models/tiny/eval.html",
        "results/models/tiny/loss.png",
        "results/models/tiny/samples.html",
        "results/summary.html",
        "results/tokens/tokenization.html",
    ]
    assert shown["results/comparison.png"][:4] == shown["results/models/tiny/loss.png"][:4] == b"\x89PNG"
    eval_page = shown["results/models/tiny/eval.html"].decode()
    figures = test["tiny"]
    tiny = f"<td>tiny</td><td class=n>{figures['nats_per_token']:.4f}</td><td class=n>{figures['perplexity']:.2f}"
    assert tiny in eval_page and tiny in shown["results/summary.html"].decode()
    assert all(f"<li>{escape(s)}</li>" in shown["results/models/tiny/samples.html"].decode() for s in samples)
    assert "Gradient check of tiny: passed" in shown["results/gradcheck/tiny.html"].decode()
    assert '<td>a</td><td class="n">400</td>' in shown["results/tokens/tokenization.html"].decode()


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
    while not (checkpoints.exists() and any(checkpoints.glob("*/step-*.npz"))):  # (in its fingerprint's folder)
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
        assert len(list(checkpoints.glob(f"*/step-{int(stopped.group(1)):09d}.npz"))) == 1
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


def test_checkpoints_are_kept_by_fingerprint_so_going_back_resumes_and_corrupt_ones_are_skipped(tmp_path, caplog):
    caplog.set_level(logging.INFO, "rnnlm")

    def write(ck, *steps):
        for step in steps:
            ck.write(step, {"live": {"W": np.full(2, step)}, "best": {}}, {"step": step, "epoch": 0})

    a = Checkpoints(tmp_path, "aaaa", keep=2)
    write(a, 10, 20, 30)
    assert [p.name for p in a.paths()] == ["step-000000030.npz", "step-000000020.npz"]
    (tmp_path / "aaaa/step-000000040.npz").write_bytes(b"PK\x03\x04 truncated")
    groups, meta = a.latest()
    assert meta["step"] == 30 and groups["live"]["W"].tolist() == [30, 30]
    assert "skipping unreadable checkpoint" in caplog.text
    b = Checkpoints(tmp_path, "bbbb")
    assert b.latest() is None and "training afresh" in caplog.text  # other data or settings: never resumed
    params, previous_meta = b.previous_model()  # what init_from: previous starts from
    assert params["W"].tolist() == [30, 30] and previous_meta["fingerprint"] == "aaaa"
    write(b, 5)
    groups, meta = Checkpoints(tmp_path, "aaaa").latest()  # A -> B -> A: resumes A where it was
    assert meta["step"] == 30 and meta["fingerprint"] == "aaaa"
    for i, name in enumerate(["cccc", "dddd", "eeee"]):  # more runs than are kept: the oldest go
        write(Checkpoints(tmp_path, name), 100 + i)
        time.sleep(0.01)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bbbb", "cccc", "dddd", "eeee"]
    legacy = tmp_path / "m"  # the older layout: step files in the folder itself and in previous/
    (legacy / "previous").mkdir(parents=True)
    save_npz(
        legacy / "step-000000007.npz", {"live": {"W": np.zeros(2)}}, {"fingerprint": "ffff", "step": 7, "epoch": 0}
    )
    save_npz(legacy / "previous/step-000000003.npz", {"live": {"W": np.zeros(2)}}, {"fingerprint": "gggg"})
    assert Checkpoints(legacy, "ffff").latest()[1]["step"] == 7
    assert (legacy / "gggg/step-000000003.npz").exists()


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


def test_a_model_file_alone_scores_and_generates_as_its_text_was_prepared(trained, rnnlm_cli, tmp_path):
    """Copied to an empty folder, model.npz needs nothing else: it holds its vocabulary, how
    its text was prepared (normalize: reddit here) and the fingerprint of its data."""
    shutil.copy(trained / "results/models/tiny/model.npz", tmp_path / "m.npz")
    meta = read_model(tmp_path / "m.npz")[1]
    assert meta["vocabulary"][:3] == ["SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN"]
    assert meta["text"]["normalize"] == "reddit" and meta["text"]["tokenizer"] == "nltk-3.10-exact"
    assert len(meta["fingerprint"]) >= 16
    text = "Some **bold** words &amp; more."
    alone = rnnlm_cli("score", "--model", "m.npz", text, cwd=tmp_path)
    assert alone.returncode == 0 and alone.stderr == "", alone.stderr
    tokens = [t["token"] for t in json.loads(alone.stdout)["tokens"]]
    assert tokens == ["some", "bold", "words", "&", "more", ".", "SENTENCE_END"]  # reddit's cleaning
    other = rnnlm_cli("score", "--model", "m.npz", "--normalize", "tutorial", text, cwd=tmp_path)
    assert other.returncode == 0 and other.stderr.strip() == (
        "rnnlm: warning: m.npz was trained on text prepared with normalize: reddit; using --normalize tutorial as asked"
    )
    assert [t["token"] for t in json.loads(other.stdout)["tokens"]] != tokens
    generated = rnnlm_cli("generate", "--model", "m.npz", "-n", "2", cwd=tmp_path)
    assert generated.returncode == 0 and len(generated.stdout.splitlines()) == 2, generated.stderr


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
    assert "interpolation" not in alone
    assert mixed["interpolation"] == {"with": "kneser_ney_3", "model_weight": weight}
    assert half["interpolation"]["model_weight"] == 0.5
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


def test_kenlm_reads_the_pipelines_arpa_file_with_the_test_figure_of_baselines(trained):
    """results/ngram/kneser_ney_3.arpa read by KenLM: the test split's text, OOV words as
    <unk>, gives the Kneser-Ney test perplexity of baselines.json."""
    import kenlm

    from rnnlm.data.batching import SplitReader
    from rnnlm.data.vocab import load_vocab

    tokens = load_vocab(trained / "results/vocab.parquet")["token"].tolist()
    lm = kenlm.Model(str(trained / "results/ngram/kneser_ney_3.arpa"))
    log10p, count = 0.0, 0
    encoded = sorted(str(p) for p in (trained / "results/encoded").glob("*.parquet"))
    assert len(encoded) == 2
    for ids in SplitReader(encoded, "test").sentences():
        words = ["<unk>" if tokens[i] == "UNKNOWN_TOKEN" else tokens[i] for i in ids[1:-1]]
        log10p += lm.score(" ".join(words))
        count += len(ids) - 1
    expected = json.loads((trained / "results/baselines.json").read_text())["test"]["kneser_ney_3"]
    assert count == expected["tokens"]
    assert math.exp(-log10p * math.log(10) / count) == pytest.approx(expected["perplexity"], rel=1e-5)


def test_generate_gives_n_samples_or_one_line_saying_why(trained, rnnlm_cli):
    model = ("--model", "results/models/tiny/model.npz")
    impossible = rnnlm_cli("generate", *model, "-n", "20", "--min-length", "28", "--max-length", "29", cwd=trained)
    assert impossible.returncode == 2 and len(impossible.stderr.strip().splitlines()) == 1
    assert "of 20 samples ended within max_length 29 with at least min_length 28 words" in impossible.stderr
    many = rnnlm_cli("generate", *model, "-n", "300", "--min-length", "1", "--max-length", "60", cwd=trained)
    assert many.returncode == 0 and len(many.stdout.splitlines()) == 300  # drawn 256 at a time, as they come
    for temperature in ("1e-320", "1e-300", "0.5"):
        proc = rnnlm_cli("generate", *model, "-n", "3", "--temperature", temperature, "--max-length", "60", cwd=trained)
        assert "internal error" not in proc.stderr
        assert (proc.returncode, len(proc.stdout.splitlines())) == (0, 3) or "samples ended within" in proc.stderr


def test_a_line_with_nothing_to_score_gets_its_own_result_and_results_stream(trained, rnnlm_cli):
    lines = ["&gt;", "One two.", "**", "Three four."] * 200  # 800 lines: more than one scoring batch
    proc = rnnlm_cli("score", "--model", "results/models/tiny/model.npz", cwd=trained, stdin="\n".join(lines))
    assert proc.returncode == 0, proc.stderr
    results = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(results) == 800
    assert results[0] == {
        "text": "&gt;",
        "logprob": None,
        "perplexity": None,
        "tokens": [],
        "unknown": 0,
        "skipped": "nothing to score: no word is left after cleaning",
    }
    assert results[1]["logprob"] < 0 and results[1]["text"] == "One two." == results[797]["text"]
    assert results[1]["logprob"] == pytest.approx(results[797]["logprob"], rel=1e-5)  # in any batch (float32)


def test_perplexity_of_the_test_splits_own_text_is_evaluations_test_figure(trained, rnnlm_cli, tmp_path):
    """`rnnlm perplexity` on the test split's sentences, written as text one per line, gives
    the figures of eval.json: the model alone, without OOV targets, and mixed with KN-3."""
    lines = []
    for dump in ("a", "b"):
        tokens = pq.read_table(trained / f"results/tokens/{dump}.parquet", columns=["comment_id", "sentence", "tokens"])
        split = pq.read_table(trained / f"results/encoded/{dump}.parquet", columns=["comment_id", "sentence", "split"])
        test = {(c, s) for c, s, p in zip(*(split.column(k).to_pylist() for k in split.column_names)) if p == "test"}
        rows = zip(*(tokens.column(k).to_pylist() for k in tokens.column_names))
        lines += [" ".join(t) for c, s, t in rows if (c, s) in test]
    (tmp_path / "test.txt").write_text("\n".join(lines) + "\n")
    expected = json.loads((trained / "results/models/tiny/eval.json").read_text())
    model = str(trained / "results/models/tiny/model.npz")
    alone = json.loads(rnnlm_cli("perplexity", str(tmp_path / "test.txt"), "--model", model, cwd=trained).stdout)
    figure = expected["test"]["tiny"]
    assert alone["lines"] == len(lines) and alone["tokens"] == figure["tokens"]
    assert alone["perplexity"] == pytest.approx(figure["perplexity"], rel=1e-5)
    assert alone["oov_rate"] == pytest.approx(expected["oov_rate"]["test"], abs=1e-12)
    assert alone["perplexity_without_oov"] == pytest.approx(
        expected["without_oov"]["test"]["tiny"]["perplexity"], rel=1e-5
    )
    mixed = rnnlm_cli("perplexity", str(tmp_path / "test.txt"), "--model", model, "--interpolate", "kn", cwd=trained)
    result = json.loads(mixed.stdout)
    assert result["perplexity"] == pytest.approx(expected["test"]["tiny+kneser_ney_3"]["perplexity"], rel=1e-5)
    assert result["interpolation"]["model_weight"] == expected["interpolation"]["model_weight"]
