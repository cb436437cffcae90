"""Where a cold compile's time goes: each graph of the default GRU compiled in a fresh process
with an empty compile cache, and the Numba functions that took longest to compile.

The graphs (E = H = 256, tied, C = 8,000, float32): `loss` (validation and evaluation),
`grads` (loss and gradients, no update: the gate's graph), `train-sgd` (the tutorial's plain
SGD step, no clipping), `train-adam` (the fast schedule's step: Adam, clipping at 5, dropout
0.3), `train-adam-wd` (the same with weight decay: a user turning one setting on),
`train-rmsprop` (RMSProp instead of Adam), and `train-schedule`: the same step as the
pipeline's train job gets it, from the fast schedule of config.yaml's `gru`
(`Schedule.step_function`). Each is built, then called once on a 12×4 batch (PyTensor's Numba
backend compiles on the first call). Prints JSON: per graph, the cold seconds, the inclusive
compile time of the slowest Numba functions (a function's time includes what it compiles
inside it, so the entries overlap) and their exclusive time (without what they compile inside:
these add up to the graph's Numba total).

`--after GRAPH` compiles GRAPH first into each graph's fresh cache (in a process of its own),
then measures the graph: what another setting costs on a machine that has compiled one
(PyTensor caches each piece of a graph, so a new graph reuses the pieces it shares).

    .venv/bin/python bench/compile_profile.py [--graphs loss,grads,...] [--after train-schedule] [--top N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import yaml

GRAPHS = ("loss", "grads", "train-sgd", "train-adam", "train-adam-wd", "train-rmsprop", "train-schedule")
# the train graphs built from a TrainStep's arguments (no rnnlm import here: this process must
# not set PyTensor's flags, which the child processes would inherit with their cache)
STEPS = {
    "train-sgd": dict(optimizer="sgd"),
    "train-adam": dict(optimizer="adam", clip_norm=5.0),
    "train-adam-wd": dict(optimizer="adam", clip_norm=5.0, weight_decay=0.01),
    "train-rmsprop": dict(optimizer="rmsprop", clip_norm=5.0),
}


def compile_once(graph: str, top: int) -> dict:
    """In this process (whose compile cache must be empty): build and call `graph` once."""
    import rnnlm.models  # noqa: F401  (first: it points Numba's kernel cache at the empty folder)

    # isort: split
    import numba.core.dispatcher as dispatcher
    import numpy as np

    from rnnlm.models.compiled import TrainStep
    from rnnlm.models.dropout import Dropout
    from rnnlm.models.lm import RecurrentLM
    from rnnlm.training.schedule import Schedule, train_settings

    inclusive, exclusive, stack = Counter(), Counter(), []  # stack: [name, seconds of its callees]
    compile_ = dispatcher.Dispatcher.compile

    def timed(self, sig):
        name = f"{getattr(self.py_func, '__module__', None) or '?'}.{getattr(self.py_func, '__qualname__', '?')}"
        stack.append([name, 0.0])
        started = time.perf_counter()
        try:
            return compile_(self, sig)
        finally:
            _, callees = stack.pop()
            seconds = time.perf_counter() - started
            exclusive[name] += seconds - callees
            if stack:
                stack[-1][1] += seconds
            if name not in (n for n, _ in stack):  # recursion counted once
                inclusive[name] += seconds

    dispatcher.Dispatcher.compile = timed
    model = RecurrentLM(
        "gru", 8000, hidden=256, embedding=256, layers=1, bptt_truncate=-1, tie_weights=True, dtype="float32", seed=1
    )
    rng = np.random.default_rng(0)
    T, B = 12, 4
    X, Y = (rng.integers(1, 8000, (T, B)).astype("int32") for _ in range(2))
    M, S = np.ones((T, B), "float32"), model.initial_states(B)
    dropout = Dropout(0.3, 0.0, True)
    started = time.perf_counter()
    if graph == "loss":
        model.compiled.loss(X, Y, M, S)
    elif graph == "grads":
        model.compiled.masked(dropout)[1](X, Y, M, S, *model.dropout_masks(dropout, T, B, rng))
    elif graph == "train-schedule":
        spec = yaml.safe_load((Path(__file__).parents[1] / "config.yaml").read_text())["models"]["gru"]
        step = Schedule(train_settings(spec)).step_function(model)
        step(SimpleNamespace(X=X, Y=Y, M=M), 0.002, 0, S)
    else:
        settings = STEPS[graph]
        step = TrainStep(**settings, dropout=dropout if settings["optimizer"] != "sgd" else Dropout())
        model.compiled.train(step)(X, Y, M, S, 0.01, *model.dropout_masks(step.dropout, T, B, rng))
    seconds = time.perf_counter() - started
    slowest = {name: round(s, 1) for name, s in inclusive.most_common(top)}
    own = {name: round(s, 2) for name, s in exclusive.most_common(top)}
    return {
        "graph": graph,
        "cold_seconds": round(seconds, 1),
        "numba_seconds": round(sum(exclusive.values()), 1),
        "distinct_numba_functions": len(exclusive),
        "slowest_numba_compiles": slowest,
        "slowest_numba_compiles_exclusive": own,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--graphs", default=",".join(GRAPHS))
    parser.add_argument("--after", choices=GRAPHS, help="compile this graph into each cache first")
    parser.add_argument("--top", type=int, default=12)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # the child process's graph
    args = parser.parse_args()
    if args.one:
        print(json.dumps(compile_once(args.one, args.top)))
        return
    results = []
    for graph in args.graphs.split(","):
        if graph not in GRAPHS:
            parser.error(f"unknown graph {graph!r} (expected some of {', '.join(GRAPHS)})")
        with tempfile.TemporaryDirectory() as cache:  # cold: nothing compiled before (or --after)
            env = {**os.environ, "RNNLM_COMPILEDIR": cache}
            env.pop("NUMBA_CACHE_DIR", None)
            for one in ([args.after] if args.after else []) + [graph]:
                cmd = [sys.executable, __file__, "--one", one, "--top", str(args.top)]
                out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
            results.append(json.loads(out.strip().splitlines()[-1]))
            print(f"{graph}: {results[-1]['cold_seconds']} s", file=sys.stderr)
    after = {"after": args.after} if args.after else {}
    print(json.dumps({"model": "gru E=H=256 tied C=8000 float32", **after, "graphs": results}, indent=2))


if __name__ == "__main__":
    main()
