"""Time to quality against Yandex's faster-rnnlm, the CPU toolkit a user would pick instead.

Debian's `fortunes` (real English, ~0.5M tokens) goes through the pipeline as in
bench/real_text_quality.py (vocabulary 8,000, `normalize: reddit`); its encoded splits are
written as the toolkit's text files (same vocabulary, OOV words as UNKNOWN_TOKEN, so both sides
score exactly the same tokens). Then, one after the other on the same cores, each timed by wall
clock: the toolkit's recommended GRU-256 NCE setting, the same with a maxent layer, and our
default `gru` (config.yaml's) as the pipeline's own train job with empty compile caches, so
that compiling counts. Each of our checkpoints is then scored on test alone and, as the
pipeline's evaluate job reports it, interpolated with its KN-3 (the weight tuned on valid).
Prints JSON: each system's test perplexity, wall seconds and its curve of perplexity against
wall seconds, KN-3, the token counts of both sides, and the verdict (when ours first reaches
the toolkit's best test perplexity, as a fraction of the toolkit's time; our final test
perplexity against the toolkit's best; both for our model alone and interpolated); draws the
curves to `--plot`. `--reuse-toolkit` takes the toolkit's runs from an earlier run in the same
workdir (each saved as toolkit/NAME/system.json) and trains only ours. It downloads nothing:
build the toolkit first (the message without `--rnnlm` says how).

    .venv/bin/python bench/vs_faster_rnnlm.py --rnnlm PATH/faster-rnnlm/rnnlm [--workdir DIR] [--plot FILE]
        [--reuse-toolkit] [--quick]
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml
from real_text_quality import FORTUNES, REPO, fortunes, snakemake, write_csv_if_changed

from rnnlm import UNKNOWN_TOKEN
from rnnlm.config import defaults

BUILD_HINT = (
    "no faster-rnnlm binary (--rnnlm PATH): build one, with Debian's Eigen instead of its build.sh's download: "
    "git clone github.com/yandex/faster-rnnlm DIR; apt-get install libeigen3-dev; ln -s /usr/include/eigen3 "
    "DIR/eigen3; cd DIR/faster-rnnlm && make NVCC_RESULT= -j2 (CPU build, ~5 min); pass --rnnlm DIR/faster-rnnlm/rnnlm"
)
CORES = 2
MODEL = "gru"
DUMP = "fortunes"
# the pipeline's outputs (rules/common.smk), relative to the workdir
VOCAB = "results/vocab.parquet"
ENCODED = f"results/encoded/{DUMP}.parquet"
BASELINES = "results/baselines.json"
GATE = f"results/gradcheck/{MODEL}.json"
MODEL_FILE = f"results/models/{MODEL}/model.npz"
NGRAM = "results/ngram/kneser_ney_3.npz"
HISTORY = f"results/models/{MODEL}/history.csv"
EVAL_JSON = f"results/models/{MODEL}/eval.json"
CHECKPOINTS = f"results/checkpoints/{MODEL}"
TRAIN_BENCHMARK = f"benchmarks/train/{MODEL}.tsv"

# the toolkit's recommended GRU setting (NCE with 20 noise words; its README), on our 2 cores
TOOLKIT_GRU = "-hidden 256 -hidden-type gru-insyn -nce 20 -alpha 0.05 -bptt 32 -bptt-skip 8".split()
TOOLKIT_RUNS = {
    "toolkit-gru-nce": TOOLKIT_GRU,
    "toolkit-gru-nce-maxent": TOOLKIT_GRU + "-direct 100 -direct-order 4".split(),
}
# -show-progress 0 only makes each validation line start with "Epoch N" (the progress line
# that would carry the epoch number is not printed in an epoch shorter than 50,000 words)
TOOLKIT_COMMON = ["-threads", str(CORES), "-show-progress", "0"]
# the toolkit has no epoch limit: an "epoch" of a quarter of the file, and -stop above any
# ratio with -retry 0 stops it after that one (kept, not rejected, as ratio >= -reject-threshold)
TOOLKIT_QUICK = "-epoch-per-file 4 -stop 100 -retry 0".split()
# its exact validation runs on one thread (~50 s for the whole valid split): a smoke test uses a
# slice of it; the test split stays whole, so the token counts are checked in quick mode too
QUICK_VALID_SENTENCES = 200
# ours: a checkpoint at every validation, all kept, for a test curve (cadence: not in the fingerprint)
KEEP_EVERY_CHECKPOINT = 1000
OURS_QUICK = {"epochs": 1, "max_steps": 120, "eval_every": 40}
# what the toolkit's reader takes as one word (words.cc: IsSpace, MAX_STRING, kEOSTag)
TOOLKIT_SPACE = re.compile(r"[ \t\n\r\v\f\x00]")
TOOLKIT_MAX_WORD_BYTES = 99
TOOLKIT_EOS = "</s>"
EPOCH_LINE = re.compile(r"Epoch (\d+) entropy \(bits\) valid:\s*(\S+)\s+elapsed: ([\d.]+)([smh])\+([\d.]+)([smh])(.*)")
UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
SPEED = re.compile(r"([\d.]+) Kwords/sec")


# ---------------------------------------------------------------- the pipeline


def pipeline_config(workdir: Path, quick: bool) -> dict:
    spec = copy.deepcopy(yaml.safe_load((REPO / "config.yaml").read_text())["models"][MODEL])
    train = spec.setdefault("train", {})
    if quick:
        train |= OURS_QUICK
    eval_every = train.get("eval_every", defaults("models", "*", "train")["eval_every"])
    train |= {"checkpoint_every": eval_every, "keep_checkpoints": KEEP_EVERY_CHECKPOINT}
    return {
        "dumps": {DUMP: {"path": str(workdir / "fortunes.csv")}},
        "models": {MODEL: spec},
        "vocabulary_size": 8000,
        "normalize": "reddit",
    }


def prepare_data(workdir: Path, quick: bool) -> float:
    """Everything the timed runs need and must not count: splits, vocabulary, the gate, KN."""
    write_csv_if_changed(workdir / "fortunes.csv", fortunes())
    (workdir / "bench.yaml").write_text(yaml.safe_dump(pipeline_config(workdir, quick)))
    return snakemake(workdir, [VOCAB, ENCODED, GATE, BASELINES], CORES)


def fresh_compile_env(compiledir: str) -> dict:
    """This environment with empty PyTensor and Numba caches (models/environment.py)."""
    env = dict(os.environ, RNNLM_COMPILEDIR=compiledir, NUMBA_CACHE_DIR=str(Path(compiledir) / "numba-kernels"))
    flags = [
        f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f and not f.startswith(("base_compiledir", "compiledir"))
    ]
    env["PYTENSOR_FLAGS"] = ",".join(flags)
    return env


def train_ours(workdir: Path) -> dict:
    """The pipeline's train job from scratch, cold caches: nothing to resume, nothing compiled."""
    shutil.rmtree(workdir / CHECKPOINTS, ignore_errors=True)
    shutil.rmtree(workdir / Path(MODEL_FILE).parent, ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="rnnlm-cold-compile-") as compiledir:
        started_at = time.time()
        seconds = snakemake(workdir, [MODEL_FILE], CORES, env=fresh_compile_env(compiledir))
    # only evaluation from here, which is not timed: never retrain because code or params moved
    snakemake(workdir, [EVAL_JSON], CORES, ("--rerun-triggers", "mtime"))
    return {"started_at": started_at, "wall_seconds": seconds}


# ---------------------------------------------------------------- the toolkit's text files


def toolkit_words(tokens: list[str]) -> list[str]:
    """Each vocabulary id's word in the toolkit's files: the token itself unless the toolkit's
    reader would split, truncate or take it for its end-of-sentence tag; then a unique stand-in."""
    taken = set(tokens)
    words = []
    for i, token in enumerate(tokens):
        unsafe = TOOLKIT_SPACE.search(token) or len(token.encode()) > TOOLKIT_MAX_WORD_BYTES or token == TOOLKIT_EOS
        stand_in = f"__rnnlm_id_{i}__"
        assert not unsafe or stand_in not in taken, stand_in
        words.append(stand_in if unsafe else token)
    return words


def write_split(lines: list[str], path: Path) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def export_splits(workdir: Path, textdir: Path, quick: bool) -> dict:
    """train/valid/test.txt from the encoded splits; what each side will count, per split."""
    import pandas as pd

    from rnnlm.data.batching import SplitReader

    tokens = pd.read_parquet(workdir / VOCAB)["token"].tolist()
    words = toolkit_words(tokens)
    assert tokens[2] == UNKNOWN_TOKEN and words[2] == UNKNOWN_TOKEN  # OOV ids are this id already
    textdir.mkdir(parents=True, exist_ok=True)
    counts = {"renamed_tokens": sum(w != t for w, t in zip(words, tokens))}
    lines = {}
    for split in ("train", "valid", "test"):
        sentences = list(SplitReader([str(workdir / ENCODED)], split).sentences())
        lines[split] = [" ".join(words[i] for i in ids[1:-1]) for ids in sentences]  # no START / END markers
        if split == "train":  # the toolkit reads its file in order: shuffle it, as its README advises
            lines[split] = [lines[split][i] for i in np.random.default_rng(0).permutation(len(sentences))]
        write_split(lines[split], textdir / f"{split}.txt")
        counts[split] = {
            "sentences": len(sentences),
            "pipeline_targets": sum(len(ids) - 1 for ids in sentences),  # words and SENTENCE_END
            "toolkit_targets": sum(len(line.split(" ")) + 1 for line in lines[split] if line),  # words and </s>
            "empty_sentences": sum(not line for line in lines[split]),  # the toolkit skips empty lines
        }
    counts["held_out_sentences_with_words_not_in_train"] = words_outside_train(lines)
    if quick:
        write_split(lines["valid"][:QUICK_VALID_SENTENCES], textdir / "valid-quick.txt")
    return counts


def words_outside_train(lines: dict[str, list[str]]) -> dict:
    """Per held-out split, sentences with a word the toolkit's vocabulary (train's words) lacks:
    it would skip them. 0 when the vocabulary is counted on train (the default)."""
    train = {w for line in lines["train"] for w in line.split(" ")}
    return {s: sum(any(w not in train for w in line.split(" ") if w) for line in lines[s]) for s in ("valid", "test")}


# ---------------------------------------------------------------- the toolkit's runs


def parse_epoch(line: str, seconds: float) -> dict | None:
    match = EPOCH_LINE.search(line)
    if not match:
        return None
    epoch, entropy, train, train_unit, valid, valid_unit, verdict = match.groups()
    speeds = SPEED.findall(line[: match.start()])  # the epoch's last progress line, when one was printed
    return {
        "epoch": int(epoch),
        "seconds": round(seconds, 1),
        "valid_entropy": float(entropy),
        "valid_perplexity": finite(2 ** float(entropy)),
        "train_seconds": float(train) * UNIT_SECONDS[train_unit],
        "valid_seconds": float(valid) * UNIT_SECONDS[valid_unit],
        "note": verdict.strip(),  # "Bad: start lr decay", "Awful: Nnet rejected" (weights reloaded)
        "kwords_per_second": float(speeds[-1]) if speeds else None,
    }


def train_toolkit(binary: Path, flags: list[str], train: Path, valid: Path, rundir: Path) -> dict:
    """One training from scratch, each epoch's validation timed as its line arrives on stderr."""
    shutil.rmtree(rundir, ignore_errors=True)  # the toolkit resumes from an existing model
    rundir.mkdir(parents=True)
    command = [str(binary), "-rnnlm", str(rundir / "model"), "-train", str(train), "-valid", str(valid), *flags]
    epochs, buffer = [], b""
    started = time.monotonic()
    with open(rundir / "train.log", "wb") as log:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, bufsize=0)
        while chunk := process.stderr.read(65536):
            log.write(chunk)
            *lines, buffer = (buffer + chunk).split(b"\n")
            for line in lines:
                epoch = parse_epoch(line.decode(errors="replace"), time.monotonic() - started)
                epochs += [epoch] if epoch else []
        if process.wait():
            raise SystemExit(f"{command[0]} failed (exit {process.returncode}); see {rundir / 'train.log'}")
    return {"command": " ".join(command), "wall_seconds": round(time.monotonic() - started, 1), "epochs": epochs}


def test_toolkit(binary: Path, test: Path, rundir: Path) -> dict:
    """Test entropy, normalised over the whole vocabulary; the targets it counted, recovered from
    its output (entropy = Σ -log10 p(sentence) / log10(2) / targets): the toolkit never prints them."""
    command = [str(binary), "-rnnlm", str(rundir / "model"), "-test", str(test)]
    done = subprocess.run([*command, "-nce-accurate-test", "1"], capture_output=True, text=True, check=True)
    (rundir / "test.log").write_text(done.stderr)
    entropy = float(re.search(r"Test entropy (\S+)", done.stderr).group(1))
    per_sentence = done.stdout.split()  # log10 p(sentence) each, or OOV
    skipped = per_sentence.count("OOV")  # sentences with a word outside its vocabulary
    log10_total = -sum(float(v) for v in per_sentence if v != "OOV")
    return {
        "test_entropy": entropy,
        "test_perplexity": finite(2**entropy),
        "targets": round(log10_total / math.log10(2) / entropy),
        "sentences_scored": len(per_sentence) - skipped,
        "sentences_skipped_oov": skipped,
    }


def toolkit_system(binary: Path, flags: list[str], textdir: Path, rundir: Path, quick: bool, reuse: bool) -> dict:
    """One toolkit run, trained and tested (saved as rundir/system.json), or with `reuse` the
    saved one of an earlier run of the same command."""
    valid = textdir / ("valid-quick.txt" if quick else "valid.txt")
    flags = [*flags, *TOOLKIT_COMMON, *(TOOLKIT_QUICK if quick else [])]
    saved = rundir / "system.json"
    if reuse:
        system = json.loads(saved.read_text()) if saved.exists() else None
        expected = [str(binary), "-rnnlm", str(rundir / "model"), "-train", str(textdir / "train.txt"), "-valid"]
        if system is None or system["command"] != " ".join([*expected, str(valid), *flags]):
            print(f"--reuse-toolkit: no earlier run of this command in {rundir} (run without it once)", file=sys.stderr)
            raise SystemExit(2)
        return system
    trained = train_toolkit(binary, flags, textdir / "train.txt", valid, rundir)
    tested = test_toolkit(binary, textdir / "test.txt", rundir)
    curve = [[e["seconds"], rounded(e["valid_perplexity"]), "valid"] for e in trained["epochs"]]
    curve.append([trained["wall_seconds"], rounded(tested["test_perplexity"]), "test"])
    system = {
        "test_perplexity": tested["test_perplexity"],
        "wall_seconds": trained["wall_seconds"],
        "curve": curve,
        "test": tested,
        "epochs": trained["epochs"],
        "command": trained["command"],
    }
    saved.write_text(json.dumps(system, indent=1))
    return system


# ---------------------------------------------------------------- ours, after the fact


def checkpoint_test_points(workdir: Path, started_at: float) -> list[dict]:
    """Test perplexity of the parameters each checkpoint would give as the model (the best
    validated so far), at the wall second the checkpoint was written (its file's mtime): alone,
    and interpolated with KN-3 with the weight tuned on valid, as the evaluate job does."""
    from rnnlm.data.batching import SplitReader
    from rnnlm.data.vocab import load_vocab
    from rnnlm.evaluation.evaluate import model_and_kn
    from rnnlm.evaluation.ngram import KneserNey
    from rnnlm.models.io import load_npz
    from rnnlm.models.lm import RecurrentLM

    max_tokens = defaults("evaluate")["max_tokens"]
    vocab = load_vocab(str(workdir / VOCAB))
    unk = int(vocab.index[vocab["token"] == UNKNOWN_TOKEN][0])
    kn = KneserNey.load(str(workdir / NGRAM))
    model, points = None, []
    for path in sorted((workdir / CHECKPOINTS).glob("*/step-*.npz")):
        groups, meta = load_npz(path)
        model = model or RecurrentLM.from_spec(meta["spec"], meta["vocab_size"])
        model.set_params(groups[meta["model_params"]])
        valid, test = (
            model_and_kn(MODEL, model, kn, SplitReader([str(workdir / ENCODED)], split), unk, max_tokens)
            for split in ("valid", "test")
        )
        weight = valid.best_weight()
        seconds = path.stat().st_mtime - started_at
        points.append({"step": meta["step"], "seconds": round(seconds, 1), "in_run_seconds": round(meta["seconds"], 1)})
        points[-1] |= {"test_perplexity": test.entry()["perplexity"], "targets": int(test.tokens[0])}
        points[-1] |= {"model_weight": weight, "interpolated_test_perplexity": test.entry(weight=weight)["perplexity"]}
    return points


def history_valid_points(workdir: Path, checkpoints: list[dict]) -> list[list]:
    """history.csv's validations on the wall clock: its seconds start when the run object is
    built (after start-up and model building), so shift them by the checkpoints' offset."""
    from rnnlm.training.history import read_history

    offset = float(np.median([p["seconds"] - p["in_run_seconds"] for p in checkpoints])) if checkpoints else 0.0
    rows = [r for r in read_history(str(workdir / HISTORY)) if r["valid_perplexity"] is not None]
    return [[round(r["seconds"] + offset, 1), rounded(r["valid_perplexity"]), "valid"] for r in rows]


def first_step_seconds(workdir: Path) -> float | None:
    """The log's "first step (compiling included) took X s"."""
    log = workdir / f"logs/train/{MODEL}.log"
    match = re.search(r"first step \(compiling included\) took ([\d.]+) s", log.read_text()) if log.exists() else None
    return float(match.group(1)) if match else None


def train_job_seconds(workdir: Path) -> float:
    """The job's own wall seconds (Snakemake's benchmark): ours less Snakemake's start-up."""
    header, row = (workdir / TRAIN_BENCHMARK).read_text().splitlines()[:2]
    return float(dict(zip(header.split("\t"), row.split("\t")))["s"])


def our_system(workdir: Path, trained: dict) -> dict:
    evaluation = json.loads((workdir / EVAL_JSON).read_text())
    points = checkpoint_test_points(workdir, trained["started_at"])
    curve = history_valid_points(workdir, points) + [
        [p["seconds"], rounded(p[key]), split]
        for p in points
        for key, split in (("test_perplexity", "test"), ("interpolated_test_perplexity", "test+kn"))
    ]
    interpolated = next(v for k, v in evaluation["test"].items() if k.startswith(f"{MODEL}+"))
    return {
        "test_perplexity": evaluation["test"][MODEL]["perplexity"],
        "interpolated_test_perplexity": interpolated["perplexity"],
        "model_weight": evaluation["interpolation"]["model_weight"],
        "wall_seconds": round(trained["wall_seconds"], 1),
        "curve": sorted(curve),
        "train_job_seconds": train_job_seconds(workdir),
        "first_step_seconds_compile_included": first_step_seconds(workdir),
        "trained_seconds_in_run": evaluation["trained_seconds"],  # from the run object's start (model.npz meta)
        "trained_steps": evaluation["trained_steps"],
        "checkpoints": points,
    }


# ---------------------------------------------------------------- verdict, plot


def test_target_counts(workdir: Path, systems: dict) -> dict:
    """The test targets each side scored, as each reports them: they must be equal."""
    ours = json.loads((workdir / EVAL_JSON).read_text())["test"][MODEL]["tokens"]
    toolkits = {name: s["test"]["targets"] for name, s in systems.items() if name.startswith("toolkit")}
    return {"pipeline": ours} | toolkits | {"equal": all(n == ours for n in toolkits.values())}


def finite(x: float) -> float | None:
    return x if math.isfinite(x) else None  # JSON has no inf/nan


def rounded(x: float | None) -> float | None:
    return None if x is None else round(x, 2)


def verdict(systems: dict) -> dict:
    toolkits = {k: v for k, v in systems.items() if k.startswith("toolkit") and v["test_perplexity"]}
    best = min(toolkits, key=lambda k: toolkits[k]["test_perplexity"])
    target, toolkit_seconds = toolkits[best]["test_perplexity"], toolkits[best]["wall_seconds"]
    ours = systems[f"rnnlm-{MODEL}"]
    result = {
        "toolkit_best": best,
        "toolkit_best_test_perplexity": round(target, 2),
        "toolkit_best_wall_seconds": toolkit_seconds,
        "time_ratio_target": 0.5,
        "final_vs_toolkit_best_target": -0.10,
    }
    readings = {"alone": ("test", "test_perplexity"), "with_kn": ("test+kn", "interpolated_test_perplexity")}
    for label, (split, final) in readings.items():
        reached = [s for s, ppl, which in ours["curve"] if which == split and ppl <= target]
        ratio = min(reached) / toolkit_seconds if reached else None
        relative = ours[final] / target - 1
        result[f"ours_{label}"] = {
            "seconds_to_toolkit_best": min(reached) if reached else None,
            "time_ratio": None if ratio is None else round(ratio, 3),
            "time_ratio_met": ratio is not None and ratio <= 0.5,
            "final_vs_toolkit_best": round(relative, 4),
            "final_vs_toolkit_best_met": relative <= -0.10,
        }
    return result


def plot(systems: dict, kn: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for (name, system), color in zip(systems.items(), ("tab:blue", "tab:orange", "tab:green")):
        for split, style in (("valid", "--x"), ("test", "-o"), ("test+kn", ":s")):
            points = [(s, p) for s, p, which in system["curve"] if which == split and p]
            if points:
                ax.plot(*zip(*points), style, color=color, label=f"{name} ({split})", markersize=4)
    ax.axhline(kn, color="gray", linestyle=":", label=f"Kneser-Ney 3 (test {kn:.1f})")
    ax.set(xlabel="wall seconds (2 cores)", ylabel="perplexity", yscale="log", title="fortunes, vocabulary 8,000")
    ax.set_xlim(left=0)
    ax.legend(fontsize=8)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)


# ---------------------------------------------------------------- main


def arguments() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--rnnlm", help="the toolkit's built binary (faster-rnnlm/rnnlm)")
    p.add_argument("--workdir", default=str(REPO / ".cache/bench-vs-faster-rnnlm"))
    p.add_argument("--plot", help="the figure (default: WORKDIR/vs_faster_rnnlm.png)")
    p.add_argument("--quick", action="store_true", help="smoke test: a 1/4 toolkit epoch, 120 steps of ours")
    p.add_argument("--reuse-toolkit", action="store_true", help="the toolkit's runs of an earlier run here; train ours")
    return p.parse_args()


def check_inputs(binary: str | None) -> None:
    """One line and exit 2 instead of a download: the toolkit and the text must be here."""
    if not binary or not Path(binary).is_file() or not os.access(binary, os.X_OK):
        print(BUILD_HINT, file=sys.stderr)
        raise SystemExit(2)
    if not (FORTUNES.is_dir() and any(FORTUNES.iterdir())):
        print(f"no {FORTUNES}: install Debian's fortunes package (apt-get install fortunes)", file=sys.stderr)
        raise SystemExit(2)


def main() -> None:
    args = arguments()
    check_inputs(args.rnnlm)
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    prepare_seconds = prepare_data(workdir, args.quick)
    textdir = workdir / "toolkit/text"
    counts = export_splits(workdir, textdir, args.quick)
    binary = Path(args.rnnlm).resolve()
    systems = {
        name: toolkit_system(binary, flags, textdir, workdir / "toolkit" / name, args.quick, args.reuse_toolkit)
        for name, flags in TOOLKIT_RUNS.items()
    }
    systems[f"rnnlm-{MODEL}"] = our_system(workdir, train_ours(workdir))
    baselines = json.loads((workdir / BASELINES).read_text())
    kn = baselines["test"][f"kneser_ney_{baselines['kn_order']}"]
    counts["test_targets"] = test_target_counts(workdir, systems)
    plot_path = Path(args.plot) if args.plot else workdir / "vs_faster_rnnlm.png"
    plot(systems, kn["perplexity"], plot_path)
    result = {
        "quick": args.quick,
        "pipeline_prepare_seconds": round(prepare_seconds, 1),
        "systems": systems,
        "kneser_ney_3_test_perplexity": kn["perplexity"],
        "token_counts": counts,
        "verdict": verdict(systems),
        "plot": str(plot_path),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
