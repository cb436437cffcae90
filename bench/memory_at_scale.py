"""Peak memory of every stage on a dump of 1,000,000 comments with a realistic tail.

Writes a Pushshift-style `.ndjson.zst` of N comments (default 1,000,000) in a stream: each
comment is 1–6 sentences drawn from a pool rendered by the bundled corpus's generator (the
generator itself makes ~400 comments/s, too slow for a million), with its own id; the pool's
comments include the generator's wiki-bot ones (nested markdown, escaped entities). With
`--tail K` (default 300), K comments of each kind that break naive batching are mixed in:
an unpunctuated rant and a bulleted list just under `max_comment_chars` (one sentence each:
Punkt does not split on newlines), and a comma list of about 23,000 tokens in one sentence,
whose words (`w0` … `w7999`) also fill the vocabulary to C = 8,000. Then runs the real
pipeline on it — tokenize, count, vocab, encode, the gate, `--train-steps` steps of a small
GRU with the default training settings (its validation included; 0: a whole epoch), the
baselines and evaluate — and prints JSON: each job's peak RSS (max_rss, MB) and seconds from
Snakemake's `benchmark:` files, against the 1.5 GB target.

    .venv/bin/python bench/memory_at_scale.py [--comments N] [--tail K] [--train-steps S] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import yaml
import zstandard

from rnnlm.data.synthetic import Source, generate_comments

REPO = Path(__file__).resolve().parents[1]
TARGET_MB = 1536
MODEL = {
    "cell": "gru",
    "embedding": 32,
    "hidden": 32,
    "train": {"epochs": 1, "batch_size": 64, "eval_every": 5000, "patience": 100, "checkpoint_minutes": 5},
}


MAX_CHARS = 40_000  # the schema's max_comment_chars


def tail_words(pool: list[str]) -> np.ndarray:
    """The pool's words without sentence-ending punctuation."""
    return np.array(" ".join(pool).replace(".", "").replace("!", "").replace("?", "").split())


def tail_body(kind: int, words: np.ndarray, rng) -> str:
    """One comment whose one sentence is as long as a comment may be: an unpunctuated rant
    (kind 0), a bulleted list (1), or a comma list of about 23,000 tokens (2)."""
    if kind == 0:
        return " ".join(rng.choice(words, MAX_CHARS // 4))[: MAX_CHARS - 100]  # no sentence end at all
    if kind == 1:
        items = rng.choice(words, (MAX_CHARS // 20, 3))
        return "\n".join(f"- {' '.join(item)}" for item in items)[: MAX_CHARS - 100]
    # short items, one in ten a word of w0 … w7999 (these fill the vocabulary to C = 8,000)
    letters = rng.choice(list("xyzq"), 13_000)
    vocab_words = np.char.add("w", rng.integers(8000, size=13_000).astype(str))
    short = np.where(rng.random(13_000) < 0.1, vocab_words, letters)
    return ", ".join(short)[: MAX_CHARS - 100] + "."


def write_dump(path: Path, comments: int, tail: int, seed: int = 7, pool_comments: int = 4000) -> float:
    """Stream `comments` comments, `tail` of each long kind among them, into a .ndjson.zst;
    returns the mean body length."""
    source = Source.build(seed, topics=8, topic_boost=8.0)
    pool = [s for c in generate_comments(source, pool_comments, seed) for s in c.body.split(". ") if s]
    rng = np.random.default_rng(seed)
    words = tail_words(pool)
    long_at = set(rng.choice(comments, min(comments, 3 * tail), replace=False).tolist())
    chars = 0
    with open(path, "wb") as raw, zstandard.ZstdCompressor(level=3).stream_writer(raw) as out:
        for start in range(0, comments, 10_000):
            n = min(10_000, comments - start)
            counts = rng.integers(1, 7, n)
            picks = rng.integers(0, len(pool), counts.sum())
            lines, at = [], 0
            for k, c in enumerate(counts):
                body = ". ".join(pool[i] for i in picks[at : at + c]) + "."
                if start + k in long_at:
                    body = tail_body((start + k) % 3, words, rng)
                at += c
                chars += len(body)
                record = {"id": f"t1_{start + k:x}", "subreddit": f"s{k % 50}", "created_utc": 1438387200 + start + k}
                lines.append(json.dumps(record | {"body": body}))
            out.write(("\n".join(lines) + "\n").encode())
    return chars / comments


def longest_sentence(encoded: Path) -> int:
    ids = pq.read_table(encoded, columns=["ids"]).column("ids")
    return int(pc.max(pc.list_value_length(ids)).as_py()) - 2  # without START and END


def benchmarks(workdir: Path) -> dict:
    rows = {}
    for tsv in sorted((workdir / "benchmarks").rglob("*.tsv")):
        with open(tsv) as f:
            row = next(csv.DictReader(f, delimiter="\t"))
        rows[str(tsv.relative_to(workdir / "benchmarks").with_suffix(""))] = {
            "max_rss_mb": round(float(row["max_rss"]), 1),
            "seconds": round(float(row["s"]), 1),
        }
    return rows


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--comments", type=int, default=1_000_000)
    p.add_argument("--workdir", default=str(REPO / ".cache/bench-memory"))
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--train-steps", type=int, default=3000, help="training steps (0: a whole epoch)")
    p.add_argument("--tail", type=int, default=300, help="comments of each long kind")
    args = p.parse_args()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    dump = workdir / f"RC_big-{args.comments}-tail{args.tail}.ndjson.zst"
    started = time.monotonic()
    mean_chars = write_dump(dump, args.comments, args.tail) if not dump.exists() else None
    written = time.monotonic() - started
    model = MODEL | {"train": MODEL["train"] | {"max_steps": args.train_steps}}
    config = {
        "dumps": {"big": {"path": str(dump), "shards": 1}},
        "models": {"small": model},
        "vocabulary_size": 8000,
        "threads": args.threads,
    }
    (workdir / "bench.yaml").write_text(yaml.safe_dump(config))
    snakemake = str(Path(sys.executable).with_name("snakemake"))
    # targets before --configfile, which takes every argument after it
    subprocess.run(
        [
            snakemake,
            "--snakefile",
            str(REPO / "Snakefile"),
            "--directory",
            str(workdir),
            "--cores",
            str(args.threads),
            "results/encoded/big.parquet",
            "results/models/small/model.npz",
            "results/models/small/eval.json",
            "--configfile",
            str(workdir / "bench.yaml"),
        ],
        check=True,
        cwd=workdir,
    )
    jobs = benchmarks(workdir)
    stats = json.loads((workdir / "results/tokens/big.stats.json").read_text())
    result = {
        "comments": stats["comments_read"],
        "tokens": stats["tokens"],
        "train_steps": args.train_steps,
        "tail_per_kind": args.tail,
        "longest_sentence_tokens": longest_sentence(workdir / "results/encoded/big.parquet"),
        "vocabulary": pq.read_metadata(workdir / "results/vocab.parquet").num_rows,
        "dump_mb": round(dump.stat().st_size / 1e6),
        "mean_chars": round(mean_chars) if mean_chars else None,
        "write_seconds": round(written, 1),
        "target_max_rss_mb": TARGET_MB,
        "jobs": jobs,
        "all_under_target": all(j["max_rss_mb"] < TARGET_MB for j in jobs.values()),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
