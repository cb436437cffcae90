"""Reddit markup removal (``normalize: reddit``), in linear time whatever the input.

Every pattern here is linear in the length of the text: no quantified group holds a
quantifier that could match the same characters another way (runs are possessive ``*+``/``++``
or atomic), so a failed attempt never re-splits a run; and the attempts that scan far are
started only where their scanned regions cannot overlap much. The argument is spelt out at each
pattern; tests/test_pathological.py runs the adversarial inputs (long runs of ``[``, ``(``,
``\\(``, ``](``, entities, nested links, 100 KB of ``*``, ``^``, ``~``, ``>``).

A real 2015 comment (a wiki-summary bot's: nested links with escaped parentheses in the URLs)
made the previous link pattern, ``(?:[^()\\s]+|\\([^()\\s]*\\))+``, backtrack exponentially:
a run of n URL characters can be cut into those ``+`` pieces in 2**(n-1) ways, each tried when
the closing parenthesis is missing.
"""

from __future__ import annotations

import html

import regex

URL_TOKEN = "url_token"  # what a URL becomes under `normalize: reddit` (after lower-casing)

# `&amp;#009;`: an entity escaped twice (bots write `&#009;`, reddit escapes the `&`). Bounded
# digits: O(1) work per `&#`.
_NUMERIC_REF = regex.compile(r"&#(?:[0-9]{1,7}|[xX][0-9a-fA-F]{1,6});")

# [text](destination) → text. A bracket or parenthesis right after a backslash is escaped (reddit
# writes wikipedia URLs as `Foo_\(bar\)`); the destination (a URL, an optional "title", spaces:
# reddit allows them) may hold one level of balanced parentheses, but no unescaped bracket.
# Linear: an attempt starts only at an unescaped `[` and its text stops at the next unescaped
# bracket, so text scans never overlap; a destination is scanned only after the `](` that ended a
# text, and stops at the next unescaped bracket, so destination scans never overlap either. Every
# run is possessive and the alternatives of each loop start with different characters, so nothing
# is re-split; a `(` group that fails rescans only its own content, once.
_LINK = regex.compile(
    r"\[(?<!\\\[)((?:[^\[\]\\\n]++|\\[\[\]]?+)*+)\]"
    r"\((?:[^()\[\]\\\n]++|\\[()\[\]]?+|\((?:[^()\[\]\\\n]++|\\[()\[\]]?+)*+\))*+\)"
)

# A bare URL: its scheme or `www.`, then a run of URL characters (balanced or escaped parentheses
# allowed) without the punctuation it ends with ("see http://x.com/a, then" keeps its comma). The
# run is possessive and always matches, so the engine resumes after it: each character is scanned
# once (a failed `(` group: twice). `_url_token` gives the trailing punctuation back.
_URL = regex.compile(  # the scheme spelt out case-insensitively: a literal first character is found fast
    r"((?:[hH][tT][tT][pP][sS]?+://|[wW][wW][wW]\.))(?:[^\s<>()\[\]\\]++|\\[()]?+|\([^\s<>()\[\]\\]*+\))*+"
)
_URL_TAIL = ".,;:!?'\""

# `>` quote markers at line starts; a line that is only a horizontal rule (`---`, `* * *`, `___`).
# Anchored at line starts, possessive: each line is scanned once.
_QUOTE = regex.compile(r"^[ \t]*+(?:>[ \t]?+)++", regex.MULTILINE)
_RULE = regex.compile(r"^[ \t]*+(?:(?:-[ \t]*+){3,}+|(?:\*[ \t]*+){3,}+|(?:_[ \t]*+){3,}+)$", regex.MULTILINE)
_RULE_HINT = regex.compile(r"([-*_])[ \t]*+\1[ \t]*+\1")  # what every rule contains

# Inline markup, in one left-to-right pass: escapes, superscripts (`^word`, `^^^word`, `^(several
# words)`, nested), strikethrough `~~`, bold/italic `*`. A `*` run is scanned only from its first
# character (the lookbehinds refuse a start inside a run), every other alternative is O(1).
# Each alternative starts with a literal character, so the engine skips plain text fast.
_MARKUP = r"\^++|~~|\*(?<![\w*]\*)\**+(?=[^\s*])|\*(?<=[^\s*]\*)\**+(?![\w*])|\*\*"
_INLINE = regex.compile(
    r"\\(?P<esc>[\\`*_{}\[\]()#+\-.!:|&<>^~])|(?P<sup>\^++\()|(?P<open>\()|(?P<close>\))|" + _MARKUP
)
_MARKUP_CHARS = regex.compile(r"[\\^~*]")
_MARKUP_ONLY = regex.compile(_MARKUP)  # when there is no escape and no `^(`: a plain substitution


def _url_token(m: regex.Match) -> str:
    url = m.group()
    rest = url[m.end(1) - m.start() :].rstrip(_URL_TAIL)
    if not rest:
        return url  # nothing but punctuation after the scheme: not a URL
    return f" {URL_TOKEN} " + url[m.end(1) - m.start() + len(rest) :]


def _inline(text: str) -> str:
    """Remove inline markup; `^( … )` loses its parentheses, other parentheses stay."""
    if "\\" not in text and "^(" not in text:
        return _MARKUP_ONLY.sub("", text)
    stack: list[bool] = []  # for each open parenthesis: is it a superscript's?

    def repl(m: regex.Match) -> str:
        kind = m.lastgroup
        if kind == "esc":
            return m.group("esc")
        if kind == "sup" or kind == "open":
            stack.append(kind == "sup")
            return "" if kind == "sup" else "("
        if kind == "close":
            return "" if stack and stack.pop() else ")"
        return ""

    return _INLINE.sub(repl, text)


def normalize_reddit(body: str) -> str:
    """Undo reddit's markup so that only the words remain.

    HTML entities are unescaped (``&gt;`` → ``>``, ``&amp;`` → ``&``, a twice-escaped
    ``&amp;#009;`` → tab), markdown links become their text, bare URLs become one placeholder
    token, quote markers at line starts and horizontal rules are removed, and inline markup
    (``**``, ``*``, ``~~``, ``^``, ``^(…)``, backslash escapes) is stripped.
    """
    text = html.unescape(body)
    if "&#" in text:
        text = _NUMERIC_REF.sub(lambda m: html.unescape(m.group()), text)
    if "](" in text:
        text = _LINK.sub(r"\1", text)
    if "://" in text or "ww." in text.lower():
        text = _URL.sub(_url_token, text)
    if ">" in text:
        text = _QUOTE.sub("", text)
    if _RULE_HINT.search(text):
        text = _RULE.sub("", text)
    return _inline(text) if _MARKUP_CHARS.search(text) else text
