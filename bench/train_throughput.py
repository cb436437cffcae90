"""Training throughput: our compiled train step against PyTorch, the numpy oracle and a GEMM ceiling.

One command, one run, the same batches for every implementation:

    .venv/bin/python bench/train_throughput.py [--quick] [--baseline REV] [--no-compile] [--out FILE]

Each implementation runs in its own worker process (PyTorch in a Python 3.11 venv the bench
creates if missing: ``torch==2.13.0`` installs a CPU wheel there; torch is never a dependency
of rnnlm). Workers take turns on the same slice of batches, round after round, so the
machine's noise hits them alike; a figure is the median over rounds and a ratio is the median
of the per-round ratios. Only one worker computes at a time: thread pools never fight.

Implementations: ``ours`` (`model.compiled.train`, plain SGD; batch 1 is the tutorial's
sentence-total objective, larger batches the mean per target); ``full`` (beside the
``output: class`` configs: the same model with the full softmax); ``torch`` (Embedding + nn.RNN
or nn.GRU + Linear + cross-entropy, SGD, full BPTT); ``numpy`` (the oracle `RNNNumpy.sgd_step`,
batch 1, rnn); ``baseline`` (our train step at git revision REV, for before/after);
``gemm`` (the ceiling: per batch, the output layer's three float32 GEMMs — logits, dV, dh —
timed in numpy; tokens/s if nothing else cost anything). Data: random sentences of 5–60
tokens (Zipf-distributed ids; the class softmax bins the vocabulary by these counts), sorted by
length into batches, float32, C=8000, H=100, GRU E=64.

Compile: per graph (train step, loss, one-step), seconds to build and run it once in a fresh
process with an empty compile cache (cold), then in another fresh process with that cache (warm),
then for another setting of the model (hidden and embedding sizes +28, clip norm 1 instead of
5) with that cache: what a user trying a new setting waits.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from train_workers import CONFIGS, GRAPHS, make_data  # bench/ is this script's sys.path[0]

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
TORCH_VENV = REPO / ".cache" / "bench-torch-venv"


def torch_python() -> str:
    python = TORCH_VENV / "bin" / "python"
    if not python.exists():
        print(f"creating {TORCH_VENV} (python3.11, torch==2.13.0 CPU)", file=sys.stderr)
        subprocess.run(["python3.11", "-m", "venv", str(TORCH_VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", "torch==2.13.0", "numpy"], check=True)
    return str(python)


class Worker:
    """One implementation in its own process: `run(a, b)` trains on batches a..b-1."""

    def __init__(self, kind: str, config: str, data: Path, python: str, env: dict | None = None):
        cmd = [python, str(BENCH / "train_workers.py"), kind, config, str(data)]
        self.kind = kind
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env or os.environ.copy()
        )
        self.ready = self._reply()

    def _reply(self) -> dict:
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"worker {self.kind} died (exit {self.proc.wait()})")
        return json.loads(line)

    def run(self, a: int, b: int) -> dict:
        self.proc.stdin.write(f"{a} {b}\n")
        self.proc.stdin.flush()
        return self._reply()

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()


def baseline_tree(rev: str, tmp: Path) -> Path:
    """The package of revision `rev` (git archive of src/), for a before/after worker."""
    out = tmp / f"baseline-{rev}"
    out.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", rev, "src"], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return out / "src"


THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")


def worker_env(src: Path | None = None, compiledir: str | None = None) -> dict:
    env = os.environ.copy()
    if src is not None:
        env["PYTHONPATH"] = str(src)
    if compiledir is not None:
        env["RNNLM_COMPILEDIR"] = compiledir
    return env


def throughput(config: str, data: Path, kinds: dict, rounds: int, per_round: int) -> dict:
    workers = {}
    for name, (python, env) in kinds.items():
        workers[name] = Worker(name, config, data, python, env)
    n = workers[next(iter(workers))].ready["batches"]
    for w in workers.values():
        w.run(0, min(3, n))  # warm up: first calls, allocations
    rates = {k: [] for k in workers}
    for r in range(rounds):
        a = (3 + r * per_round) % max(n - per_round, 1)
        order = list(workers) if r % 2 == 0 else list(reversed(workers))
        for name in order:
            res = workers[name].run(a, a + per_round)
            rates[name].append(res["tokens"] / res["seconds"])
    for w in workers.values():
        w.close()
    out = {
        "batches_per_round": per_round,
        "rounds": rounds,
        "tokens_per_s": {k: round(float(np.median(v))) for k, v in rates.items()},
    }
    if "torch" in rates:
        out["ratio_to_torch"] = {
            k: round(float(np.median(np.array(v) / np.array(rates["torch"]))), 3)
            for k, v in rates.items()
            if k != "torch"
        }
    if "full" in rates:
        out["ratio_to_full_softmax"] = round(float(np.median(np.array(rates["ours"]) / np.array(rates["full"]))), 2)
    if "gemm" in rates:
        out["percent_of_gemm_ceiling"] = {
            k: round(100 * float(np.median(np.array(v) / np.array(rates["gemm"]))), 1)
            for k, v in rates.items()
            if k != "gemm"
        }
    per_batch = workers[next(iter(workers))].ready.get("tokens_per_batch")
    if per_batch:  # fixed-length sentences: the time of one step
        out["ms_per_step"] = {k: round(1000 * per_batch / float(np.median(v)), 2) for k, v in rates.items()}
    return out


def compile_times(config: str, data: Path, python: str, src: Path | None, tmp: Path) -> dict:
    out = {}
    for graph in GRAPHS:
        cache = tempfile.mkdtemp(dir=tmp, prefix="compiledir-")
        times = []
        for kind in (f"compile-{graph}", f"compile-{graph}", f"compile-other-{graph}"):  # cold, warm, other
            w = Worker(kind, config, data, python, worker_env(src, cache))
            times.append(w.ready["compile_seconds"])
            w.close()
        out[graph] = {"cold_s": round(times[0], 1), "warm_s": round(times[1], 2), "other_setting_s": round(times[2], 2)}
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--configs", default=",".join(CONFIGS), help=f"comma-separated, of {', '.join(CONFIGS)}")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--quick", action="store_true", help="3 rounds, no compile timing")
    p.add_argument("--baseline", metavar="REV", help="also time our train step at this git revision")
    p.add_argument("--no-compile", action="store_true", help="skip the cold/warm compile timing")
    p.add_argument("--no-torch", action="store_true")
    p.add_argument("--threads", type=int, help="threads of every worker's BLAS/OpenMP pools (default: theirs)")
    p.add_argument("--out", help="also write the JSON here")
    args = p.parse_args()
    if args.threads:
        os.environ.update({k: str(args.threads) for k in THREADS})
    rounds = 3 if args.quick else args.rounds
    tmp = Path(tempfile.mkdtemp(prefix="bench-train-"))
    ours = (sys.executable, worker_env())
    base_src = baseline_tree(args.baseline, tmp) if args.baseline else None
    result = {
        "cpus": os.cpu_count(),
        "threads": args.threads,
        "load_average_before": os.getloadavg(),
        "baseline": args.baseline,
        "configs": {},
    }
    for config in args.configs.split(","):
        spec = CONFIGS[config]
        data = make_data(config, tmp)
        kinds = {"ours": ours, "gemm": ours}
        if spec.get("output", "full") != "full":
            kinds["full"] = ours  # the same model with the full softmax: the class softmax's speed-up
        if base_src is not None and spec.get("output", "full") == "full":
            kinds["baseline"] = (sys.executable, worker_env(base_src))
        if not args.no_torch and spec.get("output", "full") == "full":
            kinds["torch"] = (torch_python(), os.environ.copy())
        if spec["batch"] == 1 and spec["cell"] == "rnn":
            kinds["numpy"] = ours
        entry = {"spec": spec} | throughput(config, data, kinds, rounds, spec["per_round"])
        if not (args.quick or args.no_compile):
            entry["compile"] = {"ours": compile_times(config, data, sys.executable, None, tmp)}
            if base_src is not None and "baseline" in kinds:
                entry["compile"]["baseline"] = compile_times(config, data, sys.executable, base_src, tmp)
        result["configs"][config] = entry
        print(json.dumps({config: entry}), file=sys.stderr)
    result["load_average_after"] = os.getloadavg()
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
