"""`rnnlm perplexity FILE`: one perplexity for a text file, as KenLM's `query` and Mikolov's
`rnnlm -test` print: every line is a comment (or a sentence), prepared as the model's training
text was, and scored through the evaluation graph in batches under a token budget."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np

from rnnlm.evaluation.interpolation import mix

LINES_AT_ONCE = 2048  # lines read, encoded and scored together: memory flat in the file's length


def perplexity(lm, lines: Iterable[str], normalize: str, max_tokens: int, ngram=None, weight: float = 1.0) -> dict:
    """`tokens` (predicted: words and SENTENCE_END), `oov_rate`, `nats_per_token`,
    `perplexity` and `perplexity_without_oov` of the model (mixed with `ngram` at `weight`)."""
    nats = known_nats = 0.0
    tokens = unknown = lines_read = 0
    for block in itertools.batched(lines, LINES_AT_ONCE):
        sentences = [s for text in block for s in lm.sentences(text, normalize)]
        lines_read += len(block)
        for ids, logp in zip(sentences, lm.sentence_logprobs(sentences, max_tokens)):
            if ngram is not None:
                logp = mix(logp, ngram.token_logprobs(ids), weight)
            oov = np.asarray(ids[1:]) == lm.unk
            nats -= float(logp.sum())
            known_nats -= float(logp[~oov].sum())
            tokens += len(logp)
            unknown += int(oov.sum())
    if not tokens:
        return {"lines": lines_read, "tokens": 0}
    known = tokens - unknown
    return {
        "lines": lines_read,
        "tokens": tokens,
        "oov_rate": unknown / tokens,
        "nats_per_token": nats / tokens,
        "perplexity": math.exp(nats / tokens),
        "perplexity_without_oov": math.exp(known_nats / known) if known else None,
        **({"interpolation": {"with": f"kneser_ney_{ngram.order}", "model_weight": weight}} if ngram else {}),
    }
