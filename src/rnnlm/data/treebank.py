"""NLTK's Treebank word tokenizer (``NLTKWordTokenizer().tokenize``), exactly, without NLTK.

The patterns are NLTK 3.10's, in NLTK's order, with NLTK's replacements. The tests compare
this table with the installed NLTK's class attributes, so an NLTK release that changes a
pattern fails them instead of changing tokens silently. Each step gives what NLTK's gives
(NLTK compiles with the `regex` engine, the contractions with `re`); the shortcuts:

* A substitution is skipped when its pattern needs a character (or ``..``) that the text cannot
  hold: substitutions only add spaces, except that ``"`` may become ``````/``''`` and ``''`` may
  become ``````, so what is present is known from the input; the plan is cached per set.
* Patterns of plain characters (no ``\\s``, ``\\w``, ``\\d``, ``\\b``, no ``(?i)``: nothing whose
  Unicode tables differ between engines) run on `re`, 2-3x faster; the others on `regex`.
* ``\\s+`` → " " is ``str.split``/``join`` unless the text holds a character that only one of
  them counts as space; the two final-period patterns are string operations (`_final_period`).
* Contractions are looked for case-insensitively only when they could be there; short texts
  (``"SENTENCE_END"``, split off by Punkt) are memoised.

tests/test_text.py checks each premise (the whitespace sets, the quote classes) and compares
with NLTK on real text and fuzzes.

Linear time: every pattern is a fixed-width class or literal, a class run, or (the two
final-period patterns) ``[^.]\\.`` then a quote run then ``\\s*$``: the quote run and the
whitespace run after one period are disjoint from those after any other, so each character is
examined a bounded number of times. NLTK 3.10 made the first final-period run possessive
because its class contains a space (without that, re-splitting a space run between the class
and ``\\s*`` was quadratic). tests/test_pathological.py runs the adversarial inputs.
"""

from __future__ import annotations

import re

import regex

FLAGS = regex.UNICODE
# (pattern, replacement, characters of which the pattern needs one or None: always runs)
STARTING_QUOTES = [
    ("([«“‘„]|[`]+)", r" \1 ", "«“‘„`"),
    (r"^\"", r"``", '"'),
    (r"(``)", r" \1 ", "`"),
    (r"([ \(\[{<])(\"|\'{2})", r"\1 `` ", "\"'"),
    (r"(?i)(?<!\w)(\')(?!(?:re|ve|ll|m|t|s|d|n)\b)(?=\w)", r"\1 ", "'"),
]
PUNCTUATION = [
    ((r'([^\.])(\.)([\]\)}>"\'' "»”’ " r"]*+)\s*$"), r"\1 \2 \3 ", "."),
    (r"([:,])([^\d])", r" \1 \2", ":,"),
    (r"([:,])$", r" \1 ", ":,"),
    (r"\.{2,}", r" \g<0> ", "."),
    (r"[;@#$%&]", r" \g<0> ", ";@#$%&"),
    (r"[\u2012-\u2015]", r" \g<0> ", "\u2012\u2013\u2014\u2015"),
    (r'([^\.])(\.)([\]\)}>"\']*)\s*$', r"\1 \2\3 ", "."),
    (r"[?!]", r" \g<0> ", "?!"),
    (r"([^'])' ", r"\1 ' ", "'"),
    (r"[*]", r" \g<0> ", "*"),
]
PARENS_BRACKETS = (r"[\]\[\(\)\{\}\<\>]", r" \g<0> ", "[](){}<>")
DOUBLE_DASHES = (r"--", r" -- ", "-")
ENDING_QUOTES = [
    ("([»”’])", r" \1 ", "»”’"),
    (r"''", " '' ", "'"),
    (r'"', " '' ", '"'),
    (r"\s+", " ", None),
    (r"([^' ])('[sS]|'[mM]|'[dD]|') ", r"\1 \2 ", "'"),
    (r"([^' ])('ll|'LL|'re|'RE|'ve|'VE|n't|N'T) ", r"\1 \2 ", "'"),
]
CONTRACTIONS2 = [
    r"(?i)\b(can)(?#X)(not)\b",
    r"(?i)\b(d)(?#X)('ye)\b",
    r"(?i)\b(gim)(?#X)(me)\b",
    r"(?i)\b(gon)(?#X)(na)\b",
    r"(?i)\b(got)(?#X)(ta)\b",
    r"(?i)\b(lem)(?#X)(me)\b",
    r"(?i)\b(more)(?#X)('n)\b",
    r"(?i)\b(wan)(?#X)(na)(?=\s)",
]
CONTRACTIONS3 = [r"(?i) ('t)(?#X)(is)\b", r"(?i) ('t)(?#X)(was)\b"]
# every contraction pattern needs its two groups' letters in this order, case-insensitively
CONTRACTION_WORDS = ("cannot", "d'ye", "gimme", "gonna", "gotta", "lemme", "more'n", "wanna", "'tis", "'twas")
_CONTRACTION = re.compile("(?i)" + "|".join(CONTRACTION_WORDS))
_CONTRACTION_LOWER = re.compile("|".join(CONTRACTION_WORDS))
# Patterns of plain characters (no \s \w \d \b class and no (?i), whose Unicode tables differ
# between the engines) match the same in `re`, which is 2-3x faster on them.
_ENGINE_DEPENDENT = re.compile(r"\\[sSwWdDbB]|\(\?[a-zA-Z]*i")
# `\s+` → " " is `" ".join(text.split())` unless the text holds one of these: str.split() cuts at
# them, `regex`'s \s does not (tests/test_text.py checks that these are the only differences).
SPLIT_NOT_SPACE = frozenset("\x1c\x1d\x1e\x1f")
# what `regex` matches with \s: str.isspace() (all of it below U+3001) but for SPLIT_NOT_SPACE
REGEX_SPACE = frozenset(chr(c) for c in range(0x3001) if chr(c).isspace()) - SPLIT_NOT_SPACE
DOUBLE_PERIOD = PUNCTUATION[3][0]
MEMO_CHARS = 24  # texts up to this length are memoised
MAX_MEMO = 50_000


def _final_period(quotes: str, between: str):
    """A final-period substitution, ``([^\\.])(\\.)([quotes]*)\\s*$`` → ``\\1{between}\\3 ``, without
    the regex's scan of every position: a match ends at the end of the text (or before a final
    newline, which ``\\s*`` takes), so its period is the last one, preceded by another character
    and followed only by quotes, then whitespace. (The quote run is possessive in the first
    pattern, whose class holds a space, and cannot meet ``\\s`` in the second: maximal in both.)"""

    def sub(repl: str, text: str) -> str:
        j = text.rfind(".")
        if j < 1 or text[j - 1] == ".":
            return text
        after = text[j + 1 :]
        rest = after.lstrip(quotes)
        if rest and not REGEX_SPACE.issuperset(rest):
            return text
        return text[:j] + between + after[: len(after) - len(rest)] + " "

    sub.quotes = quotes  # checked against the pattern's class by the tests
    return sub


# the final-period patterns (NLTK's source, replacement) and their equivalents
FINAL_PERIOD = {
    (PUNCTUATION[0][0], PUNCTUATION[0][1]): _final_period("])}>\"'»”’ ", " . "),
    (PUNCTUATION[6][0], PUNCTUATION[6][1]): _final_period("])}>\"'", " ."),
}


def _sub(pattern: str, repl: str):
    if (pattern, repl) in FINAL_PERIOD:
        return FINAL_PERIOD[pattern, repl]
    if _ENGINE_DEPENDENT.search(pattern):
        return regex.compile(pattern, FLAGS).sub
    return re.compile(pattern).sub


class ExactWordTokenizer:
    """``NLTKWordTokenizer().tokenize(text)``: same patterns, same order, same tokens."""

    def __init__(self):
        head = [*STARTING_QUOTES, *PUNCTUATION, PARENS_BRACKETS, DOUBLE_DASHES]
        self.head = [(_sub(p, repl), repl, needs, p) for p, repl, needs in head]
        self.tail = [(_sub(p, repl), repl, needs, p) for p, repl, needs in ENDING_QUOTES]
        self.contractions = [re.compile(p).sub for p in [*CONTRACTIONS2, *CONTRACTIONS3]]
        self.relevant = frozenset("".join(n for *_, n in [*head, *ENDING_QUOTES] if n)) | SPLIT_NOT_SPACE
        self._relevant_in = re.compile("[" + "".join(map(re.escape, sorted(self.relevant))) + "]").findall
        self._plans: dict[tuple[frozenset, bool], tuple[list, list]] = {}
        self._memo: dict[str, list[str]] = {}

    def _plan(self, present: frozenset, periods: bool) -> tuple[list, list]:
        """The substitutions that can match a text whose relevant characters are `present`;
        `periods`: whether it holds ".." (no substitution joins two periods). A step is (sub,
        replacement); a sub of None stands for `\\s+` → " " done with str.split."""
        chars = set(present)
        if '"' in chars:
            chars |= {"`", "'"}  # ``^"`` → ````, ``"`` → ``''``
        if "'" in chars:
            chars.add("`")  # ``''`` after a space or bracket → ``````
        split = chars.isdisjoint(SPLIT_NOT_SPACE)
        plan = tuple(
            [
                (None if split and pattern == r"\s+" else sub, repl)
                for sub, repl, needs, pattern in steps
                if (needs is None or not chars.isdisjoint(needs)) and (periods or pattern != DOUBLE_PERIOD)
            ]
            for steps in (self.head, self.tail)
        )
        if len(self._plans) < 4096:
            self._plans[present, periods] = plan
        return plan

    def tokenize(self, text: str) -> list[str]:
        if len(text) <= MEMO_CHARS:
            tokens = self._memo.get(text)
            if tokens is None:
                if len(self._memo) >= MAX_MEMO:
                    self._memo.clear()
                tokens = self._memo[text] = self._tokenize(text)
            return list(tokens)
        return self._tokenize(text)

    def _tokenize(self, text: str) -> list[str]:
        present = frozenset(self._relevant_in(text))
        key = (present, ".." in text)
        head, tail = self._plans.get(key) or self._plan(*key)
        for sub, repl in head:
            text = sub(repl, text)
        text = " " + text + " "
        for sub, repl in tail:
            if sub is None:  # the text starts and ends with a space here
                words = text.split()
                text = " " + " ".join(words) + " " if words else " "
            else:
                text = sub(repl, text)
        if _has_contraction(text):
            for sub in self.contractions:
                text = sub(r" \1 \2 ", text)
        return text.split()


def _has_contraction(text: str) -> bool:
    """Whether a contraction pattern could match: `re`'s case-insensitive search, or for ASCII text
    (where `re` folds case as str.lower does) a case-sensitive one on the lower-cased text, 8x faster."""
    if text.isascii():
        return _CONTRACTION_LOWER.search(text.lower()) is not None
    return _CONTRACTION.search(text) is not None
