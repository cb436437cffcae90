"""Bot comment shapes for the bundled corpus, after a 2015 wiki-summary bot's markup.

A bot comment here is the source's own sentences in the bot's dress: a wikipedia link whose
URL escapes its parentheses (``Foo_\\(bar\\)``) around ``***bold italic***`` text, a ``&gt;``
quote with ``**bold**`` and a twice-escaped tab (``&amp;#009;``), ``---`` rules, and a footer
of ``^^^`` superscripts with nested ``^(… ^(…))`` groups and a ``/message/compose`` link whose
destination holds spaces and entities. ``normalize: reddit`` removes all of it, so the comment
still tokenizes to exactly its sentences (the bundled corpus's contract, tested); the bot's own
boilerplate words are left out for that reason: they are not the source's tokens.
"""

from __future__ import annotations

import numpy as np

WORDS = ("NOUN", "VERB", "ADJ", "DET", "PRON", "PREP", "CONJ", "ADV", "OPENER", "CLOSER")
CONTENT = ("NOUN", "VERB", "ADJ")


def _wiki_url(word: str, other: str) -> str:
    return f"https://en.wikipedia.org/wiki/{word.capitalize()}_\\({other}\\)"


def _join(pieces: list[str]) -> str:
    """Words joined by spaces; the final punctuation and commas stick to the word before."""
    text = " ".join(pieces[:-1]) + pieces[-1]
    return text.replace(" ,", ",")


def _plain(tok: str, kind: str, rng: np.random.Generator) -> str:
    if kind == "LINK":
        return _wiki_url("topic", f"{rng.integers(10**4)}")
    return "&amp;" if tok == "&" else tok


def _header(tokens: list[str], kinds: list[str], rng: np.random.Generator) -> str:
    pieces = [_plain(t, k, rng) for t, k in zip(tokens, kinds)]
    content = [i for i, k in enumerate(kinds) if k in CONTENT] or [0]
    j = int(rng.choice(content))
    pieces[j] = f"[***{tokens[j]}***]({_wiki_url(tokens[j], tokens[0])})"
    return _join(pieces)


def _quote(tokens: list[str], kinds: list[str], rng: np.random.Generator) -> str:
    pieces = [_plain(t, k, rng) for t, k in zip(tokens, kinds)]
    content = [i for i, k in enumerate(kinds) if k in CONTENT]
    if content:
        j = int(rng.choice(content))
        pieces[j] = f"**{pieces[j]}**"
    words = [i for i in range(len(kinds) - 2) if kinds[i] in WORDS and kinds[i + 1] in WORDS]
    if words:  # a tab between two words, escaped twice as the bot's came
        j = int(rng.choice(words))
        pieces[j : j + 2] = [pieces[j] + "&amp;#009;" + pieces[j + 1]]
    return "&gt;" + _join(pieces)


def _footer(tokens: list[str], kinds: list[str], rng: np.random.Generator, comment: str) -> str:
    plain = [_plain(t, k, rng) for t, k in zip(tokens, kinds)]
    pieces = [("^^^" + p) if k in WORDS else p for p, k in zip(plain, kinds)]
    link = f"/message/compose?to=autowikibot&amp;subject=AutoWikibot Deletion&amp;message=%2Bdelete+{comment}"
    pieces[0] = f"[^{plain[0]}]({link})"  # a destination with spaces and entities; the opener is a word
    words = [i for i in range(1, len(kinds) - 1) if kinds[i] in WORDS]
    if words:  # italic superscript link, as in `*^[Source](…)*`
        j = int(rng.choice(words))
        pieces[j] = f"*^[{plain[j]}](https://www.reddit.com/r/autowikibot/wiki/index)*"
    runs = [i for i in range(1, len(kinds) - 3) if all(k in WORDS for k in kinds[i : i + 3])]
    if runs:  # nested superscripts: ^(a ^(b c))
        j = int(rng.choice(runs))
        pieces[j : j + 3] = [f"^({plain[j]} ^({plain[j + 1]} {plain[j + 2]}))"]
    return _join(pieces)


def render_bot(sentences: list[list[str]], kinds: list[list[str]], rng: np.random.Generator, comment: str) -> str:
    """A bot-style comment whose normalised text tokenizes to `sentences`."""
    parts = []
    last = len(sentences) - 1
    for i, (tokens, knd) in enumerate(zip(sentences, kinds)):
        if i == 0:
            parts.append(_header(tokens, knd, rng))
        elif i == last:
            parts.append("---\n\n" + _footer(tokens, knd, rng, comment))
        else:
            parts.append(_quote(tokens, knd, rng))
    return "\n\n".join(parts)
