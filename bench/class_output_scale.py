"""The class-factored softmax against the full one at the largest vocabulary fortunes supports.

At 8,000 words real text leaves many tokens out of vocabulary (8.5% of fortunes' test split),
so users raise `vocabulary_size`, and the full softmax's cost grows linearly with it. Debian's
`fortunes` (as in bench/real_text_quality.py) go through the pipeline; the vocabulary is every
word type seen at least `--min-count` (2) times in the train split, read from the pipeline's
own counts. config.yaml's default `gru` then trains twice, through the pipeline's train job,
one after the other on the same cores, from scratch, identical but for `output: full` and
`output: class`: same data order, dropout, schedule and `--epochs` cap (2 by default where
config.yaml says 6: the full softmax takes ~6 min an epoch on 2 cores; early stopping stays
on). Prints JSON: the vocabulary size, test OOV rates at 8,000 and at that size, each model's
training throughput (tokens/s from its first validation to its last: the compiles excluded,
validations included), seconds, steps and test perplexity, KN-3's, the speed ratio and
perplexity difference, and the verdict against the targets (class at least 5× faster, its
test perplexity at most 5% above full's).

    .venv/bin/python bench/class_output_scale.py [--workdir DIR] [--cores N] [--epochs N] [--min-count N] [--quick]
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
import os
import re
import shutil
import statistics
import sys
from pathlib import Path

import pandas as pd
import yaml
from real_text_quality import REPO, ensure_fortunes, fortunes, snakemake, write_csv_if_changed

from rnnlm import SPECIAL_TOKENS
from rnnlm.cli import positive_int
from rnnlm.config import defaults
from rnnlm.data.encode import encode_dump
from rnnlm.data.vocab import build_vocab
from rnnlm.models.io import read_model
from rnnlm.training.history import read_history

DUMP = "fortunes"
BASE_MODEL = "gru"  # config.yaml's default model
MODELS = {"gru_full": "full", "gru_class": "class"}  # trained in this order, never together
TUTORIAL_VOCABULARY = 8000
SPEED_TARGET = 5.0  # class output at least this many times faster than full
PERPLEXITY_TARGET = 0.05  # class test perplexity at most this fraction above full's
# the smoke test: 100 steps, with two validations to measure throughput between
QUICK_TRAIN = {"epochs": 1, "max_steps": 100, "eval_every": 50}
# the pipeline's outputs (rules/common.smk), relative to the workdir
TOKENS = f"results/tokens/{DUMP}.parquet"
COUNTS = f"results/counts/{DUMP}.parquet"
BASELINES = "results/baselines.json"
FIRST_STEP = re.compile(r"first step \(compiling included\) took ([\d.]+) s")
WINDOW_RATE = re.compile(r"steps/s, ([\d,]+) tokens/s")


def arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workdir", help="default: .cache/bench-class-output (-quick with --quick)")
    p.add_argument("--cores", type=positive_int, default=os.cpu_count() or 2)
    p.add_argument("--epochs", type=positive_int, default=2, help="the cap on both models' epochs (default 2)")
    p.add_argument(
        "--min-count", type=positive_int, default=2, help="train-split count a word needs to be in the vocabulary"
    )
    p.add_argument("--quick", action="store_true", help=f"smoke test: train {QUICK_TRAIN['max_steps']} steps only")
    args = p.parse_args()
    default = REPO / ".cache" / ("bench-class-output-quick" if args.quick else "bench-class-output")
    args.workdir = Path(args.workdir or default).resolve()
    return args


# ---------------------------------------------------------------- the pipeline


def model_specs(epochs: int, quick: bool) -> dict:
    """config.yaml's default model twice, differing only in the output layer."""
    base = yaml.safe_load((REPO / "config.yaml").read_text())["models"][BASE_MODEL]
    specs = {}
    for name, output in MODELS.items():
        spec = copy.deepcopy(base) | {"output": output}
        spec["train"] = spec.get("train", {}) | ({"epochs": epochs} | (QUICK_TRAIN if quick else {}))
        specs[name] = spec
    return specs


def write_config(workdir: Path, vocabulary_size: int, models: dict) -> None:
    config = {
        "dumps": {DUMP: {"path": str(workdir / "fortunes.csv")}},
        "models": models,
        "vocabulary_size": vocabulary_size,
        "normalize": "reddit",
    }
    (workdir / "bench.yaml").write_text(yaml.safe_dump(config))


def train_from_scratch(workdir: Path, name: str, cores: int) -> dict:
    """One model's train job alone on the cores, with nothing to resume (a finished run's last
    checkpoint would make it end at once) and upstream outputs as prepared (mtime triggers:
    an edit to a rule elsewhere must not redo a stage between the two models)."""
    shutil.rmtree(workdir / f"results/checkpoints/{name}", ignore_errors=True)
    shutil.rmtree(workdir / f"results/models/{name}", ignore_errors=True)
    load_before = os.getloadavg()[0]  # the machine is shared: say how busy it was
    seconds = snakemake(workdir, [f"results/models/{name}/model.npz"], cores, ("--rerun-triggers", "mtime"))
    load = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    return {"job_wall_seconds": round(seconds, 1), "load_average_1min_before_after": load}


# ---------------------------------------------------------------- the vocabulary


def types_seen(counts: pd.DataFrame, min_count: int) -> int:
    words = counts[~counts.token.isin(SPECIAL_TOKENS)]
    return int((words["count"] >= min_count).sum())


def test_oov_rate(workdir: Path, vocabulary_size: int) -> float:
    """The share of test targets (words and SENTENCE_END) out of a vocabulary of this size,
    built and applied by the pipeline's own functions, as its vocab and encode jobs would."""
    folder = workdir / "oov"
    folder.mkdir(exist_ok=True)
    vocab = folder / f"vocab-{vocabulary_size}.parquet"
    build_vocab([str(workdir / COUNTS)], vocabulary_size, str(vocab))
    split = defaults("split")
    counts = encode_dump(str(workdir / TOKENS), str(vocab), str(folder / f"encoded-{vocabulary_size}.parquet"), **split)
    return round(counts["test"]["unknown"] / counts["test"]["tokens"], 4)


# ---------------------------------------------------------------- the measurements


def steady_throughput(history: list[dict]) -> float | None:
    """Tokens/s from the first validation to the last: leaves out the compiles (the train step's
    in the first step, the loss graph's in the first validation) but keeps later validations,
    which are part of what training costs."""
    if len(history) < 2:
        return None
    first, last = history[0], history[-1]
    return round((last["tokens"] - first["tokens"]) / (last["seconds"] - first["seconds"]), 1)


def median_window_rate(log_text: str) -> float | None:
    """The median of the train log's ~10 s windows' tokens/s: the bare step rate (a window
    holding a validation is slower, the median ignores the few that do)."""
    rates = [float(r.replace(",", "")) for r in WINDOW_RATE.findall(log_text)]
    return round(statistics.median(rates), 1) if rates else None


def job_usage(workdir: Path, name: str) -> dict:
    """Peak memory and CPU seconds of the train job (Snakemake's benchmark file)."""
    with open(workdir / f"benchmarks/train/{name}.tsv", newline="") as f:
        row = next(csv.DictReader(f, delimiter="\t"))
    return {"max_rss_mb": float(row["max_rss"]), "cpu_seconds": float(row["cpu_time"])}


def model_result(workdir: Path, name: str) -> dict:
    _, meta = read_model(workdir / f"results/models/{name}/model.npz")
    history = read_history(workdir / f"results/models/{name}/history.csv")
    log_text = (workdir / f"logs/train/{name}.log").read_text()
    evaluation = json.loads((workdir / f"results/models/{name}/eval.json").read_text())
    first_step = FIRST_STEP.search(log_text)
    return {
        "output": MODELS[name],
        "classes": len(meta["spec"]["classes"]) - 1 if "classes" in meta["spec"] else None,
        "epochs_completed": meta["epochs"],
        "steps": meta["steps"],
        "tokens": meta["tokens"],
        "stopped": meta["stopped"],
        "train_seconds": meta["seconds"],
        "first_step_seconds": float(first_step.group(1)) if first_step else None,
        "tokens_per_second": steady_throughput(history),
        "tokens_per_second_overall": round(meta["tokens"] / meta["seconds"], 1),
        "median_window_tokens_per_second": median_window_rate(log_text),
        "valid_perplexity": round(evaluation["valid"][name]["perplexity"], 2),
        "test_perplexity": round(evaluation["test"][name]["perplexity"], 2),
    } | job_usage(workdir, name)


def kn_test_perplexity(workdir: Path) -> float:
    baselines = json.loads((workdir / BASELINES).read_text())
    return round(baselines["test"][f"kneser_ney_{baselines['kn_order']}"]["perplexity"], 2)


def ratio(cls: dict, full: dict, key: str) -> float | None:
    return round(cls[key] / full[key], 2) if cls[key] and full[key] else None


def verdict(full: dict, cls: dict) -> dict:
    speed = ratio(cls, full, "tokens_per_second")
    difference = cls["test_perplexity"] / full["test_perplexity"] - 1
    return {
        "speed_ratio_class_over_full": speed,
        "speed_ratio_overall": ratio(cls, full, "tokens_per_second_overall"),
        "speed_ratio_median_windows": ratio(cls, full, "median_window_tokens_per_second"),
        "test_perplexity_class_vs_full": round(difference, 4),
        "speed_target_met": speed is not None and speed >= SPEED_TARGET,
        "perplexity_target_met": difference <= PERPLEXITY_TARGET,
        "targets": f"class >= {SPEED_TARGET:g}x full's tokens/s, test perplexity <= full's +{PERPLEXITY_TARGET:.0%}",
    }


# ---------------------------------------------------------------- the bench


def choose_vocabulary(workdir: Path, min_count: int, models: dict, cores: int) -> dict:
    """Tokenize and count (which do not depend on the vocabulary), then size it from the counts."""
    write_config(workdir, TUTORIAL_VOCABULARY, models)
    snakemake(workdir, [COUNTS], cores)
    size = types_seen(pd.read_parquet(workdir / COUNTS), min_count) + len(SPECIAL_TOKENS)
    if size <= TUTORIAL_VOCABULARY:
        print(
            f"--min-count {min_count}: only {size:,} words (special tokens included) are seen that often in "
            f"train, not more than the {TUTORIAL_VOCABULARY:,} this bench compares against",
            file=sys.stderr,
        )
        raise SystemExit(2)
    oov = {f"at_{n}": test_oov_rate(workdir, n) for n in (TUTORIAL_VOCABULARY, size)}
    return {"vocabulary_size": size, "min_count_in_train": min_count, "oov_rate_test": oov}


def settings(args: argparse.Namespace) -> dict:
    if args.quick:
        return {"quick": "smoke test: a few steps, not a measurement"} | QUICK_TRAIN | {"cores": args.cores}
    return {
        "quick": False,
        "epochs": args.epochs,
        "budget": f"both models capped at {args.epochs} epochs, early stopping on ('stopped' says how each ended)",
        "cores": args.cores,
    }


def main() -> None:
    args = arguments()
    ensure_fortunes()
    args.workdir.mkdir(parents=True, exist_ok=True)
    write_csv_if_changed(args.workdir / "fortunes.csv", fortunes())
    specs = model_specs(args.epochs, args.quick)
    vocabulary = choose_vocabulary(args.workdir, args.min_count, specs, args.cores)
    write_config(args.workdir, vocabulary["vocabulary_size"], specs)
    gates = [f"results/gradcheck/{name}.json" for name in MODELS]
    snakemake(args.workdir, [BASELINES, *gates], args.cores)  # vocabulary, encoding, KN-3, gates: untimed
    jobs = {name: train_from_scratch(args.workdir, name, args.cores) for name in MODELS}
    evals = [f"results/models/{name}/eval.json" for name in MODELS]
    snakemake(args.workdir, evals, args.cores, ("--rerun-triggers", "mtime"))
    models = {name: model_result(args.workdir, name) | jobs[name] for name in MODELS}
    result = settings(args) | vocabulary | {"models": models}
    result["kneser_ney_3_test_perplexity"] = kn_test_perplexity(args.workdir)
    result["verdict"] = verdict(models["gru_full"], models["gru_class"])
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
