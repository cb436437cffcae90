"""Shards of a dump back into one: the rows, and the stats, of an unsharded run.

Shard k of n tokenized the blocks of `BLOCK` consecutive records b with b % n == k, in
order; so reading block 0 from shard 0, block 1 from shard 1, … restores the dump's order.
Memory: one Arrow batch per shard, and one row group being written.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rnnlm.atomic import atomic_path, write_json
from rnnlm.data.tokenize import BLOCK, SCHEMA
from rnnlm.data.tokenstats import check_stats, merge_stats
from rnnlm.errors import RnnlmError
from rnnlm.progress import log


def shard_count(setting, size_bytes: int | None, per_shard: int = 1 << 30) -> int:
    """`dumps.NAME.shards`: a number, or ``auto`` (one shard per GiB of the file as stored)."""
    if setting != "auto":
        return int(setting)
    return max(1, -(-size_bytes // per_shard)) if size_bytes else 1


class ShardRows:
    """One shard's rows, handed out a block at a time."""

    def __init__(self, path: str):
        self.batches: Iterator[pa.RecordBatch] = pq.ParquetFile(path).iter_batches(batch_size=65_536)
        self.pending: pa.RecordBatch | None = None
        self.done = False

    def below(self, limit: int) -> list[pa.RecordBatch]:
        """The rows whose record is below `limit` (the rest stay for later blocks)."""
        out = []
        while not self.done:
            if self.pending is None or self.pending.num_rows == 0:
                self.pending = next(self.batches, None)
                if self.pending is None:
                    self.done = True
                    break
            records = self.pending.column("record").to_numpy()
            k = int(np.searchsorted(records, limit))
            out.append(self.pending.slice(0, k))
            if k < self.pending.num_rows:
                self.pending = self.pending.slice(k)
                break
            self.pending = None
        return out


def merge_shards(
    parts: list[str],
    stats: list[str],
    out_parquet: str,
    out_stats: str,
    max_bad_fraction: float,
    row_group_sentences: int = 100_000,
) -> dict:
    started = time.monotonic()
    shards = [ShardRows(p) for p in parts]
    pieces: list[pa.RecordBatch] = []
    rows = block = 0
    with atomic_path(out_parquet) as tmp, pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
        while not all(s.done for s in shards):
            taken = shards[block % len(shards)].below((block + 1) * BLOCK)
            pieces += taken
            rows += sum(b.num_rows for b in taken)
            block += 1
            if rows >= row_group_sentences:
                writer.write_table(pa.Table.from_batches(pieces, schema=SCHEMA))
                pieces, rows = [], 0
        if pieces:
            writer.write_table(pa.Table.from_batches(pieces, schema=SCHEMA))
        loaded = []
        for path in stats:
            with open(path) as f:
                loaded.append(json.load(f))
        if sorted(p["shard"] for p in loaded) != list(range(len(parts))):
            raise RnnlmError(f"{out_parquet}: shard stats do not match {len(parts)} shards")
        result = merge_stats(loaded, sum(p["seconds"] for p in loaded) + time.monotonic() - started)
        check_stats(result, result["path"], max_bad_fraction)
        write_json(out_stats, result)
    log.info(
        f"merged {len(parts)} shards of {result['dump']}: {result['comments_kept']:,} of "
        f"{result['comments_read']:,} comments kept, {result['sentences']:,} sentences"
    )
    return result
