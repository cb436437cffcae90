"""The tokenize stage: one dump (or one shard of it) → a Parquet of sentences + a stats JSON.

Comments are read in order, tokenized in parallel (a process pool of `threads` workers,
since NLTK's tokenizers are pure Python) and written in order, one row per sentence, in
row groups: memory stays bounded whatever the dump's size.

A dump may be cut into `shards` jobs: every shard streams the whole file (decompressing
is cheap; tokenizing is the cost) and tokenizes only its blocks of `BLOCK` consecutive
records; `merge_shards` interleaves the blocks back into exactly the rows and stats of an
unsharded run. Each row carries `record`, its comment's position among the dump's records.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

import pyarrow as pa
import pyarrow.parquet as pq

from rnnlm.atomic import atomic_path, write_json
from rnnlm.data.guard import CpuBudget, init_worker, tokenize_guarded, worker_batch
from rnnlm.data.readers import Comment, Skip, read_dump
from rnnlm.data.text import punkt_english, skip_reason
from rnnlm.data.tokenstats import Tally, check_stats
from rnnlm.errors import RnnlmError
from rnnlm.progress import Progress, log

SCHEMA = pa.schema(
    [
        ("comment_id", pa.string()),
        ("subreddit", pa.string()),
        ("created_utc", pa.int64()),
        ("record", pa.int64()),
        ("sentence", pa.int32()),
        ("tokens", pa.list_(pa.string())),
    ]
)
BATCH = 256  # comments per task sent to a worker
BLOCK = 1024  # consecutive records a shard takes in turn


def in_shard(record: int, shard: int, shards: int) -> bool:
    return (record // BLOCK) % shards == shard


def _batches(records: Iterator[Comment | Skip | None], mode: str, tally: Tally):
    """Batches of (record number, comment) to tokenize; skips are counted on the way."""
    batch: list[tuple[int, Comment]] = []
    for number, rec in enumerate(records):
        if rec is None:
            continue  # another shard's
        if isinstance(rec, Skip):
            tally.skip(rec)
        elif reason := skip_reason(rec.body, mode):
            tally.drop(reason)
        else:
            batch.append((number, rec))
            if len(batch) == BATCH:
                yield batch
                batch = []
    if batch:
        yield batch


@contextmanager
def workers(threads: int, seconds: float):
    """(a pool of `threads` worker processes, None) or, for one thread, (None, this process's
    CPU-time budget per comment: `rnnlm.data.guard`)."""
    punkt_english()  # load the model before any comment's budget starts
    if threads > 1:
        # spawn, not fork: forking a process that runs other threads (pyarrow's) can deadlock
        pool = multiprocessing.get_context("spawn").Pool(threads, initializer=init_worker, initargs=(seconds,))
        try:
            yield pool, None
        finally:
            pool.terminate()
    else:
        budget = CpuBudget(seconds)
        try:
            yield None, budget
        finally:
            budget.close()


def _tokenized(batches, mode: str, pool, budget, depth: int):
    """(batch, each comment's sentences or None when it ran out of budget) in input order,
    with at most `depth` batches in flight."""
    if pool is None:
        for b in batches:
            yield b, tokenize_guarded([c.body for _, c in b], mode, budget)
        return
    pending: deque = deque()
    for b in batches:
        pending.append((b, pool.apply_async(worker_batch, ([c.body for _, c in b], mode))))
        if len(pending) >= depth:
            batch, res = pending.popleft()
            yield batch, res.get()
    while pending:
        batch, res = pending.popleft()
        yield batch, res.get()


class Rows:
    """Sentence rows: converted to Arrow batch by batch (in the main process, while the workers
    tokenize the next batches) and written to the Parquet file in row groups."""

    def __init__(self, writer: pq.ParquetWriter, group: int):
        self.writer, self.group = writer, group
        self.batches: list[pa.RecordBatch] = []
        self.pending = 0  # sentences held in self.batches
        self._clear()

    def _clear(self) -> None:
        self.columns: dict[str, list] = {name: [] for name in SCHEMA.names}

    def add(self, record: int, comment: Comment, sentences: list[list[str]]) -> None:
        n, c = len(sentences), self.columns
        c["comment_id"] += [comment.comment_id] * n
        c["subreddit"] += [comment.subreddit] * n
        c["created_utc"] += [comment.created_utc] * n
        c["record"] += [record] * n
        c["sentence"] += range(n)
        c["tokens"] += sentences

    def end_batch(self) -> None:
        self._convert()
        if self.pending >= self.group:
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
    fmt: str,
    normalize: str,
    max_bad_fraction: float,
    max_comment_chars: int,
    max_comment_seconds: float,
    threads: int = 1,
    shard: int = 0,
    shards: int = 1,
    row_group_sentences: int = 100_000,
) -> dict:
    """Tokenize one dump (or shard `shard` of `shards`); returns the stats, also written to
    `out_stats`. The settings are the config's keys of the same names (`fmt`: the dump's
    `format`). A comment that takes more than `max_comment_seconds` of CPU time is skipped and
    counted as ``pathological``."""
    started = time.monotonic()
    wanted = (lambda record: in_shard(record, shard, shards)) if shards > 1 else None
    source, records = read_dump(path, fmt, id_prefix=dump, max_chars=max_comment_chars, wanted=wanted)
    if source.size == 0:
        source.close()
        raise RnnlmError(f"{path}: the dump is empty (0 bytes)")
    tally = Tally(path)
    progress = Progress(f"tokenize {dump}" + (f" (shard {shard + 1} of {shards})" if shards > 1 else ""), "comments")
    with (
        source,
        workers(threads, max_comment_seconds) as (pool, budget),
        atomic_path(out_parquet) as tmp,
        pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer,
    ):
        rows = Rows(writer, row_group_sentences)
        batches = _batches(records, normalize, tally)
        for batch, tokenized in _tokenized(batches, normalize, pool, budget, depth=4 * threads):
            _add_batch(batch, tokenized, rows, tally, max_comment_seconds)
            progress.update(tally.read(), source.position() / source.size)
        rows.flush()
        seconds = time.monotonic() - started
        result = tally.stats(
            dump=dump, normalize=normalize, threads=threads, shard=shard, shards=shards, seconds=seconds
        )
        check_stats(result, path, max_bad_fraction, shards > 1)
        write_json(out_stats, result)
    log.info(
        f"tokenize {dump}: {result['comments_kept']:,} of {result['comments_read']:,} comments kept, "
        f"{result['sentences']:,} sentences, {result['tokens']:,} tokens, "
        f"{result['comments_per_second']:,.0f} comments/s"
    )
    return result


def _add_batch(batch, tokenized, rows: Rows, tally: Tally, max_comment_seconds: float) -> None:
    """Count a tokenized batch and add its sentences to the rows."""
    for (record, comment), sentences in zip(batch, tokenized):
        if sentences is None:
            tally.pathological(comment, max_comment_seconds)
            continue
        tally.keep(comment, sentences)
        if sentences:
            rows.add(record, comment, sentences)
    rows.end_batch()
