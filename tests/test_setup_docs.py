"""The docs name no file that is not there: every repository path in README.md and docs/*.md,
in backticks or as a link, exists (outputs under results/, resources/ and logs/ are made by a run)."""

import re
from pathlib import Path

import pytest
from helpers import REPO

DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
TOP = ("src/", "tests/", "bench/", "rules/", "scripts/", "config/", "profiles/", "envs/", "report/", "docs/", ".ci/")
FILES = {"Snakefile", "Makefile", "config.yaml", "pyproject.toml", ".python-version"}
PACKAGE = REPO / "src" / "rnnlm"  # `models/lm.py` in the docs means the package's module


def named_paths(text: str, doc_dir: Path) -> dict[str, Path]:
    """What the text names -> where that file must be."""
    named = {}
    for quoted in re.findall(r"`([A-Za-z0-9_./-]+?)[.,:;]?`", text):
        if quoted.startswith(TOP) or quoted in FILES:
            named[quoted] = REPO / quoted
        elif "/" in quoted and quoted.endswith(".py"):
            named[quoted] = PACKAGE / quoted
    for link in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text):
        if "://" not in link:
            named[link] = doc_dir / link
    return named


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: p.name)
def test_every_path_the_docs_name_exists(doc):
    named = named_paths(doc.read_text(), doc.parent)
    assert len(named) >= 3, f"{doc.name} names almost no repository path: is the check still reading it?"
    missing = sorted(name for name, path in named.items() if not path.exists())
    assert missing == [], f"{doc.relative_to(REPO)} names files that do not exist: {missing}"


def test_the_check_catches_stale_paths():
    text = "See `src/rnnlm/models/ops.py`, `models/kernels.py`, [x](gone.md) and `Snakefile`; `--model` is a flag."
    named = named_paths(text, REPO / "docs")
    assert set(named) == {"src/rnnlm/models/ops.py", "models/kernels.py", "gone.md", "Snakefile"}
    assert [name for name, path in named.items() if not path.exists()] == [
        "src/rnnlm/models/ops.py",
        "models/kernels.py",
        "gone.md",
    ]
