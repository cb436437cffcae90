"""NLTK's Punkt sentence splitter (``PunktSentenceTokenizer.tokenize``), exactly, without NLTK.

The same regular expressions (the sources NLTK 3.10 builds from ``PunktLanguageVars`` and
``PunktToken``, compiled with the `regex` engine and the flags NLTK's ``redos.compile`` uses)
and the same algorithm, step by step, with changes that cannot change a result:

* Whether a candidate boundary is a sentence break depends only on its context string (the
  word before it, the punctuation, what follows it) and the model, so decisions are memoised.
  Most contexts repeat (every wrapped sentence ends in ``". SENTENCE_END"``), so NLTK's token
  objects and per-token regexes run once per distinct context instead of once per occurrence.
* Spans are searched in place (``pos``/``endpos``) where NLTK slices the text first.
* NLTK's ``ortho_context`` is a ``defaultdict`` that grows on every unknown look-up; here it is
  read with ``.get(type, 0)``.
* A text without ``.``, ``?`` or ``!`` has no candidate: it is one sentence without a search, and
  the realignment pattern runs only where the next sentence opens with one of its characters.

Linear time (NLTK 3.10's patterns, as used here): a candidate's lookahead scans the whitespace
run and the token right after its character, which no other candidate scans; the reverse search
for the word before a candidate covers the text since the previous candidate only; the contexts
of the candidates that are decided cover disjoint words plus one following token each; the
word tokenizer of a decision and the realignment pattern take lazy steps whose lookaheads are a
character, a whitespace run or a run of ``-``/``.``, each scanned once per token.
tests/test_pathological.py runs the adversarial inputs (100 KB of ``!``, ``.``, ``a. ``, …).

Importing this module does not import NLTK (whose import pulls in SciPy: ~1.7 s in each
spawned worker). The tests check the sources against the installed NLTK and compare this
splitter with NLTK's own tokenizer, same parameters, on real comments and a fuzz.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

import regex

FLAGS = regex.UNICODE  # NLTK's redos.compile: `regex`, VERSION0, UNICODE (+ the flags below)
SENT_END_CHARS = (".", "?", "!")
PUNCTUATION = tuple(";:,.!?")  # PunktSentenceTokenizer.PUNCTUATION
_ORTHO_BEG_UC, _ORTHO_MID_UC, _ORTHO_UNK_UC = 1 << 1, 1 << 2, 1 << 3
_ORTHO_BEG_LC, _ORTHO_MID_LC, _ORTHO_UNK_LC = 1 << 4, 1 << 5, 1 << 6
_ORTHO_UC = _ORTHO_BEG_UC + _ORTHO_MID_UC + _ORTHO_UNK_UC
_ORTHO_LC = _ORTHO_BEG_LC + _ORTHO_MID_LC + _ORTHO_UNK_LC
MAX_CACHED = 200_000  # memoised decisions per process (the memo is cleared when full)
MAX_CACHED_CHARS = 200  # longer contexts are decided every time (the memo's memory stays bounded)

# PunktLanguageVars (NLTK 3.10): the character classes and the two formats it fills in
# (NLTK fills in the last two characters of NON_WORD_RE from a set: "?!" or "!?", the same class)
SENT_END_RE = r"[\.\?!]"
NON_WORD_RE = r"(?:[)\";}\]\*:@\'\({\[\u2018\u2019\u201c\u201d\xab\xbb\?!])"
MULTI_CHAR_RE = r"(?:\-{2,}|\.{2,}|(?:\.\s){2,}\.)"
WORD_START_RE = r"[^\(\"\`{\[:;&\#\*@\)}\]\-,]"
WORD_TOKENIZE_FMT = r"""(
        %(MultiChar)s
        |
        (?=%(WordStart)s)\S+?  # Accept word characters until end is found
        (?= # Sequences marking a word's end
            \s|                                 # White-space
            $|                                  # End-of-string
            %(NonWord)s|%(MultiChar)s|          # Punctuation
            ,(?=$|\s|%(NonWord)s|%(MultiChar)s) # Comma if at end of word
        )
        |
        \S
    )"""
PERIOD_CONTEXT_FMT = r"""
        %(SentEndChars)s             # a potential sentence ending
        (?=(?P<after_tok>
            %(NonWord)s              # either other punctuation
            |
            \s+(?P<next_tok>\S+)     # or whitespace and some other token
        ))"""
WORD_TOKENIZE_RE = WORD_TOKENIZE_FMT % {"NonWord": NON_WORD_RE, "MultiChar": MULTI_CHAR_RE, "WordStart": WORD_START_RE}
PERIOD_CONTEXT_RE = PERIOD_CONTEXT_FMT % {"NonWord": NON_WORD_RE, "SentEndChars": SENT_END_RE}
BOUNDARY_REALIGNMENT_RE = r'["\')\]}\u2018\u2019\u201c\u201d\xab\xbb]+?(?:\s+|(?=--)|$)'
# PunktToken
ELLIPSIS_RE = r"\.\.+$"
NUMERIC_RE = r"^-?[\.,]?\d[\d,\.-]*\.?$"
INITIAL_RE = r"[^\W\d]\.$"

_period_context = regex.compile(PERIOD_CONTEXT_RE, FLAGS | regex.VERBOSE)
_word_tokenizer = regex.compile(WORD_TOKENIZE_RE, FLAGS | regex.VERBOSE)
_realignment = regex.compile(BOUNDARY_REALIGNMENT_RE, FLAGS | regex.MULTILINE)
_ellipsis = regex.compile(ELLIPSIS_RE, FLAGS)
_numeric = regex.compile(NUMERIC_RE, FLAGS)
_initial = regex.compile(INITIAL_RE, FLAGS)
_CLOSERS = "\"')]}\u2018\u2019\u201c\u201d\xab\xbb"  # the realignment pattern's class
# the last of string.whitespace before a position, as `_get_last_whitespace_index` finds it; the
# reverse search stops at the first one it meets from the right
_last_space = regex.compile(r"(?r)[ \t\n\r\x0b\x0c]")


def last_word_start(text: str, end: int) -> int:
    """Where the word before position `end` starts, for a candidate that is a text's first: after
    the last whitespace before it (`_get_last_whitespace_index`; 0 also when that is at 0)."""
    space = _last_space.search(text, 0, end)
    return space.start() + 1 if space and space.start() > 0 else 0


def _candidates(text: str) -> list[tuple[int, regex.Match]]:
    """``_match_potential_end_contexts``: (start of the word before, match) of each candidate,
    where a candidate whose word overlaps the next one's is dropped."""
    out = []
    prev, prev_start, prev_stop = None, 0, 0  # the pending match and its word's slice
    for match in _period_context.finditer(text):
        start = match.start()
        space = _last_space.search(text, prev_stop, start)
        # `_get_last_whitespace_index` returns 0 both for "none" and for "at index 0"
        word_start = space.start() + 1 if space and space.start() > prev_stop else prev_start
        if prev is not None and prev_stop <= word_start:
            out.append((prev_start, prev))
        prev, prev_start, prev_stop = match, word_start, start
    if prev is not None:
        out.append((prev_start, prev))
    return out


@dataclass(frozen=True, slots=True)
class _Token:
    """A PunktToken after the first annotation pass (only what the decisions read)."""

    tok: str
    type: str
    sentbreak: bool
    abbr: bool
    ellipsis: bool

    def type_no_period(self) -> str:
        return self.type[:-1] if len(self.type) > 1 and self.type[-1] == "." else self.type

    def type_no_sentperiod(self) -> str:
        return self.type_no_period() if self.sentbreak else self.type


class PunktSplitter:
    """``PunktSentenceTokenizer(params).tokenize(text)`` for NLTK's default language variables."""

    def __init__(self, abbrev_types, collocations, sent_starters, ortho_context):
        self.abbrev_types = frozenset(abbrev_types)
        self.collocations = frozenset(collocations)
        self.sent_starters = frozenset(sent_starters)
        self.ortho_context = dict(ortho_context)
        self._decided: dict[str, bool] = {}

    def tokenize(self, text: str) -> list[str]:
        return [text[a:b] for a, b in self.spans(text)]

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every sentence: ``span_tokenize`` with realigned boundaries."""
        if "." not in text and "?" not in text and "!" not in text:  # no candidate: one sentence
            end = len(text.rstrip())
            return [(0, end)] if end else []
        slices = self._slices(text)
        out = []
        realign = 0
        last = len(slices) - 1
        for k, (start, stop) in enumerate(slices):
            start += realign
            if k < last:
                nxt, nxt_stop = slices[k + 1]
                # the realignment pattern starts with one of _CLOSERS: test that before running it
                m = _realignment.match(text, nxt, nxt_stop) if nxt < nxt_stop and text[nxt] in _CLOSERS else None
                if m:
                    out.append((start, nxt + len(m.group(0).rstrip())))
                    realign = m.end() - nxt
                    continue
                realign = 0
            if start < stop:
                out.append((start, stop))
        return out

    def _slices(self, text: str) -> list[tuple[int, int]]:
        """``_slices_from_text``: a sentence ends at each candidate whose context is a break."""
        out = []
        last_break = 0
        decided = self._decided
        for word_start, match in _candidates(text):
            # NLTK's context: the word before + the punctuation + what follows, all contiguous
            context = text[word_start : match.end("after_tok")]
            brk = decided.get(context)
            if brk is None:
                brk = self.contains_sentbreak(context)
            if brk:
                out.append((last_break, match.end()))
                next_tok = match.start("next_tok")
                last_break = next_tok if next_tok >= 0 else match.end()
        out.append((last_break, len(text.rstrip())))
        return out

    def contains_sentbreak(self, context: str) -> bool:
        """``text_contains_sentbreak(context)``, memoised."""
        decided = self._decided.get(context)
        if decided is None:
            decided = self._decide(context)
            if len(context) <= MAX_CACHED_CHARS:
                if len(self._decided) >= MAX_CACHED:
                    self._decided.clear()
                self._decided[context] = decided
        return decided

    def _decide(self, context: str) -> bool:
        tokens = [
            self._first_pass(tok)
            for line in context.split("\n")
            if line.strip()
            for tok in _word_tokenizer.findall(line)
        ]
        return any(self._second_pass(a, b) for a, b in pairwise(tokens))

    def _first_pass(self, tok: str) -> _Token:
        """A token's type and its type-based annotation (``_first_pass_annotation``)."""
        typ = _numeric.sub("##number##", tok.lower())
        sentbreak = abbr = ellipsis = False
        if tok in SENT_END_CHARS:
            sentbreak = True
        elif _ellipsis.match(tok):
            ellipsis = True
        elif tok.endswith(".") and not tok.endswith(".."):
            word = tok[:-1].lower()
            if word in self.abbrev_types or word.split("-")[-1] in self.abbrev_types:
                abbr = True
            else:
                sentbreak = True
        return _Token(tok, typ, sentbreak, abbr, ellipsis)

    def _second_pass(self, tok1: _Token, tok2: _Token) -> bool:
        """Whether `tok1` ends a sentence after ``_second_pass_annotation(tok1, tok2)``."""
        if not tok1.tok.endswith("."):
            return tok1.sentbreak
        typ, next_typ = tok1.type_no_period(), tok2.type_no_sentperiod()
        initial = _initial.match(tok1.tok) is not None
        if (typ, next_typ) in self.collocations:
            return False
        if (tok1.abbr or tok1.ellipsis) and not initial:
            if self._ortho_heuristic(tok2) is True:
                return True
            if tok2.tok[0].isupper() and next_typ in self.sent_starters:
                return True
        if initial or typ == "##number##":
            starter = self._ortho_heuristic(tok2)
            if starter is False:
                return False
            if (
                starter == "unknown"
                and initial
                and tok2.tok[0].isupper()
                and not (self.ortho_context.get(next_typ, 0) & _ORTHO_LC)
            ):
                return False
        return tok1.sentbreak

    def _ortho_heuristic(self, tok: _Token) -> bool | str:
        if tok.tok in PUNCTUATION:
            return False
        ortho = self.ortho_context.get(tok.type_no_sentperiod(), 0)
        if tok.tok[0].isupper() and (ortho & _ORTHO_LC) and not (ortho & _ORTHO_MID_UC):
            return True
        if tok.tok[0].islower() and ((ortho & _ORTHO_UC) or not (ortho & _ORTHO_BEG_LC)):
            return False
        return "unknown"
