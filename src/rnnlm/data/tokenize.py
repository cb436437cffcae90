"""The tokenize stage: one dump → a Parquet of sentences + a stats JSON.

Comments are read in order, tokenized in parallel (a process pool of `threads`
workers, since NLTK's tokenizers are pure Python) and written in order, one row per
sentence, in row groups: memory stays bounded whatever the dump's size.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.pool
import time
from collections import Counter, deque
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from rnnlm import RnnlmError
from rnnlm.atomic import atomic_path, write_json
from rnnlm.data.guard import DEFAULT_SECONDS, CpuBudget, init_worker, tokenize_guarded, worker_batch
from rnnlm.data.readers import Comment, Skip, read_dump
from rnnlm.data.text import punkt_english, skip_reason
from rnnlm.progress import Progress, log

SCHEMA = pa.schema(
    [
        ("comment_id", pa.string()),
        ("subreddit", pa.string()),
        ("created_utc", pa.int64()),
        ("sentence", pa.int32()),
        ("tokens", pa.list_(pa.string())),
    ]
)
BAD_REASONS = ("invalid_json", "invalid_utf8", "bad_csv_row", "not_a_comment", "too_long", "pathological")
BATCH = 256  # comments per task sent to a worker
EXAMPLES = 20  # bad records quoted in the stats


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


class _Rows:
    """Sentence rows of kept comments: converted to Arrow batch by batch (in the main process,
    while the workers tokenize the next batches) and written to the Parquet file in row groups."""

    def __init__(self, writer: pq.ParquetWriter, row_group_sentences: int):
        self.writer, self.row_group = writer, row_group_sentences
        self.kept = self.sentences = self.tokens = 0
        self.batches: list[pa.RecordBatch] = []
        self.pending = 0  # sentences in self.batches
        self._clear()

    def _clear(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in SCHEMA.names}

    def add(self, comment: Comment, sents: list[list[str]]) -> None:
        n = len(sents)
        c = self.columns
        c["comment_id"] += [comment.comment_id] * n
        c["subreddit"] += [comment.subreddit] * n
        c["created_utc"] += [comment.created_utc] * n
        c["sentence"] += range(n)
        c["tokens"] += sents
        self.kept += 1
        self.sentences += n
        self.tokens += sum(map(len, sents))

    def end_batch(self) -> None:
        self._convert()
        if self.pending >= self.row_group:
            self._write()

    def flush(self) -> None:
        self._convert()
        self._write()

    def _convert(self) -> None:
        if self.columns["tokens"]:
            self.batches.append(pa.RecordBatch.from_pydict(self.columns, schema=SCHEMA))
            self.pending += len(self.columns["tokens"])
            self._clear()

    def _write(self) -> None:
        """What is held, as one row group."""
        if self.batches:
            self.writer.write_table(pa.Table.from_batches(self.batches, schema=SCHEMA))
            self.batches, self.pending = [], 0


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
    max_comment_seconds: float = DEFAULT_SECONDS,
    row_group_sentences: int = 100_000,
) -> dict:
    """Tokenize one dump; returns the stats (also written to `out_stats`).

    A comment that takes more than `max_comment_seconds` of CPU time is skipped and counted as
    ``pathological`` (`rnnlm.data.guard`; 0 turns the guard off)."""
    started = time.monotonic()
    source, records = read_dump(path, fmt, id_prefix=dump, max_chars=max_comment_chars)
    if source.size == 0:
        raise RnnlmError(f"{path}: the dump is empty (0 bytes)")
    stats: Counter = Counter()
    examples: list[str] = []
    progress = Progress(f"tokenize {dump}", "comments")
    pool, budget = _workers(threads, max_comment_seconds)
    try:
        with atomic_path(out_parquet) as tmp:
            rows = _Rows(pq.ParquetWriter(tmp, SCHEMA, compression="zstd"), row_group_sentences)
            batches = _batches(records, normalize, stats, examples, path)
            for batch, tokenized in _tokenized(batches, normalize, pool, budget, depth=4 * threads):
                for comment, sents in zip(batch, tokenized):
                    if sents is None:
                        _pathological(comment, stats, examples, path, max_comment_seconds)
                    elif not sents:
                        stats["empty"] += 1
                    else:
                        rows.add(comment, sents)
                rows.end_batch()
                read = rows.kept + sum(stats.values()) - stats["bad_lines"]
                progress.update(read, source.position() / source.size)
            rows.flush()
            rows.writer.close()
            result = _stats(dump, path, normalize, threads, rows, stats, examples, started)
            _check(result, path, max_bad_fraction)
            write_json(out_stats, result)
    finally:
        if pool:
            pool.terminate()
        if budget:
            budget.close()
        source.close()
    log.info(
        f"tokenize {dump}: {result['comments_kept']:,} of {result['comments_read']:,} comments kept, "
        f"{rows.sentences:,} sentences, {rows.tokens:,} tokens, {result['comments_per_second']:,.0f} comments/s"
    )
    return result


def _workers(threads: int, seconds: float) -> tuple[multiprocessing.pool.Pool | None, CpuBudget | None]:
    """A pool of `threads` worker processes, or for one thread the budget for this process."""
    punkt_english()  # load the model before any comment's budget starts
    if threads > 1:
        # spawn, not fork: forking a process that runs other threads (pyarrow's) can deadlock
        spawn = multiprocessing.get_context("spawn")
        return spawn.Pool(threads, initializer=init_worker, initargs=(seconds,)), None
    return None, CpuBudget(seconds)


def _pathological(comment: Comment, stats: Counter, examples: list, path, seconds: float) -> None:
    stats["pathological"] += 1
    if len(examples) < EXAMPLES:
        examples.append(
            f"{path}:{comment.line}: pathological: tokenizing took more than {seconds:g} s of CPU time "
            f"({len(comment.body):,} characters)"
        )


def _tokenized(batches, mode: str, pool, budget, depth: int):
    """(batch, its sentences or None per comment) in input order, at most `depth` batches in flight."""
    if pool is None:
        for b in batches:
            yield b, tokenize_guarded([c.body for c in b], mode, budget)
        return
    pending: deque = deque()
    for b in batches:
        pending.append((b, pool.apply_async(worker_batch, ([c.body for c in b], mode))))
        if len(pending) >= depth:
            batch, res = pending.popleft()
            yield batch, res.get()
    while pending:
        batch, res = pending.popleft()
        yield batch, res.get()


def _stats(dump, path, normalize, threads, rows: _Rows, stats, examples, started) -> dict:
    skipped = {k: v for k, v in sorted(stats.items()) if k != "bad_lines"}
    read = rows.kept + sum(skipped.values())
    bad = sum(stats[r] for r in BAD_REASONS)
    seconds = time.monotonic() - started
    return {
        "dump": dump,
        "path": str(path),
        "normalize": normalize,
        "threads": threads,
        "comments_read": read,
        "comments_kept": rows.kept,
        "skipped": skipped,
        "bad_records": bad,
        "bad_lines": stats["bad_lines"],
        "bad_fraction": bad / read if read else 0.0,
        "bad_examples": examples,
        "sentences": rows.sentences,
        "tokens": rows.tokens,
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
