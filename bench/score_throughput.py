"""Scoring speed: `rnnlm score`'s batched evaluation graph against one step at a time.

Builds an untrained model of the default GRU's shape (E = H = 256, tied, C = 8,000), draws
Zipf sentences of 5–60 words, and scores them both ways in the same process, in turns:
`LanguageModel.sentence_logprobs` (what `score` and `perplexity` run: batches of whole
sentences through the per-token log-probability graph) and the step function over the padded
batch (what `score` ran before: one compiled call per time step). Prints JSON: tokens/s of
each (median of the rounds) and their ratio, with the largest difference in log-probability.

    .venv/bin/python bench/score_throughput.py [--sentences N] [--rounds R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from rnnlm.data.batching import pad
from rnnlm.evaluation.generate import LanguageModel
from rnnlm.models.lm import RecurrentLM

C = 8000


def sentences(n: int, rng) -> list[list[int]]:
    p = 1.0 / (np.arange(3, C) + 1.7)
    p /= p.sum()
    return [[0, *(3 + rng.choice(C - 3, k, p=p)).tolist(), 1] for k in rng.integers(5, 61, n)]


def stepwise(model, sents: list[list[int]], batch: int = 256) -> list[np.ndarray]:
    """The old way: the one-step graph over each padded batch, one call per time step."""
    out = []
    for i in range(0, len(sents), batch):
        group = sents[i : i + batch]
        b = pad([np.asarray(s, np.int32) for s in group])
        states = model.initial_states(b.X.shape[1])
        logps = np.zeros(b.X.shape)
        for t in range(b.X.shape[0]):
            logp, states = model.compiled.step(b.X[t], states)
            logps[t] = logp[np.arange(b.X.shape[1]), b.Y[t]]
        out += [logps[: len(s) - 1, j] for j, s in enumerate(group)]
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sentences", type=int, default=2000)
    p.add_argument("--rounds", type=int, default=3)
    args = p.parse_args()
    rng = np.random.default_rng(0)
    spec = {"cell": "gru", "embedding": 256, "hidden": 256, "tie_weights": True}
    lm = LanguageModel.__new__(LanguageModel)  # a model without a file: only what scoring uses
    lm.model = RecurrentLM.from_spec(spec, C)
    sents = sentences(args.sentences, rng)
    tokens = sum(len(s) - 1 for s in sents)
    started = time.perf_counter()
    batched = lm.sentence_logprobs(sents)  # compiles the graph once (not timed below)
    compile_s = time.perf_counter() - started
    old = stepwise(lm.model, sents[:10])
    rates = {"batched": [], "stepwise": []}
    for _ in range(args.rounds):
        for name, run in (
            ("batched", lambda: lm.sentence_logprobs(sents)),
            ("stepwise", lambda: stepwise(lm.model, sents)),
        ):
            began = time.perf_counter()
            result = run()
            rates[name].append(tokens / (time.perf_counter() - began))
            if name == "stepwise":
                old = result
    worst = max(float(np.abs(a - b).max()) for a, b in zip(batched, old))
    median = {k: statistics.median(v) for k, v in rates.items()}
    print(
        json.dumps(
            {
                "sentences": len(sents),
                "tokens": tokens,
                "vocabulary": C,
                "batched_tokens_per_s": round(median["batched"]),
                "stepwise_tokens_per_s": round(median["stepwise"]),
                "speedup": round(median["batched"] / median["stepwise"], 2),
                "first_batched_call_s_compile_included": round(compile_s, 1),
                "max_abs_logprob_difference": worst,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
