"""Tokenize throughput: comments/s for 1 and 2 processes, against the tutorial's own code.

Runs the pipeline's tokenize stage (CSV in, Parquet out, `normalize: tutorial`) on N
reddit-length comments (~535 characters each: one of the hand-written reddit comments of
tests/data followed by synthetic ones with markup), and the tutorial's preprocessing (unchanged
`nltk.sent_tokenize` / `nltk.word_tokenize`) on the same comments in this process;
checks the tokens are identical and prints JSON. Usage: python bench/tokenize.py [N]
"""

import sys

# This file's name shadows the standard library's `tokenize`: take its folder off the path.
sys.path = [p for p in sys.path if p not in ("", __file__.rsplit("/", 1)[0])]

import json  # noqa: E402
import os  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import pyarrow.parquet as pq  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

from conftest import DATA  # noqa: E402
from helpers import read_csv_bodies, tutorial_pipeline, write_csv, write_punkt_tab  # noqa: E402

from rnnlm.data.synthetic import Source, generate_comments  # noqa: E402
from rnnlm.data.tokenize import tokenize_dump  # noqa: E402


def reddit_length_comments(n: int) -> list[str]:
    pieces = iter(c.body for c in generate_comments(Source.build(1, topics=8, topic_boost=10.0), 4 * n, seed=2))
    real = read_csv_bodies(DATA / "reddit-sample.csv")
    out = []
    for i in range(n):
        body = real[i % len(real)] + " "
        while len(body) < 280:
            body += next(pieces) + "\n\n"
        out.append(body.strip())
    return out


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 6000
    tmp = Path(tempfile.mkdtemp())
    write_punkt_tab(tmp / "nltk_data")
    bodies = reddit_length_comments(n)
    path = write_csv(tmp / "bench.csv", bodies)

    t = time.perf_counter()
    reference = tutorial_pipeline(path)
    reference_rate = n / (time.perf_counter() - t)

    result = {"comments": n, "mean_chars": round(sum(map(len, bodies)) / n), "cpus": os.cpu_count(),
              "tutorial_code_comments_per_s": round(reference_rate)}
    for threads in (1, 2):
        out = tmp / f"t{threads}.parquet"
        stats = tokenize_dump(str(path), str(out), str(tmp / "s.json"), dump="bench", normalize="tutorial", threads=threads)
        rate = stats["comments_kept"] / stats["seconds"]
        tokens = [["SENTENCE_START", *t, "SENTENCE_END"] for t in pq.read_table(out).column("tokens").to_pylist()]
        result[f"threads_{threads}_comments_per_s"] = round(rate)
        result[f"threads_{threads}_vs_tutorial_code"] = round(rate / reference_rate, 2)
        result[f"threads_{threads}_tokens_identical"] = tokens == reference
    result["target_comments_per_s_2_threads"] = 1000
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
