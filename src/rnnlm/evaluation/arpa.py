"""ARPA export of the Kneser-Ney model, for SRILM, KenLM and ASR decoders.

An ARPA file lists, for each order, the seen n-grams with their log10 probability and, where
the n-gram is also a context, the log10 weight of the lower order after it. A query for an
n-gram that is not listed takes the backoff weight of its context times the lower order's
probability. `KneserNey` is interpolated, but its unseen-word probability is exactly that
product, so the file gives the same probabilities as the model (to the printed precision):
the first word's context is `<s>` alone, as in the model.

The vocabulary's special tokens get the names these tools expect: SENTENCE_START is `<s>`
(listed with log10 probability -99: it is never predicted), SENTENCE_END `</s>`,
UNKNOWN_TOKEN `<unk>`. Every vocabulary word is a unigram, seen or not, so a tool maps only
out-of-vocabulary words to `<unk>`, as the pipeline does.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from rnnlm import SENTENCE_END, SENTENCE_START, UNKNOWN_TOKEN
from rnnlm.atomic import atomic_path
from rnnlm.errors import RnnlmError
from rnnlm.evaluation.ngram import KneserNey

ARPA_NAMES = {SENTENCE_START: "<s>", SENTENCE_END: "</s>", UNKNOWN_TOKEN: "<unk>"}
NEVER = -99.0  # log10 probability of <s>, the ARPA convention for "never predicted"


def arpa_words(tokens: Sequence[str]) -> list[str]:
    """The vocabulary's tokens (index = id) as ARPA words."""
    words = [ARPA_NAMES.get(t, t) for t in tokens]
    for t in tokens:
        if t not in ARPA_NAMES and (t in ARPA_NAMES.values() or not t or t != "".join(t.split())):
            raise RnnlmError(f"the token {t!r} cannot be an ARPA word (it is empty, has a space or is reserved)")
    return words


def _entries(kn: KneserNey, k: int) -> Iterable[tuple]:
    """The (k+1)-grams of the file, without a copy: at k = 0 every vocabulary id, seen or not."""
    return ((i,) for i in range(kn.vocab_size)) if k == 0 else kn.counts[k].keys()


def _line(kn: KneserNey, gram: tuple, words: list[str]) -> str:
    logp = NEVER if gram == (0,) else math.log10(kn.prob(gram[:-1], gram[-1]))
    text = f"{logp:.7f}\t{' '.join(words[i] for i in gram)}"
    if len(gram) < kn.order and gram in kn.context_total[len(gram)]:
        text += f"\t{math.log10(kn.backoff(gram)):.7f}"
    return text + "\n"


def write_arpa(kn: KneserNey, tokens: Sequence[str], path) -> dict:
    """Write `kn` as an ARPA file; returns the number of n-grams of each order."""
    if len(tokens) != kn.vocab_size:
        raise RnnlmError(f"the vocabulary has {len(tokens)} entries, the n-gram model {kn.vocab_size}")
    words = arpa_words(tokens)
    sizes = {k + 1: len(kn.counts[k]) if k else kn.vocab_size for k in range(kn.order)}
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as out:
        out.write("\\data\\\n" + "".join(f"ngram {n}={count}\n" for n, count in sizes.items()))
        for k in range(kn.order):
            out.write(f"\n\\{k + 1}-grams:\n")
            out.writelines(_line(kn, gram, words) for gram in _entries(kn, k))
        out.write("\n\\end\\\n")
    return sizes
