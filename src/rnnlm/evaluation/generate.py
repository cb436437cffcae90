"""Sentence generation and scoring with a trained model (carried hidden state).

Generation follows the tutorial (section 十): start from SENTENCE_START, sample each next
word from the model until SENTENCE_END, never emit UNKNOWN_TOKEN, and drop sentences
shorter than a minimum length; plus a temperature, an optional prefix, a maximum length
and a seed. Scoring gives the log-probability of given sentences, tokenized exactly like
the training data, with each token's probability; out-of-vocabulary words are scored as
UNKNOWN_TOKEN and flagged.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from rnnlm import SENTENCE_END, SENTENCE_START, UNKNOWN_TOKEN, RnnlmError
from rnnlm.data.batching import budget_groups, chunks, fixed_shape_chunks, pad
from rnnlm.data.text import tokenize_comment
from rnnlm.data.vocab import load_vocab, token_hash
from rnnlm.evaluation.interpolation import mix
from rnnlm.models.io import load_model, read_model

DRAW = 256  # sentences sampled side by side
SCORE_BATCH = 256  # sentences scored side by side (fewer where they are long: the token budget)


class LanguageModel:
    """A trained model with its vocabulary: what `rnnlm generate` and `rnnlm score` use.

    A model file records its vocabulary and how its text was prepared (`text`), so it is all
    that is needed; `vocab_path` serves files from before that, and must match when given."""

    def __init__(self, model_path: str, vocab_path: str | None = None, mode: str | None = None):
        params, meta = read_model(model_path)
        tokens = meta.get("vocabulary")
        if vocab_path is not None or tokens is None:
            if vocab_path is None and not Path("results/vocab.parquet").is_file():
                raise RnnlmError(f"{model_path} does not hold its vocabulary (an older model file): give --vocab")
            vocab_path = vocab_path or "results/vocab.parquet"
            vocab = load_vocab(vocab_path)
            if tokens is not None and list(vocab["token"]) != tokens:
                raise RnnlmError(f"{vocab_path} is not the vocabulary {model_path} was trained with (it holds its own)")
            tokens = list(vocab["token"])
        self.model, self.meta = load_model(model_path, token_hash(tokens), mode)
        self.text = meta.get("text") or {}
        self.tokens = tokens
        self.index = {t: i for i, t in enumerate(self.tokens)}
        self.start, self.end, self.unk = (self.index[t] for t in (SENTENCE_START, SENTENCE_END, UNKNOWN_TOKEN))

    @property
    def normalize(self) -> str | None:
        """The normalisation the model's training text had (None: the file does not say)."""
        return self.text.get("normalize")

    def sentences(self, text: str, normalize: str) -> list[list[int]]:
        """The ids of each sentence of `text` (START, words, END), as the training data were made."""
        return [
            [self.start, *(self.index.get(w, self.unk) for w in sentence), self.end]
            for sentence in tokenize_comment(text, normalize)
        ]

    def sentence_logprobs(self, sentences: list[list[int]], max_tokens: int = 8192) -> list[np.ndarray]:
        """log p of each predicted token (all but START) of each sentence (START … END ids), in
        the order given, through the evaluation graph in batches of at most `max_tokens`."""
        model = self.model
        order = sorted(range(len(sentences)), key=lambda i: len(sentences[i]))
        out: list[np.ndarray] = [np.empty(0)] * len(sentences)
        for group in budget_groups([len(sentences[i]) - 1 for i in order], SCORE_BATCH, max_tokens):
            members = [order[k] for k in group]
            batch = pad([np.asarray(sentences[i], np.int32) for i in members], model.dtype)
            pieces = fixed_shape_chunks(batch, SCORE_BATCH, max_tokens) if model.portable else chunks(batch, max_tokens)
            logp = model.compiled.token_logprobs_over(pieces)
            for j, i in enumerate(members):
                out[i] = logp[: len(sentences[i]) - 1, j].astype(np.float64)
        return out

    def encode(self, text: str, normalize: str = "reddit") -> tuple[list[int], list[str]]:
        """Ids (START, words, END per sentence, all sentences in a row) and the words."""
        ids, words = [], []
        for sentence in tokenize_comment(text, normalize):
            ids += [self.start] + [self.index.get(w, self.unk) for w in sentence] + [self.end]
            words += [SENTENCE_START, *sentence, SENTENCE_END]
        return ids, words

    def generate(
        self,
        n: int = 10,
        *,
        temperature: float = 1.0,
        prefix: str = "",
        max_length: int = 50,
        min_length: int = 5,
        seed: int = 0,
        normalize: str = "reddit",
        max_tries: int = 20,
    ) -> Iterator[str]:
        """`n` sentences, yielded as they are drawn, `DRAW` at a time at most (memory does not
        grow with n); after `max_tries` × n draws without n of them, one error says why."""
        if temperature <= 0:
            raise RnnlmError("temperature must be > 0")
        rng = np.random.default_rng(seed)
        start = [self.start]
        if prefix:
            ids, words = self.encode(prefix, normalize)
            if not ids:
                raise RnnlmError(f"the prefix {prefix!r} has no words")
            unknown = [w for w, i in zip(words, ids) if i == self.unk]
            if unknown:
                raise RnnlmError(f"the prefix has words outside the vocabulary: {', '.join(unknown)}")
            ids = ids[:-1]  # continue the prefix's last sentence, without its SENTENCE_END
            start = ids[len(ids) - 1 - ids[::-1].index(self.start) :]
        made = drawn = 0
        while drawn < max_tries * n:
            count = min(n, DRAW)
            drawn += count
            for seq in self._sample(start, count, temperature, max_length, rng):
                if len(seq) - 1 >= min_length:  # words, START not counted (the tutorial's rule)
                    yield " ".join(self.tokens[i] for i in seq[1:])
                    made += 1
                    if made == n:
                        return
        raise RnnlmError(
            f"only {made} of {n} samples ended within max_length {max_length} with at least min_length "
            f"{min_length} words in {drawn:,} draws: lower min_length or raise max_length"
        )

    def _sample(self, start: list[int], n: int, temperature: float, max_length: int, rng) -> list[list[int]]:
        model = self.model
        states = model.initial_states(n)
        seqs = [list(start) for _ in range(n)]
        for i in start[:-1]:
            _, states = model.compiled.step(np.full(n, i, np.int32), states)
        current = np.full(n, start[-1], np.int32)
        done = np.zeros(n, bool)
        for _ in range(max_length):
            logp, states = model.compiled.step(current, states)
            logits = logp.astype(np.float64)
            logits[:, [self.unk, self.start]] = -np.inf  # never emit UNKNOWN_TOKEN (nor a new START)
            # the best word at 0 before dividing: any temperature > 0, however small, stays finite
            p = np.exp((logits - logits.max(axis=1, keepdims=True)) / temperature)
            p /= p.sum(axis=1, keepdims=True)
            current = np.array([rng.choice(len(row), p=row) for row in p], np.int32)
            for b in np.flatnonzero(~done):
                if current[b] == self.end:
                    done[b] = True
                else:
                    seqs[b].append(int(current[b]))
            if done.all():
                break
        return [s for s, d in zip(seqs, done) if d]  # a sentence that never ended is dropped

    def score(self, texts: list[str], normalize: str = "reddit", ngram=None, weight: float = 1.0) -> list[dict]:
        """Per text: log-probability (nats), perplexity and every predicted token's probability;
        with an `ngram` model (`KneserNey`), of the mixture weight·model + (1-weight)·ngram."""
        encoded = [self.encode(t, normalize) for t in texts]
        scorable = [i for i, (ids, _) in enumerate(encoded) if len(ids) >= 2]
        nothing = "nothing to score: no word is left after cleaning"
        results = [
            {"text": t, "logprob": None, "perplexity": None, "tokens": [], "unknown": 0, "skipped": nothing}
            for t in texts
        ]
        if scorable:
            scored = self._score([texts[i] for i in scorable], [encoded[i] for i in scorable], ngram, weight)
            for i, result in zip(scorable, scored):
                results[i] = result
        return results

    def _score(self, texts: list[str], encoded: list, ngram, weight: float) -> list[dict]:
        # every sentence on its own, from the zero state (as in training), in batches
        bounds = []
        sentences = []
        for ids, _ in encoded:
            starts = [t for t in range(len(ids)) if ids[t] == self.start] + [len(ids)]
            bounds.append((len(sentences), len(sentences) + len(starts) - 1))
            sentences += [ids[i:j] for i, j in zip(starts, starts[1:])]
        logps = self.sentence_logprobs(sentences)
        results = []
        for (text, (ids, words)), (first, last) in zip(zip(texts, encoded), bounds):
            # predicted: every token but the SENTENCE_STARTs (a new sentence is not a prediction)
            keep = [t for t in range(len(ids) - 1) if ids[t + 1] != self.start]
            lp = np.concatenate(logps[first:last])
            if ngram is not None:  # the n-gram model predicts the same tokens, sentence by sentence
                other = np.concatenate([ngram.token_logprobs(sentences[k]) for k in range(first, last)])
                lp = mix(lp, other, weight)
            results.append(
                {
                    "text": text,
                    "logprob": float(lp.sum()),
                    "perplexity": math.exp(-float(lp.sum()) / len(keep)),
                    "tokens": [
                        {
                            "token": words[t + 1],
                            "prob": float(math.exp(p)),
                            **({"unknown": True} if ids[t + 1] == self.unk else {}),
                        }
                        for t, p in zip(keep, lp)
                    ],
                    "unknown": sum(i == self.unk for i in ids),
                    # the mixture's weight, where there is one: 1.0 is the model alone
                    **(
                        {"interpolation": {"with": f"kneser_ney_{ngram.order}", "model_weight": weight}}
                        if ngram is not None
                        else {}
                    ),
                }
            )
        return results
