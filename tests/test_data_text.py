import pytest
from nltk.tokenize.punkt import PunktSentenceTokenizer

from rnnlm.data.text import URL_TOKEN, normalize_reddit, skip_reason, tokenize_comment, tutorial_sentences


def test_tutorial_example_sentence():
    # the tutorial's example (section 七.4); current Punkt splits "?!" into two sentences
    assert tutorial_sentences("What aren't you understanding about this?!") == [
        ["what", "are", "n't", "you", "understanding", "about", "this", "?"],
        ["!"],
    ]


def test_sentences_split_and_final_period_separated():
    assert tutorial_sentences("Hello world. I like Mr. Smith a lot.") == [
        ["hello", "world", "."],
        ["i", "like", "mr.", "smith", "a", "lot", "."],
    ]


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("a &amp; b &lt;3", "a & b <3"),
        ("see [the docs](http://x.org/a_(b)) now", "see the docs now"),
        ("see [the docs](http://x.org/a) now", "see the docs now"),
        ("go to https://x.com/a?b=1, then", f"go to  {URL_TOKEN} , then"),
        ("www.example.com.", f" {URL_TOKEN} ."),
        ("&gt; quoted\n&gt;&gt; nested\nreply", "quoted\nnested\nreply"),
        ("**bold** ~~gone~~ ^super", "bold gone super"),
        # a wiki-summary bot's markup: escaped parentheses in URLs, spaces in a link's destination,
        # twice-escaped entities, nested superscripts, italic superscript links, rules
        ("[**Foo**](https://en.wikipedia.org/wiki/Foo_\\(bar\\)) rocks", "Foo rocks"),
        ("[^toggle ^NSFW](/message/compose?to=bot&amp;subject=Bot NSFW toggle&amp;message=x) ^or", "toggle NSFW or"),
        ("a&amp;#009;b &amp;#x41;", "a\tb A"),
        ("^(a ^(b c)) d (e) f)", "a b c d (e) f)"),
        ("*^[Source](https://x.org/a)* ^| *italic* ***both***", "Source | italic both"),
        ("[](#or) x", " x"),
        ("line\n---\n* * *\nnext", "line\n\n\nnext"),
        ("see https://en.wikipedia.org/wiki/Foo_(bar). Yes", f"see  {URL_TOKEN} . Yes"),
        # what is not markup stays
        ("5 * 3 = 15", "5 * 3 = 15"),
        ("escaped \\*star\\* and \\(paren\\)", "escaped *star* and (paren)"),
        ("http:// alone", "http:// alone"),
    ],
)
def test_normalize_reddit(raw, expected):
    assert normalize_reddit(raw) == expected


def test_skip_reasons_depend_on_mode():
    assert skip_reason("[deleted]", "reddit") == "deleted"
    assert skip_reason(" [removed] ", "reddit") == "removed"
    assert skip_reason("[deleted]", "tutorial") is None
    assert skip_reason("fine", "reddit") is None


def test_reddit_mode_removes_markup_tutorial_mode_keeps_it():
    body = "&gt; I **love** it &amp; [this](http://a.b/c)."
    assert tokenize_comment(body, "reddit") == [["i", "love", "it", "&", "this", "."]]
    raw = [t for s in tokenize_comment(body, "tutorial") for t in s]
    assert "gt" in raw and "amp" in raw and "http" in raw and "*" in raw


def test_patterns_are_the_installed_nltks():
    """The copied pattern tables are NLTK's, same flags, same replacements, same order."""
    import regex
    from nltk.tokenize import NLTKWordTokenizer as W
    from nltk.tokenize.punkt import PunktLanguageVars, PunktToken

    from rnnlm.data import punkt_exact, treebank

    ours = [*treebank.STARTING_QUOTES, *treebank.PUNCTUATION, treebank.PARENS_BRACKETS, treebank.DOUBLE_DASHES]
    theirs = [*W.STARTING_QUOTES, *W.PUNCTUATION, W.PARENS_BRACKETS, W.DOUBLE_DASHES]
    for steps, nltk_steps in ((ours, theirs), (treebank.ENDING_QUOTES, W.ENDING_QUOTES)):
        assert [(p, r) for p, r, _ in steps] == [(rx.pattern, r) for rx, r in nltk_steps]
        assert [regex.compile(p, treebank.FLAGS).flags for p, *_ in steps] == [rx.flags for rx, _ in nltk_steps]
    assert treebank.CONTRACTIONS2 + treebank.CONTRACTIONS3 == [rx.pattern for rx in W.CONTRACTIONS2 + W.CONTRACTIONS3]
    lang = PunktLanguageVars()
    # NLTK fills in "?!" from a set: either order, the same character class
    for ours_src, rx in (
        (punkt_exact.PERIOD_CONTEXT_RE, lang.period_context_re()),
        (punkt_exact.BOUNDARY_REALIGNMENT_RE, lang.re_boundary_realignment),
    ):
        assert ours_src == rx.pattern.replace("!\\?", "\\?!"), rx.pattern
    ours = (punkt_exact.SENT_END_CHARS, punkt_exact.PUNCTUATION)
    assert ours == (lang.sent_end_chars, PunktSentenceTokenizer.PUNCTUATION)
    # the sources NLTK keeps private, compared through what NLTK does with them
    words = regex.compile(punkt_exact.WORD_TOKENIZE_RE, punkt_exact.FLAGS | regex.VERBOSE)
    ellipsis, numeric, initial = (
        regex.compile(p, punkt_exact.FLAGS)
        for p in (punkt_exact.ELLIPSIS_RE, punkt_exact.NUMERIC_RE, punkt_exact.INITIAL_RE)
    )
    for text in _fuzz_texts(3, 5000, 12):
        assert words.findall(text) == lang.word_tokenize(text), repr(text)
        for tok in lang.word_tokenize(text):
            token = PunktToken(tok)
            assert token.type == numeric.sub("##number##", tok.lower()), repr(tok)
            assert (bool(token.is_ellipsis), bool(token.is_initial)) == (
                bool(ellipsis.match(tok)),
                bool(initial.match(tok)),
            ), repr(tok)


def test_whitespace_shortcut_premises():
    """The Treebank step's `\\s+` → str.split() shortcut and its final-period functions rest on these."""
    import sys

    import regex

    from rnnlm.data import treebank

    every = "".join(map(chr, range(sys.maxunicode + 1)))
    regex_space = set(regex.findall(r"\s", every, treebank.FLAGS))
    python_space = {c for c in every if c.isspace()}  # what str.split() and str.rstrip() cut at
    assert regex_space <= python_space
    assert python_space - regex_space == treebank.SPLIT_NOT_SPACE
    assert regex_space == treebank.REGEX_SPACE
    for (pattern, _), sub in treebank.FINAL_PERIOD.items():  # the quotes a final period may carry
        quote_class = pattern[pattern.index("(\\.)(") + 5 : pattern.rindex("]") + 1]
        assert set(regex.findall(quote_class, every)) == set(sub.quotes), pattern


@pytest.mark.slow
def test_exact_word_tokenizer_equals_nltk_on_text_and_fuzz():
    import random

    from helpers import DATA, read_csv_bodies
    from nltk.tokenize import NLTKWordTokenizer

    from rnnlm.data.text import ExactWordTokenizer, punkt_english

    nltk_tok, ours = NLTKWordTokenizer(), ExactWordTokenizer()
    texts = [s for b in read_csv_bodies(DATA / "reddit-sample.csv") for s in punkt_english().tokenize(b)]
    alphabet = list(
        "abcnotgimewsyAZ ''\"`.,:;!?*&$%#@-()[]{}<>«»“”‘’„\\\u2012\u2014\n\t\r\x0b\x1c\x85\xa0\u2028 0123"
    ) + [
        "cannot",
        "gonna",
        "wanna",
        "'tis",
        "'twas",
        "more'n",
        "d'ye",
        "n't",
        "'ll",
        "CANNOT",
        "...",
        "--",
    ]
    rng = random.Random(0)
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(30000)]
    # the final-period patterns' territory: a sentence, then periods, quotes, brackets, whitespace
    endings = list(".'\")]}>»”’\\ \t\n\r\x0c\x1c\x1f\x85\xa0\u2028\u3000x,") + ["..", "''", " . "]
    sentence = "SENTENCE_START so it goes"
    texts += [sentence + "".join(rng.choice(endings) for _ in range(rng.randint(1, 7))) for _ in range(10000)]
    for text in texts:
        assert ours.tokenize(text) == nltk_tok.tokenize(text), repr(text)
        assert ours.tokenize(text) == nltk_tok.tokenize(text), repr(text)  # again: from the memo, the plan cache


# Pieces of text that exercise Punkt's and Treebank's special cases
FUZZ_PIECES = list("abcAZ  .?!.,;:'\"()[]{}<>-*&\\\n\t“”‘’«»0123") + [
    "Mr.",
    "mr.",
    "Dr. ",
    "e.g.",
    "i.e. ",
    "U.S.",
    "u.s.",
    "St.",
    "Jan.",
    "No. ",
    "vs.",
    "etc.",
    "J.",
    "a.",
    "3.",
    "1,000",
    "2.5",
    "-3",
    "...",
    ". . .",
    "..",
    "--",
    "``",
    "''",
    "The",
    "I",
    "But ",
    "cannot",
    "gonna",
    "'tis",
    "n't",
    "'s",
    "SENTENCE_END",
    "   ",
    "\n\n",
    "é",
    "ß",
    "İ",
    "ﬁ",
    "\U0001f600",
    "\u2014",
    "\xa0",
    "\u2028",
    "\x1c",
]


def _fuzz_texts(seed: int, n: int, max_pieces: int) -> list[str]:
    import random

    rng = random.Random(seed)
    return ["".join(rng.choice(FUZZ_PIECES) for _ in range(rng.randint(1, max_pieces))) for _ in range(n)]


def test_punkt_splitter_equals_nltk_on_text_and_fuzz(punkt_tab_dir):
    import nltk
    from helpers import DATA, read_csv_bodies

    from rnnlm.data.text import punkt_english

    bodies = read_csv_bodies(DATA / "reddit-sample.csv")
    texts = bodies + [b.lower() for b in bodies] + _fuzz_texts(1, 20000, 25)
    texts += [f"SENTENCE_START {s} SENTENCE_END" for t in texts[: len(bodies) * 2] for s in nltk.sent_tokenize(t)]
    for text in texts:
        assert punkt_english().tokenize(text) == nltk.sent_tokenize(text), repr(text)


def test_tutorial_sentences_equal_unchanged_nltk_on_random_texts(punkt_tab_dir):
    """The whole shortcut (memoised Punkt twice, planned Treebank) against the tutorial's code."""
    import nltk

    for text in _fuzz_texts(2, 3000, 40):
        tutorial = [nltk.word_tokenize(f"SENTENCE_START {s} SENTENCE_END") for s in nltk.sent_tokenize(text.lower())]
        # markers stripped where they are whole tokens at both ends, as tutorial_sentences does
        expected = [t[1:-1] if (t[0], t[-1]) == ("SENTENCE_START", "SENTENCE_END") else t for t in tutorial]
        assert tutorial_sentences(text) == expected, repr(text)
