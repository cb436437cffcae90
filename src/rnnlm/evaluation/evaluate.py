"""Evaluation: per-word cross-entropy and perplexity of models and baselines.

Every figure counts the predicted tokens of a sentence: its words and SENTENCE_END, not
SENTENCE_START. Baselines are fitted on the train split with the same vocabulary:
uniform (ln C), add-one unigram, interpolated Kneser-Ney n-gram. On the bundled corpus the
source's exact log-probabilities give the true cross-entropy of the same comments.
"""

from __future__ import annotations

import json
import math

import pandas as pd

from rnnlm.atomic import write_json, write_text
from rnnlm.data.batching import SplitReader, split_comment_ids
from rnnlm.data.encode import read_split
from rnnlm.data.vocab import load_vocab, vocab_hash
from rnnlm.evaluation.ngram import KneserNey, cross_entropy, unigram_logprobs
from rnnlm.evaluation.report import SPLITS, markdown_table
from rnnlm.metrics import perplexity
from rnnlm.models.io import load_model
from rnnlm.progress import log


def _entry(nats: float, tokens: int) -> dict:
    return {"nats_per_token": nats, "perplexity": perplexity(nats), "tokens": tokens}


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
    ids = split_comment_ids(encoded, split)
    table = pd.concat([pd.read_parquet(p) for p in truth])
    table = table[table.comment_id.isin(ids)]
    return _entry(float(table.nats.sum() / table.tokens.sum()), int(table.tokens.sum()))


def evaluate_model(name: str, model_path: str, vocab_path: str, encoded: list[str], baselines_path: str,
                   out_json: str, out_md: str) -> dict:
    from rnnlm.models.lm import split_loss  # PyTensor: only where a model is evaluated

    model, meta = load_model(model_path, vocab_hash(load_vocab(vocab_path)))
    with open(baselines_path) as f:
        base = json.load(f)
    result = {"model": name, "cell": meta["spec"]["cell"], "trained_steps": meta["steps"],
              "trained_seconds": meta["seconds"]}
    for split in SPLITS:
        reader = SplitReader(encoded, split)
        result[split] = {name: _entry(*split_loss(model, reader.all_batches(dtype=model.dtype), split))} | base[split]
    write_json(out_json, result)
    write_text(out_md, markdown_table(result))
    log.info(f"evaluate {name}: test perplexity {result['test'][name]['perplexity']:.2f}")
    return result
