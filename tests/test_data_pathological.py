"""Pathological comments: every cleaning and tokenizing step finishes, and a comment that uses up
its CPU-time budget is a counted skip while the comments around it are kept.

Each input runs in a child process with a generous deadline: a hang check, not a speed test
(a thread could not be stopped, nor even time out, while a regex holds the GIL).
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import token_rows, write_csv

from rnnlm.data import markup

DEADLINE = 30  # seconds per input
HERE = Path(__file__).parent
WIKI_BOT = (HERE / "data" / "wiki-bot-comment.md").read_text()  # shaped like a 2015 wiki-summary bot's
# the link pattern before issue 8: exponential on a destination with a space (the bot's /message/compose links)
OLD_LINK = re.compile(r"\[([^\]\n]*)\]\(\s*(?:[^()\s]+|\([^()\s]*\))+(?:\s+\"[^\"\n]*\")?\s*\)")


def _nested_links(depth: int) -> str:
    text = "x"
    for i in range(depth):
        text = f"[{text}](u{i})"
    return text


INPUTS = {
    "brackets": lambda: "[" * 100_000,
    "parens": lambda: "(" * 100_000,
    "escaped_parens": lambda: "\\(" * 50_000,
    "link_openers": lambda: "](" * 50_000,
    "unclosed_link": lambda: "[a](" + "x" * 100_000,
    "unclosed_links_with_spaces": lambda: "[a](/message/compose?to=bot&amp;subject=x y " * 2_000,
    "entities": lambda: "&amp;#009;" * 10_000,
    "nested_links": lambda: _nested_links(4_000),
    "stars": lambda: "*" * 100_000,
    "carets": lambda: "^" * 100_000,
    "tildes": lambda: "~" * 100_000,
    "quote_markers": lambda: ">" * 100_000,
    "quote_lines": lambda: "&gt; a\n" * 15_000,
    "superscript_groups": lambda: "^(" * 30_000 + ")" * 30_000,
    "bangs": lambda: "!" * 100_000,
    "periods": lambda: "a. " * 33_000,
    "apostrophes": lambda: "'" * 100_000,
    "double_quotes": lambda: '"' * 100_000,
    "space_run": lambda: "." + " " * 100_000 + "x",
    "wiki_bot": lambda: WIKI_BOT,
}

# a child process: clean and tokenize one input, print what came out
CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
from test_data_pathological import INPUTS
from rnnlm.data.text import normalize_reddit, tokenize_comment

def summary(sents):
    return [len(sents), sum(map(len, sents)), sorted({t[:12] for s in sents for t in s})[:4]]

text = INPUTS[sys.argv[2]]()
clean = normalize_reddit(text)
print(json.dumps({"clean": [len(clean), clean[:12]], "reddit": summary(tokenize_comment(text, "reddit")),
                  "tutorial": summary(tokenize_comment(text, "tutorial"))}))
"""

# input -> cleaned length and start; per mode: sentences, tokens, the first distinct tokens (12 characters)
EXPECTED = {
    "brackets": {"clean": [100_000, "[[[[[[[[[[[["], "reddit": [1, 100_000, ["["]], "tutorial": [1, 100_000, ["["]]},
    "parens": {"clean": [100_000, "(((((((((((("], "reddit": [1, 100_000, ["("]], "tutorial": [1, 100_000, ["("]]},
    "escaped_parens": {
        "clean": [50_000, "(((((((((((("],
        "reddit": [1, 50_000, ["("]],
        "tutorial": [1, 100_000, ["(", "\\"]],
    },
    "link_openers": {
        "clean": [100_000, "](](](](](]("],
        "reddit": [1, 100_000, ["(", "]"]],
        "tutorial": [1, 100_000, ["(", "]"]],
    },
    "unclosed_link": {
        "clean": [100_004, "[a](xxxxxxxx"],
        "reddit": [1, 5, ["(", "[", "]", "a"]],
        "tutorial": [1, 5, ["(", "[", "]", "a"]],
    },
    "unclosed_links_with_spaces": {
        "clean": [80_000, "[a](/message"],
        "reddit": [1, 20_000, ["&", "(", "/message/com", "?"]],
        "tutorial": [1, 24_000, ["&", "(", "/message/com", ";"]],
    },
    "entities": {
        "clean": [10_000, "\t\t\t\t\t\t\t\t\t\t\t\t"],
        "reddit": [0, 0, []],
        "tutorial": [1, 60_000, ["#", "&", "009", ";"]],
    },
    "nested_links": {
        "clean": [34_885, "[[[[[[[[[[[["],
        "reddit": [1, 19_996, ["(", ")", "[", "]"]],
        "tutorial": [1, 20_001, ["(", ")", "[", "]"]],
    },
    "stars": {"clean": [0, ""], "reddit": [0, 0, []], "tutorial": [1, 100_000, ["*"]]},
    "carets": {"clean": [0, ""], "reddit": [0, 0, []], "tutorial": [1, 1, ["^^^^^^^^^^^^"]]},
    "tildes": {"clean": [0, ""], "reddit": [0, 0, []], "tutorial": [1, 1, ["~~~~~~~~~~~~"]]},
    "quote_markers": {"clean": [0, ""], "reddit": [0, 0, []], "tutorial": [1, 100_000, [">"]]},
    "quote_lines": {
        "clean": [30_000, "a\na\na\na\na\na\n"],
        "reddit": [1, 15_000, ["a"]],
        "tutorial": [1, 60_000, ["&", ";", "a", "gt"]],
    },
    "superscript_groups": {"clean": [0, ""], "reddit": [0, 0, []], "tutorial": [1, 90_000, ["(", ")", "^"]]},
    "bangs": {"clean": [100_000, "!!!!!!!!!!!!"], "reddit": [3, 100_000, ["!"]], "tutorial": [3, 100_000, ["!"]]},
    "periods": {"clean": [99_000, "a. a. a. a. "], "reddit": [1, 33_000, ["a."]], "tutorial": [1, 33_000, ["a."]]},
    "apostrophes": {
        "clean": [100_000, "''''''''''''"],
        "reddit": [1, 50_000, ["''", "``"]],
        "tutorial": [1, 50_000, ["''", "``"]],
    },
    "double_quotes": {
        "clean": [100_000, '""""""""""""'],
        "reddit": [1, 100_000, ["''", "``"]],
        "tutorial": [1, 100_000, ["''", "``"]],
    },
    "space_run": {"clean": [100_002, ".           "], "reddit": [2, 2, [".", "x"]], "tutorial": [2, 2, [".", "x"]]},
    "wiki_bot": {
        "clean": [653, "Here's a bit"],
        "reddit": [6, 142, ["'s", "(", ")", ","]],
        "tutorial": [6, 427, ["#", "%", "&", "'s"]],
    },
}


@pytest.mark.parametrize("name", list(INPUTS))
def test_pathological_input_finishes(name):
    try:
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(HERE), name],
            capture_output=True,
            text=True,
            timeout=DEADLINE,
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{name}: cleaning and tokenizing did not finish within {DEADLINE} s")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == EXPECTED[name]


def test_wiki_bot_comment_keeps_its_words():
    from rnnlm.data.text import tokenize_comment

    sentences = tokenize_comment(WIKI_BOT, "reddit")
    assert sentences[0][:14] == [
        "here",
        "'s",
        "a",
        "bit",
        "from",
        "linked",
        "wikipedia",
        "article",
        "about",
        "foo",
        "(",
        "band",
        ")",
        ":",
    ]
    assert sentences[-2] == ["will", "also", "delete", "on", "comment", "score", "of", "-1", "or", "less", "."]
    tokens = {t for s in sentences for t in s}
    assert not tokens & {"*", "^", "]", "[", "gt", "amp", "#", "009", "http", "url_token", "\\"}


GOOD = [f"Comment number {i} is fine. It has two sentences." for i in range(100)]


def _expected_rows(bodies):
    return [
        s
        for i in range(len(bodies))
        for s in (["comment", "number", str(i), "is", "fine", "."], ["it", "has", "two", "sentences", "."])
    ]


def test_guard_counts_a_catastrophic_comment_as_pathological(tmp_path, monkeypatch, tokenize):
    """In-process (threads=1): the old link pattern hangs on the bot comment; the guard stops it."""
    monkeypatch.setattr(markup, "_LINK", OLD_LINK)
    path = write_csv(tmp_path / "d.csv", GOOD[:50] + [WIKI_BOT] + GOOD[50:])
    stats, out = tokenize(path, tmp_path, max_comment_seconds=0.5)
    assert stats["skipped"] == {"pathological": 1}
    assert stats["comments_kept"] == 100 and stats["comments_read"] == 101 and stats["bad_records"] == 1
    assert stats["bad_examples"] == [
        f"{path}:52: pathological: tokenizing took more than 0.5 s of CPU time ({len(WIKI_BOT):,} characters)"
    ]
    assert token_rows(out) == _expected_rows(GOOD)


def test_guard_works_in_spawned_workers(tmp_path, tokenize):
    """threads=2 (a spawn pool): a comment over a small budget is skipped, its neighbours kept."""
    heavy = "a. " * 13_000  # legitimate, but ~0.1 s of CPU: far over a 0.01 s budget
    bodies = GOOD + [heavy] + GOOD
    path = write_csv(tmp_path / "d.csv", bodies)
    stats, out = tokenize(path, tmp_path, threads=2, max_comment_seconds=0.01)
    assert stats["skipped"] == {"pathological": 1}
    assert stats["comments_kept"] == 200
    assert stats["bad_examples"][0].startswith(f"{path}:102: pathological: tokenizing took more than 0.01 s")
    assert token_rows(out) == _expected_rows(GOOD) * 2
