"""Workers of bench/train_throughput.py: one implementation per process.

    python bench/train_workers.py KIND CONFIG DATA.npz

KIND: ours (also the baseline, run with another PYTHONPATH), full (ours with the full softmax,
for the class-softmax configs), torch, numpy, gemm, or
compile-GRAPH or compile-other-GRAPH (GRAPH: train, loss, step; other: another setting of the
model, `resized`). The worker prints one JSON line when ready, then
answers each ``A B`` line on stdin (train on batches A..B-1) with one JSON line
``{"seconds", "tokens"}``. This file imports only numpy at the top: the torch worker runs in
its own Python 3.11 venv, where rnnlm is not installed.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

C, H, E = 8000, 100, 64
GRAPHS = ("train", "loss", "step")
_RNN = {"cell": "rnn", "hidden": H, "bptt_truncate": 4}
_GRU = {"cell": "gru", "hidden": H, "embedding": E, "bptt_truncate": -1}
CONFIGS = {
    "tutorial-step": _RNN | {"batch": 1, "lengths": [45, 45], "per_round": 40},
    "rnn-b1": _RNN | {"batch": 1, "lengths": [5, 60], "per_round": 40},
    "gru-b1": _GRU | {"batch": 1, "lengths": [5, 60], "per_round": 40},
    "rnn-b32": _RNN | {"batch": 32, "lengths": [5, 60], "per_round": 8},
    "gru-b64": _GRU | {"batch": 64, "lengths": [5, 60], "per_round": 4},
    "rnn-b32-class": _RNN | {"batch": 32, "lengths": [5, 60], "per_round": 24, "output": "class"},
    "gru-b64-class": _GRU | {"batch": 64, "lengths": [5, 60], "per_round": 12, "output": "class"},
}
ROUNDS_MAX = 10


def make_data(config: str, folder: Path) -> Path:
    """Batches (time-major X, Y, mask) of random sentences sorted by length, and vocabulary
    counts of the ids drawn: [0] + Zipf-distributed words + [1]."""
    spec = CONFIGS[config]
    rng = np.random.default_rng(2015)
    batch, (lo, hi) = spec["batch"], spec["lengths"]
    n = batch * (3 + (ROUNDS_MAX + 1) * spec["per_round"])
    p = 1.0 / (np.arange(2, C) + 1.7)
    p /= p.sum()
    lengths = rng.integers(lo, hi + 1, n)
    sents = [np.concatenate([[0], 2 + rng.choice(C - 2, k, p=p), [1]]).astype(np.int32) for k in lengths]
    counts = np.bincount(np.concatenate(sents), minlength=C) + 1
    order = sorted(range(n), key=lambda i: (len(sents[i]), rng.random()))
    chunks = [order[i : i + batch] for i in range(0, n, batch)]
    arrays = {"counts": counts}
    for b, k in enumerate(rng.permutation(len(chunks))):
        group = [sents[i] for i in chunks[k]]
        T = max(len(s) for s in group) - 1
        X, Y, M = (np.zeros((T, len(group)), np.int32) for _ in range(3))
        for j, s in enumerate(group):
            X[: len(s) - 1, j], Y[: len(s) - 1, j], M[: len(s) - 1, j] = s[:-1], s[1:], 1
        arrays |= {f"X{b}": X, f"Y{b}": Y, f"M{b}": M.astype(np.float32)}
    path = folder / f"{config}.npz"
    np.savez(path, **arrays)
    return path


def load(path: str) -> tuple[list, np.ndarray]:
    with np.load(path) as z:
        n = sum(1 for k in z.files if k.startswith("X"))
        return [(z[f"X{b}"], z[f"Y{b}"], z[f"M{b}"]) for b in range(n)], z["counts"]


def ours(spec: dict, counts: np.ndarray):
    """Our model (rnnlm on PYTHONPATH: this checkout, or the baseline's tree)."""
    import rnnlm.models.backend  # noqa: F401  (compile cache and BLAS flags before PyTensor)
    from rnnlm.models.lm import RecurrentLM

    keys = ("cell", "hidden", "embedding", "bptt_truncate")
    arch = {k: spec[k] for k in keys if k in spec} | {"dtype": "float32", "seed": 0}
    if spec.get("output", "full") != "full":
        return RecurrentLM.from_spec(arch | {"output": spec["output"]}, C, counts=counts)
    return RecurrentLM.from_spec(arch, C)


def ours_step(spec: dict, counts: np.ndarray):
    from rnnlm.models.compiled import TrainStep

    model = ours(spec, counts)
    tutorial = spec["batch"] == 1
    f = model.compiled.train(TrainStep("sgd", objective="sum" if tutorial else "mean"))
    lr = 0.005 if tutorial else 0.1
    return lambda X, Y, M: f(X, Y, M, model.initial_states(X.shape[1]), lr)[1]


def numpy_step(spec: dict, counts: np.ndarray):
    from rnnlm.models.numpy_rnn import RNNNumpy

    model = RNNNumpy(C, H, bptt_truncate=spec["bptt_truncate"], seed=0, dtype=np.float32)

    def step(X, Y, M):
        model.sgd_step(X[:, 0], Y[:, 0], 0.005)
        return M.sum()

    return step


def gemm_step(spec: dict, counts: np.ndarray):
    """The output layer's three float32 GEMMs (logits, dV, dh) into preallocated outputs."""
    rng = np.random.default_rng(0)
    V = rng.standard_normal((C, H)).astype(np.float32)
    rows = 64 * 61
    h, logits = np.ones((rows, H), np.float32), np.empty((rows, C), np.float32)
    dV, dh = np.empty((C, H), np.float32), np.empty((rows, H), np.float32)

    def step(X, Y, M):
        n = X.size
        np.dot(h[:n], V.T, out=logits[:n])
        np.dot(logits[:n].T, h[:n], out=dV)
        np.dot(logits[:n], V, out=dh[:n])
        return M.sum()

    return step


def torch_step(spec: dict, counts: np.ndarray):
    import torch
    import torch.nn.functional as F

    torch.manual_seed(0)
    emb = torch.nn.Embedding(C, H if spec["cell"] == "rnn" else E)
    if spec["cell"] == "rnn":
        rnn = torch.nn.RNN(H, H, bias=False, nonlinearity="tanh")
    else:
        rnn = torch.nn.GRU(E, H)
    out = torch.nn.Linear(H, C, bias=spec["cell"] != "rnn")
    params = [*emb.parameters(), *rnn.parameters(), *out.parameters()]
    tutorial = spec["batch"] == 1
    opt = torch.optim.SGD(params, lr=0.005 if tutorial else 0.1)

    def step(X, Y, M):
        X, Y, M = torch.from_numpy(X).long(), torch.from_numpy(Y).long(), torch.from_numpy(M)
        opt.zero_grad(set_to_none=True)
        h, _ = rnn(emb(X))
        nll = F.cross_entropy(out(h.reshape(-1, H)), Y.reshape(-1), reduction="none")
        total, count = (nll * M.reshape(-1)).sum(), M.sum()
        (total if tutorial else total / count.clamp(min=1)).backward()
        opt.step()
        return float(count)

    return step


def resized(spec: dict) -> dict:
    """Another setting of the same model: other sizes, and (`compile_graph`) another clip norm."""
    return spec | {k: spec[k] + 28 for k in ("hidden", "embedding") if k in spec}


def compile_graph(graph: str, spec: dict, counts: np.ndarray, batches: list, other: bool = False) -> float:
    """Seconds to build `graph` and run it once (the cache decides cold or warm); `other`: for
    another setting (`resized`, clip norm 1 instead of 5)."""
    from rnnlm.models.compiled import TrainStep

    model = ours(resized(spec) if other else spec, counts)
    X, Y, M = batches[0]
    started = time.perf_counter()
    if graph == "train":
        objective = "sum" if spec["batch"] == 1 else "mean"
        update = model.compiled.train(TrainStep("sgd", clip_norm=1.0 if other else 5.0, objective=objective))
        update(X, Y, M, model.initial_states(X.shape[1]), 0.01)
    elif graph == "loss":
        model.compiled.loss(X, Y, M, model.initial_states(X.shape[1]))
    else:
        model.compiled.step(X[0], model.initial_states(X.shape[1]))
    return time.perf_counter() - started


def main() -> None:
    kind, config, data = sys.argv[1:4]
    spec = CONFIGS[config]
    batches, counts = load(data)
    ready = {"batches": len(batches)}
    if spec["lengths"][0] == spec["lengths"][1]:
        ready["tokens_per_batch"] = spec["lengths"][0] * spec["batch"]
    if kind.startswith("compile-"):  # compile-GRAPH, or compile-other-GRAPH (another setting)
        graph = kind.removeprefix("compile-")
        seconds = compile_graph(graph.removeprefix("other-"), spec, counts, batches, graph.startswith("other-"))
        print(json.dumps(ready | {"compile_seconds": seconds}), flush=True)
        return
    builders = {"ours": ours_step, "baseline": ours_step, "numpy": numpy_step, "gemm": gemm_step, "torch": torch_step}
    if kind == "full":  # our model with the full softmax, beside a class-softmax config
        kind, spec = "ours", {k: v for k, v in spec.items() if k != "output"}
    step = builders[kind](spec, counts)
    print(json.dumps(ready), flush=True)
    for line in sys.stdin:
        a, b = map(int, line.split())
        started, tokens = time.perf_counter(), 0.0
        for X, Y, M in batches[a:b]:
            tokens += float(step(X, Y, M))
        print(json.dumps({"seconds": time.perf_counter() - started, "tokens": tokens}), flush=True)


if __name__ == "__main__":
    main()
