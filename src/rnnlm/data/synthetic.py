"""The bundled corpus: reddit-like comments from a stochastic source of known entropy.

Each sentence is drawn from a small generative grammar:

    opener  ->  middle words (a Markov chain over word classes)  ->  closer  ->  . ! ?

* The opener (one of ``3 * topics``) fixes the sentence's topic, its closer (one word per
  opener) and how likely it ends with ``?``. The closer comes after a middle of random
  length, so predicting it needs memory of the first word: an n-gram model cannot, a gated
  RNN can.
* Content words (nouns, verbs, adjectives: pseudo-words) belong to one topic cluster each;
  a word of the sentence's topic is ``topic_boost`` times likelier than its Zipf weight
  alone says. Function words are real English and topic-free.
* Every token sequence has exactly one derivation, so the source log-probability of each
  sentence is exact; the corpus's true cross-entropy per token (words and SENTENCE_END,
  not SENTENCE_START, as the evaluation counts) is written beside it.

Comments carry reddit markup that ``normalize: reddit`` removes without changing the
tokens: HTML entities (``&amp;`` for the ``&`` conjunction, ``&gt;`` quotes), markdown
links around words, bare URLs (the ``url_token`` word), ``**``, ``~~`` and ``^``; a few are
dressed as a wiki-summary bot's (`rnnlm.data.bot_comments`).
Every token survives NLTK tokenization unchanged (checked by the tests).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import math
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import zstandard

from rnnlm.atomic import atomic_path, write_json
from rnnlm.data.bot_comments import render_bot
from rnnlm.data.text import URL_TOKEN
from rnnlm.progress import log

_ONSETS = "b d f g k l m n p r s t v z br dr fl gr kl pl pr sk st tr sh ch th".split()
_VOWELS = "a e i o u ai ea ou oo ie".split()
_CODAS = ["", "", "n", "r", "s", "l", "m", "k", "t", "nd", "st"]

FUNCTION_WORDS = {
    "DET": "the this that every some any my your our their his her no".split(),
    "PRON": "you they we he she it people someone everyone nobody".split(),
    "PREP": "of in on with for about from into over under without like at".split(),
    "CONJ": "and but or so because while &".split(),
    "ADV": "really just never always actually probably still even maybe also".split(),
}
CONTENT_CLASSES = {"NOUN": 1200, "VERB": 700, "ADJ": 500}

# Class transitions of the middle (row: current class; "STOP" ends the middle).
_TRANSITIONS = {
    "BEGIN": {"PRON": 0.35, "DET": 0.35, "ADV": 0.15, "VERB": 0.15},
    "PRON": {"VERB": 0.75, "ADV": 0.25},
    "DET": {"NOUN": 0.65, "ADJ": 0.35},
    "ADJ": {"NOUN": 0.7, "ADJ": 0.1, "COMMA": 0.05, "STOP": 0.15},
    "NOUN": {"VERB": 0.3, "PREP": 0.2, "CONJ": 0.12, "COMMA": 0.08, "STOP": 0.3},
    "VERB": {"DET": 0.35, "PREP": 0.2, "ADV": 0.1, "PRON": 0.1, "ADJ": 0.1, "STOP": 0.15},
    "ADV": {"VERB": 0.55, "ADJ": 0.3, "STOP": 0.15},
    "PREP": {"DET": 0.6, "NOUN": 0.3, "LINK": 0.04, "PRON": 0.06},
    "LINK": {"CONJ": 0.3, "COMMA": 0.2, "STOP": 0.5},
    "CONJ": {"PRON": 0.4, "DET": 0.4, "ADV": 0.2},
    "COMMA": {"CONJ": 0.4, "PRON": 0.3, "DET": 0.3},
}
MIN_MIDDLE, MAX_MIDDLE = 3, 24
BOT_FRACTION = 0.03  # comments in a wiki-summary bot's markup


def _pseudo_words(rng: np.random.Generator, n: int, taken: set[str]) -> list[str]:
    from rnnlm.data.text import punkt_abbreviations, word_tokenize

    abbrevs = punkt_abbreviations()
    words: list[str] = []
    while len(words) < n:
        syllables = rng.integers(2, 4)
        w = "".join(
            rng.choice(_ONSETS) + rng.choice(_VOWELS) + (rng.choice(_CODAS) if i == syllables - 1 else "")
            for i in range(syllables)
        )
        if w in taken or w in abbrevs or word_tokenize(w) != [w]:
            continue
        taken.add(w)
        words.append(w)
    return words


@dataclass
class Source:
    """The generative model; `Source.build(seed, …)` is deterministic."""

    topics: int
    topic_boost: float
    openers: list[str]
    closers: list[str]
    question_prob: np.ndarray  # per opener
    classes: dict[str, list[str]]
    cluster: dict[str, np.ndarray]  # content class -> topic of each word
    zipf: dict[str, np.ndarray]  # class -> unnormalised weight of each word
    _tables: dict = field(default_factory=dict, repr=False)  # emissions and transitions, with CDFs

    @classmethod
    def build(cls, seed: int, *, topics: int, topic_boost: float) -> Source:
        rng = np.random.default_rng(seed)
        taken = {w for ws in FUNCTION_WORDS.values() for w in ws} | {URL_TOKEN}
        classes = {k: list(v) for k, v in FUNCTION_WORDS.items()}
        cluster, zipf = {}, {}
        for name, size in CONTENT_CLASSES.items():
            classes[name] = _pseudo_words(rng, size, taken)
            cluster[name] = rng.integers(0, topics, size)
            zipf[name] = 1.0 / np.arange(1, size + 1) ** 1.0
        for name in FUNCTION_WORDS:
            zipf[name] = 1.0 / np.arange(1, len(classes[name]) + 1) ** 0.8
        openers = _pseudo_words(rng, 3 * topics, taken)
        closers = _pseudo_words(rng, 3 * topics, taken)
        question = np.where(np.arange(3 * topics) % 3 == 0, 0.9, 0.1)
        return cls(topics, topic_boost, openers, closers, question, classes, cluster, zipf)

    def emission(self, name: str, topic: int) -> tuple[np.ndarray, np.ndarray]:
        """P(word | class, topic) over `classes[name]`, and its CDF (`_draw`)."""
        key = (name, topic)
        if key not in self._tables:
            w = self.zipf[name].copy()
            if name in self.cluster:
                w[self.cluster[name] == topic] *= self.topic_boost
            e = w / w.sum()
            self._tables[key] = e, _cdf(e)
        return self._tables[key]

    def transitions(self, state: str, middle: int) -> tuple[list[str], np.ndarray, np.ndarray]:
        """The states that may follow `state` after `middle` middle tokens: names,
        probabilities and CDF."""
        key = (state, middle < MIN_MIDDLE, middle >= MAX_MIDDLE)
        if key not in self._tables:
            nxt = dict(_TRANSITIONS[state])
            if middle < MIN_MIDDLE:
                nxt.pop("STOP", None)
            if middle >= MAX_MIDDLE:
                nxt = {"STOP": 1.0} if "STOP" in nxt else nxt
            names = list(nxt)
            p = np.array([nxt[k] for k in names])
            p /= p.sum()
            self._tables[key] = names, p, _cdf(p)
        return self._tables[key]

    def vocabulary(self) -> set[str]:
        words = {w for ws in self.classes.values() for w in ws}
        return words | set(self.openers) | set(self.closers) | {URL_TOKEN, ",", ".", "?", "!"}

    def sentence(self, rng: np.random.Generator) -> tuple[list[str], list[str], float]:
        """One sentence: (tokens, word classes, exact source log-probability in nats)."""
        n_open = len(self.openers)
        o = int(rng.integers(n_open))
        topic = o % self.topics
        tokens, kinds, logp = [self.openers[o]], ["OPENER"], -math.log(n_open)
        state, middle = "BEGIN", 0
        while True:
            names, p, cdf = self.transitions(state, middle)
            i = _draw(rng, cdf)
            state = names[i]
            logp += math.log(p[i])
            if state == "STOP":
                break
            middle += 1
            if state == "COMMA":
                tokens.append(",")
            elif state == "LINK":
                tokens.append(URL_TOKEN)
            else:
                e, cdf = self.emission(state, topic)
                j = _draw(rng, cdf)
                tokens.append(self.classes[state][j])
                logp += math.log(e[j])
            kinds.append(state)
        q = self.question_prob[o]
        end = "?" if rng.random() < q else ("!" if rng.random() < 0.25 else ".")
        logp += math.log(q if end == "?" else (1 - q) * (0.25 if end == "!" else 0.75))
        tokens += [self.closers[o], end]
        kinds += ["CLOSER", "END"]
        return tokens, kinds, logp


def _cdf(p: np.ndarray) -> np.ndarray:
    cdf = p.cumsum()
    cdf /= cdf[-1]
    return cdf


def _draw(rng: np.random.Generator, cdf: np.ndarray) -> int:
    """`rng.choice(len(p), p=p)` from p's `_cdf`, drawing exactly as numpy does (one uniform
    double, searched from the right), so the corpus is the same; without numpy's checks of
    p at every call, which took most of the generation's time."""
    return int(cdf.searchsorted(rng.random(), side="right"))


def _render(tokens: list[str], kinds: list[str], rng: np.random.Generator) -> str:
    """Reddit-style text for one sentence; `normalize: reddit` maps it back to `tokens`."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        tok, kind = tokens[i], kinds[i]
        if kind == "LINK":
            out.append(f"https://www.example.com/r/{rng.integers(10**6):x}")
        elif kind in CONTENT_CLASSES and rng.random() < 0.06:
            span = [tok]
            while len(span) < 3 and kinds[i + len(span)] in CONTENT_CLASSES:
                span.append(tokens[i + len(span)])
            link = f"https://en.example.org/wiki/{span[0]}"
            out.append(f"[{' '.join(span)}]({link})")
            i += len(span)
            continue
        elif kind in CONTENT_CLASSES and rng.random() < 0.05:
            out.append(rng.choice(["**{}**", "~~{}~~", "^{}"]).format(tok))
        elif tok == "&":
            out.append("&amp;")
        else:
            out.append(tok)
        i += 1
    text = " ".join(out[:-1]) + out[-1]  # the final punctuation sticks to the closer
    return text.replace(" ,", ",")


@dataclass
class Comment:
    comment_id: str
    body: str
    sentences: list[list[str]]
    logp: float  # exact source log-probability of all its sentences (nats)


def generate_comments(source: Source, n: int, seed: int, bot_fraction: float = BOT_FRACTION) -> list[Comment]:
    """`n` comments of 1–6 sentences; some quoted (``&gt;`` on its own line), some (`bot_fraction`)
    in a wiki-summary bot's markup (`bot_comments`), drawn from a random stream of their own that
    replaces the ordinary rendering: bots change no sentence and no other comment."""
    rng = np.random.default_rng(seed)
    bots = np.random.default_rng([seed, 1])
    out = []
    for k in range(n):
        parts, sents, all_kinds, logp = [], [], [], 0.0
        for _ in range(int(rng.integers(1, 7))):
            tokens, kinds, lp = source.sentence(rng)
            sents.append(tokens)
            all_kinds.append(kinds)
            logp += lp
            text = _render(tokens, kinds, rng)
            if rng.random() < 0.05:
                parts.append(f"\n&gt; {text}\n\n")
            else:
                parts.append(text + " ")
        body = "".join(parts).strip()
        comment_id = _base36(seed * 1_000_003 + k)
        if bots.random() < bot_fraction:
            body = render_bot(sents, all_kinds, bots, comment_id)
        out.append(Comment(comment_id, body, sents, logp))
    return out


def _base36(n: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    s = ""
    while True:
        n, r = divmod(n, 36)
        s = digits[r] + s
        if n == 0:
            return s


def name_seed(seed: int, name: str) -> int:
    """A per-dump seed: stable across runs and machines (no Python hash randomisation)."""
    return int.from_bytes(hashlib.sha256(f"{seed}:{name}".encode()).digest()[:4], "little")


def write_synthetic_dump(
    name: str,
    dump_path: str,
    truth_path: str,
    entropy_path: str,
    *,
    comments: int,
    seed: int,
    topics: int,
    topic_boost: float,
) -> dict:
    """Write one bundled dump (CSV in the tutorial's format, or Pushshift NDJSON .zst by the
    path's suffix), the source log-probability of every comment, and the entropy summary."""
    source = Source.build(seed, topics=topics, topic_boost=topic_boost)
    batch = generate_comments(source, comments, name_seed(seed, name))
    if dump_path.endswith(".csv"):
        # no id column, as in the tutorial: the reader names rows "{dump}:{row}"
        for k, c in enumerate(batch, start=1):
            c.comment_id = f"{name}:{k}"
        _write_csv(dump_path, batch)
    else:
        _write_ndjson_zst(dump_path, batch)
    tokens = _write_truth(truth_path, batch)
    nats = -sum(c.logp for c in batch)
    summary = {
        "dump": name,
        "comments": comments,
        "seed": seed,
        "topics": topics,
        "topic_boost": topic_boost,
        "word_types": len(source.vocabulary()),
        "tokens": tokens,
        "nats_per_token": nats / tokens,
        "perplexity": math.exp(nats / tokens),
        "note": "tokens = words + SENTENCE_END (SENTENCE_START is not predicted); nats are exact "
        "source log-probabilities, per comment in the .truth.parquet beside this file",
    }
    write_json(entropy_path, summary)
    log.info(
        f"synthetic corpus {name}: {comments:,} comments, {tokens:,} tokens, {summary['word_types']:,} word "
        f"types; the source's true perplexity {summary['perplexity']:.2f}"
    )
    return summary


def _write_csv(path: str, batch: list) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, quoting=csv.QUOTE_ALL)
        writer.writerow(["body"])
        writer.writerows([c.body] for c in batch)


def _write_ndjson_zst(path: str, batch: list) -> None:
    text = io.StringIO()
    for k, c in enumerate(batch):
        record = {
            "id": c.comment_id,
            "subreddit": f"synthetic{k % 5}",
            "created_utc": 1433116800 + 37 * k,
            "body": c.body,
        }
        text.write(json.dumps(record) + "\n")
    with atomic_path(path) as tmp:
        tmp.write_bytes(zstandard.ZstdCompressor(level=10).compress(text.getvalue().encode()))


def _write_truth(path: str, batch: list) -> int:
    """The exact source log-probability of every comment; returns the tokens predicted."""
    tokens = [sum(len(s) + 1 for s in c.sentences) for c in batch]  # words + SENTENCE_END
    table = pa.table(
        {
            "comment_id": [c.comment_id for c in batch],
            "nats": [-c.logp for c in batch],
            "tokens": tokens,
            "sentences": [len(c.sentences) for c in batch],
        }
    )
    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)
    return sum(tokens)
