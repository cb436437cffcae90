"""Evaluation: per-word cross-entropy and perplexity of models and baselines.

Every figure counts the predicted tokens of a sentence: its words and SENTENCE_END, not
SENTENCE_START. Baselines are fitted on the train split with the same vocabulary:
uniform (ln C), add-one unigram, interpolated Kneser-Ney n-gram. On the bundled corpus the
source's exact log-probabilities give the true cross-entropy of the same comments.
"""

from __future__ import annotations

import math

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rnnlm.atomic import write_json, write_text
from rnnlm.data.batching import SplitReader
from rnnlm.data.encode import read_split
from rnnlm.evaluation.ngram import KneserNey, cross_entropy, unigram_logprobs
from rnnlm.progress import log
from rnnlm.data.vocab import load_vocab

SPLITS = ("valid", "test")


def _entry(nats: float, tokens: int) -> dict:
    return {"nats_per_token": nats, "perplexity": math.exp(nats), "tokens": tokens}


def baselines(encoded: list[str], vocab_path: str, truth: list[str], order: int, out: str) -> dict:
    vocab_size = len(load_vocab(vocab_path))
    train = [s.tolist() for s in read_split(encoded, "train")]
    kn = KneserNey(order, vocab_size).fit(train)
    unigram = unigram_logprobs(train, vocab_size)
    result = {"vocab_size": vocab_size, "kn_order": order, "train_sentences": len(train)}
    for split in SPLITS:
        data = [s.tolist() for s in read_split(encoded, split)]
        n = sum(len(s) - 1 for s in data)
        result[split] = {
            "uniform": _entry(math.log(vocab_size), n),
            "unigram": _entry(*cross_entropy(lambda s: sum(unigram[i] for i in s[1:]), data)),
            f"kneser_ney_{order}": _entry(*cross_entropy(kn.sentence_logprob, data)),
        }
        if truth:
            result[split]["true_source"] = true_entropy(encoded, truth, split)
        log.info(f"baselines {split}: " + ", ".join(f"{k} {v['perplexity']:.2f}" for k, v in result[split].items()))
    write_json(out, result)
    return result


def true_entropy(encoded: list[str], truth: list[str], split: str) -> dict:
    """The bundled source's cross-entropy on the comments of `split` (exact log-probabilities)."""
    ids = set()
    for path in encoded:
        t = pq.read_table(path, columns=["comment_id", "split"])
        t = t.filter(pc.equal(pc.cast(t.column("split"), pa.string()), split))
        ids.update(t.column("comment_id").to_pylist())
    table = pd.concat([pd.read_parquet(p) for p in truth])
    table = table[table.comment_id.isin(ids)]
    return _entry(float(table.nats.sum() / table.tokens.sum()), int(table.tokens.sum()))


def evaluate_model(name: str, model_path: str, vocab_path: str, encoded: list[str], baselines_path: str,
                   out_json: str, out_md: str) -> dict:
    import json

    from rnnlm.training.train import evaluate, load_model

    model, meta = load_model(model_path, vocab_path)
    with open(baselines_path) as f:
        base = json.load(f)
    result = {"model": name, "cell": meta["spec"]["cell"], "trained_steps": meta["steps"],
              "trained_seconds": meta["seconds"]}
    for split in SPLITS:
        nats, tokens = evaluate(model, SplitReader(encoded, split))
        result[split] = {name: _entry(nats, tokens)} | base[split]
    write_json(out_json, result)
    write_text(out_md, markdown_table(result))
    log.info(f"evaluate {name}: test perplexity {result['test'][name]['perplexity']:.2f}")
    return result


def markdown_table(result: dict) -> str:
    rows = [f"## {result['model']} ({result['cell']})", "",
            "| model | valid nats/token | valid perplexity | test nats/token | test perplexity |",
            "|---|---:|---:|---:|---:|"]
    for key in result["valid"]:
        v, t = result["valid"][key], result["test"][key]
        rows.append(f"| {key} | {v['nats_per_token']:.4f} | {v['perplexity']:.2f} | "
                    f"{t['nats_per_token']:.4f} | {t['perplexity']:.2f} |")
    return "\n".join(rows) + "\n"


def summarize(eval_paths: list[str], out: str) -> str:
    """results/summary.md: every model beside the baselines, on valid and test."""
    import json

    results = []
    for path in eval_paths:
        with open(path) as f:
            results.append(json.load(f))
    lines = ["# Models compared", "",
             "Per-word cross-entropy counts SENTENCE_END and not SENTENCE_START; baselines are fitted on the",
             "train split with the same vocabulary.", ""]
    for split in SPLITS:
        lines += [f"## {split}", "", "| model | nats/token | perplexity | tokens |", "|---|---:|---:|---:|"]
        rows = {r["model"]: r[split][r["model"]] for r in results}
        if results:
            rows |= {k: v for k, v in results[0][split].items() if k != results[0]["model"]}
        for key, v in sorted(rows.items(), key=lambda kv: kv[1]["nats_per_token"]):
            lines.append(f"| {key} | {v['nats_per_token']:.4f} | {v['perplexity']:.2f} | {v['tokens']:,} |")
        lines.append("")
    text = "\n".join(lines)
    write_text(out, text)
    return text
