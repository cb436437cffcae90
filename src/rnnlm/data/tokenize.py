"""The tokenize stage: one dump → a Parquet of sentences + a stats JSON.

Comments are read in order, tokenized in parallel (a process pool of `threads`
workers, since NLTK's tokenizers are pure Python) and written in order, one row per
sentence, in row groups: memory stays bounded whatever the dump's size.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import Counter, deque
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from rnnlm import RnnlmError
from rnnlm.atomic import atomic_path, write_json
from rnnlm.progress import Progress, log
from rnnlm.data.readers import Comment, Skip, read_dump
from rnnlm.data.text import skip_reason, tokenize_comment

SCHEMA = pa.schema(
    [
        ("comment_id", pa.string()),
        ("subreddit", pa.string()),
        ("created_utc", pa.int64()),
        ("sentence", pa.int32()),
        ("tokens", pa.list_(pa.string())),
    ]
)
BAD_REASONS = ("invalid_json", "invalid_utf8", "bad_csv_row", "not_a_comment", "too_long")
BATCH = 256  # comments per task sent to a worker
EXAMPLES = 20  # bad records quoted in the stats


def _tokenize_batch(bodies: list[str], mode: str) -> list[list[list[str]]]:
    return [tokenize_comment(b, mode) for b in bodies]


def _batches(records: Iterator[Comment | Skip], mode: str, stats: Counter, examples: list, path):
    """Group kept comments into batches; count skips on the way."""
    while True:
        batch: list[Comment] = []
        for rec in records:
            if isinstance(rec, Skip):
                stats[rec.reason] += 1
                stats["bad_lines"] += rec.lines
                if len(examples) < EXAMPLES:
                    examples.append(f"{path}:{rec.line}: {rec.reason}: {rec.detail}")
                continue
            if reason := skip_reason(rec.body, mode):
                stats[reason] += 1
                continue
            batch.append(rec)
            if len(batch) == BATCH:
                break
        if not batch:
            return
        yield batch


def tokenize_dump(
    path: str,
    out_parquet: str,
    out_stats: str,
    *,
    dump: str,
    fmt: str = "auto",
    normalize: str = "reddit",
    threads: int = 1,
    max_bad_fraction: float = 0.01,
    max_comment_chars: int = 40_000,
    row_group_sentences: int = 100_000,
) -> dict:
    """Tokenize one dump; returns the stats (also written to `out_stats`)."""
    started = time.monotonic()
    source, records = read_dump(path, fmt, id_prefix=dump, max_chars=max_comment_chars)
    if source.size == 0:
        raise RnnlmError(f"{path}: the dump is empty (0 bytes)")
    stats: Counter = Counter()
    examples: list[str] = []
    progress = Progress(f"tokenize {dump}", "comments")
    kept = sentences = tokens = 0
    # spawn, not fork: forking a process that runs other threads (pyarrow's) can deadlock
    pool = multiprocessing.get_context("spawn").Pool(threads) if threads > 1 else None
    try:
        with atomic_path(out_parquet) as tmp:
            writer = pq.ParquetWriter(tmp, SCHEMA, compression="zstd")
            rows: dict[str, list] = {name: [] for name in SCHEMA.names}
            batches = _batches(records, normalize, stats, examples, path)
            for batch, tokenized in _tokenized(batches, normalize, pool, depth=4 * threads):
                for comment, sents in zip(batch, tokenized):
                    if not sents:
                        stats["empty"] += 1
                        continue
                    kept += 1
                    for i, toks in enumerate(sents):
                        rows["comment_id"].append(comment.comment_id)
                        rows["subreddit"].append(comment.subreddit)
                        rows["created_utc"].append(comment.created_utc)
                        rows["sentence"].append(i)
                        rows["tokens"].append(toks)
                        tokens += len(toks)
                    sentences += len(sents)
                if len(rows["tokens"]) >= row_group_sentences:
                    writer.write_table(pa.table(rows, schema=SCHEMA))
                    rows = {name: [] for name in SCHEMA.names}
                read = kept + sum(stats.values()) - stats["bad_lines"]
                progress.update(read, source.position() / source.size)
            if rows["tokens"]:
                writer.write_table(pa.table(rows, schema=SCHEMA))
            writer.close()
            result = _stats(dump, path, normalize, threads, kept, sentences, tokens, stats, examples, started)
            _check(result, path, max_bad_fraction)
            write_json(out_stats, result)
    finally:
        if pool:
            pool.terminate()
        source.close()
    log.info(
        f"tokenize {dump}: {result['comments_kept']:,} of {result['comments_read']:,} comments kept, "
        f"{sentences:,} sentences, {tokens:,} tokens, {result['comments_per_second']:,.0f} comments/s"
    )
    return result


def _tokenized(batches, mode: str, pool, depth: int):
    """(batch, its sentences) in input order, with at most `depth` batches in flight."""
    if pool is None:
        for b in batches:
            yield b, _tokenize_batch([c.body for c in b], mode)
        return
    pending: deque = deque()
    for b in batches:
        pending.append((b, pool.apply_async(_tokenize_batch, ([c.body for c in b], mode))))
        if len(pending) >= depth:
            batch, res = pending.popleft()
            yield batch, res.get()
    while pending:
        batch, res = pending.popleft()
        yield batch, res.get()


def _stats(dump, path, normalize, threads, kept, sentences, tokens, stats, examples, started) -> dict:
    skipped = {k: v for k, v in sorted(stats.items()) if k != "bad_lines"}
    read = kept + sum(skipped.values())
    bad = sum(stats[r] for r in BAD_REASONS)
    seconds = time.monotonic() - started
    return {
        "dump": dump,
        "path": str(path),
        "normalize": normalize,
        "threads": threads,
        "comments_read": read,
        "comments_kept": kept,
        "skipped": skipped,
        "bad_records": bad,
        "bad_lines": stats["bad_lines"],
        "bad_fraction": bad / read if read else 0.0,
        "bad_examples": examples,
        "sentences": sentences,
        "tokens": tokens,
        "seconds": round(seconds, 3),
        "comments_per_second": round(read / seconds, 1) if seconds else 0.0,
    }


def _check(stats: dict, path, max_bad_fraction: float) -> None:
    if stats["comments_read"] == 0:
        raise RnnlmError(f"{path}: no comments in the dump")
    if stats["bad_fraction"] > max_bad_fraction:
        first = "; ".join(stats["bad_examples"][:3])
        raise RnnlmError(
            f"{path}: {stats['bad_records']:,} of {stats['comments_read']:,} records are bad "
            f"({100 * stats['bad_fraction']:.2f}% > max_bad_fraction {100 * max_bad_fraction:g}%): "
            f"{stats['skipped']}; first: {first}"
        )
    if stats["comments_kept"] == 0:
        raise RnnlmError(
            f"{path}: no usable comment among {stats['comments_read']:,} records (skipped: {stats['skipped']})"
        )
