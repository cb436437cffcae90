import pytest

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


def test_exact_word_tokenizer_equals_nltk_on_text_and_fuzz():
    import random

    from nltk.tokenize import NLTKWordTokenizer

    from conftest import DATA
    from helpers import read_csv_bodies
    from rnnlm.data.text import ExactWordTokenizer, punkt_english

    for rx, _ in [*NLTKWordTokenizer.STARTING_QUOTES, *NLTKWordTokenizer.PUNCTUATION, *NLTKWordTokenizer.ENDING_QUOTES]:
        assert rx.pattern in ExactWordTokenizer._NEEDS or rx.pattern == r"\s+", rx.pattern  # NLTK changed?
    nltk_tok, ours = NLTKWordTokenizer(), ExactWordTokenizer()
    texts = [s for b in read_csv_bodies(DATA / "reddit-sample.csv") for s in punkt_english().tokenize(b)]
    alphabet = list("abcnotgimewsyAZ ''\"`.,:;!?*&$%#@-()[]{}<>«»“”‘’„\u2012\u2014\n\t0123") + [
        "cannot", "gonna", "wanna", "'tis", "'twas", "more'n", "d'ye", "n't", "'ll", "CANNOT", "...", "--",
    ]
    rng = random.Random(0)
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(30000)]
    for text in texts:
        assert ours.tokenize(text) == nltk_tok.tokenize(text), repr(text)
