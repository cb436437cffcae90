"""Evaluation: per-word cross-entropy and perplexity of models and baselines, and of each
model linearly interpolated with the Kneser-Ney baseline (as Mikolov's RNNLM toolkit does).

Every figure counts the predicted tokens of a sentence: its words and SENTENCE_END, not
SENTENCE_START; UNKNOWN_TOKEN is a word like any other (the same OOV policy for every model),
and each figure is also given without the targets that are UNKNOWN_TOKEN. Baselines are
fitted on the train split with the same vocabulary: uniform (ln C), add-one unigram,
interpolated Kneser-Ney n-gram. The interpolation weight is tuned on valid and applied to
test. On the bundled corpus the source's exact log-probabilities give the true
cross-entropy of the same comments.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from rnnlm import UNKNOWN_TOKEN
from rnnlm.atomic import write_json, write_text
from rnnlm.data.batching import SplitReader, split_comment_ids
from rnnlm.data.vocab import load_vocab, vocab_hash
from rnnlm.evaluation.arpa import write_arpa
from rnnlm.evaluation.interpolation import Accumulator, entry
from rnnlm.evaluation.ngram import KneserNey, unigram_logprobs
from rnnlm.evaluation.report import SPLITS, markdown_table
from rnnlm.models.io import load_model
from rnnlm.progress import Progress, log


def _sentences(reader: SplitReader, what: str):
    """The split's sentences as lists, with progress lines (`what`: what is being done)."""
    progress = Progress(what, "sentences")
    n = 0
    for n, s in enumerate(reader.sentences(), 1):
        yield s.tolist()
        progress.update(n, reader.fraction_read())
    progress.update(n, 1.0, force=True)


def baselines(
    encoded: list[str], vocab_path: str, truth: list[str], order: int, out: str, out_ngram: str, out_arpa: str
) -> dict:
    vocab = load_vocab(vocab_path)
    size, unk = len(vocab), int(vocab.index[vocab["token"] == UNKNOWN_TOKEN][0])
    name = f"kneser_ney_{order}"
    kn = KneserNey(order, size).fit(_sentences(SplitReader(encoded, "train"), f"baselines: count {name} on train"))
    kn.save(out_ngram)
    sizes = write_arpa(kn, vocab["token"].tolist(), out_arpa)
    log.info(f"kneser_ney_{order}: " + ", ".join(f"{c:,} {n}-grams" for n, c in sizes.items()) + f"; {out_arpa}")
    unigram = np.array(unigram_logprobs(_sentences(SplitReader(encoded, "train"), "baselines: unigram on train"), size))
    result = {"vocab_size": size, "kn_order": order}
    for split in SPLITS:
        acc = {k: Accumulator() for k in ("uniform", "unigram", name)}
        for s in _sentences(SplitReader(encoded, split), f"baselines: score {split}"):
            targets = np.asarray(s[1:])
            oov = targets == unk
            acc["uniform"].add(np.full(len(targets), -math.log(size)), oov)
            acc["unigram"].add(unigram[targets], oov)
            acc[name].add(kn.token_logprobs(s), oov)
        result.setdefault("oov_rate", {})[split] = acc["uniform"].oov_rate()
        result.setdefault("without_oov", {})[split] = {k: a.entry(oov=False) for k, a in acc.items()}
        result[split] = {k: a.entry() for k, a in acc.items()}
        if not acc["uniform"].tokens[0]:
            result[split] = result["without_oov"][split] = None
            result.setdefault("notes", []).append(empty_split(split))
            continue
        if truth:
            result[split]["true_source"] = true_entropy(encoded, truth, split)
        log.info(f"baselines {split}: " + ", ".join(f"{k} {v['perplexity']:.2f}" for k, v in result[split].items()))
    write_json(out, result)
    return result


def empty_split(split: str) -> str:
    return f"the {split} split is empty (split.{split} is 0, or the data too small): no {split} figures"


def true_entropy(encoded: list[str], truth: list[str], split: str) -> dict:
    """The bundled source's cross-entropy on the comments of `split` (exact log-probabilities)."""
    ids = split_comment_ids(encoded, split)
    table = pd.concat([pd.read_parquet(p) for p in truth])
    table = table[table.comment_id.isin(ids)]
    return entry(float(table.nats.sum() / table.tokens.sum()), int(table.tokens.sum()))


def model_and_kn(name: str, model, kn: KneserNey, reader: SplitReader, unk: int, max_tokens: int) -> Accumulator:
    """Per-token log-probabilities of the model and the n-gram model on one split, in batches
    of at most `max_tokens` (a longer sentence in chunks, with its state carried)."""
    acc = Accumulator(interpolate=True)
    progress, tokens = Progress(f"evaluate {name} on {reader.split}", "tokens"), 0
    for pieces in reader.all_batches(max_tokens, dtype=model.dtype, fixed_shapes=model.portable):
        logp = model.compiled.token_logprobs_over(pieces)
        X, Y, M = (np.concatenate([getattr(p, a) for p in pieces]) for a in "XYM")
        for j in range(X.shape[1]):
            n = int(M[:, j].sum())
            if not n:
                continue  # a padding column
            sentence = [*X[:n, j].tolist(), int(Y[n - 1, j])]
            acc.add(logp[:n, j], Y[:n, j] == unk, kn.token_logprobs(sentence))
            tokens += n
        progress.update(tokens, reader.fraction_read())
    progress.update(tokens, 1.0, force=True)
    return acc


def evaluate_model(
    name: str,
    model_path: str,
    vocab_path: str,
    encoded: list[str],
    baselines_path: str,
    ngram_path: str,
    out_json: str,
    out_md: str,
    max_tokens: int,
) -> dict:
    vocab = load_vocab(vocab_path)
    unk = int(vocab.index[vocab["token"] == UNKNOWN_TOKEN][0])
    model, meta = load_model(model_path, vocab_hash(vocab))
    kn = KneserNey.load(ngram_path)
    with open(baselines_path) as f:
        base = json.load(f)
    kn_name = f"kneser_ney_{base['kn_order']}"
    both = f"{name}+{kn_name}"
    acc = {split: model_and_kn(name, model, kn, SplitReader(encoded, split), unk, max_tokens) for split in SPLITS}
    weight = acc["valid"].best_weight() if acc["valid"].tokens[0] else None
    result = {
        "model": name,
        "cell": meta["spec"]["cell"],
        "trained_steps": meta["steps"],
        "trained_seconds": meta["seconds"],
        "interpolation": {"with": kn_name, "model_weight": weight, "tuned_on": "valid"},
        "oov_rate": base["oov_rate"],
        "without_oov": {},
        "notes": list(base.get("notes", [])),
    }
    for split in SPLITS:
        a = acc[split]
        if base[split] is None:
            result[split] = result["without_oov"][split] = None
            continue
        mixed = {} if weight is None else {both: a.entry(weight=weight)}
        mixed_known = {} if weight is None else {both: a.entry(weight=weight, oov=False)}
        result[split] = {name: a.entry()} | mixed | base[split]
        result["without_oov"][split] = {name: a.entry(oov=False)} | mixed_known | base["without_oov"][split]
    write_json(out_json, result)
    write_text(out_md, markdown_table(result))
    if result["test"] and weight is not None:
        log.info(
            f"evaluate {name}: test perplexity {result['test'][name]['perplexity']:.2f}, interpolated with "
            f"{kn_name} (model weight {weight:.3f}) {result['test'][both]['perplexity']:.2f}"
        )
    return result
