"""Minibatches from encoded Parquet, streamed: memory is bounded by the shuffle buffer.

An epoch reads the files' row groups in a seeded random order, fills a buffer of
`buffer` sentences, and cuts each full buffer into batches of sentences of similar length
(sorted by length, then the batches shuffled): little padding, random order. Everything is
a function of (seed, epoch), so a resumed run sees exactly the batches an uninterrupted one
would, and a batch's position in its epoch is all a checkpoint needs to store.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rnnlm.errors import RnnlmError


@dataclass
class Batch:
    X: np.ndarray  # T×B int32 inputs (SENTENCE_START … last word)
    Y: np.ndarray  # T×B int32 targets (first word … SENTENCE_END)
    M: np.ndarray  # T×B float mask, 0 on padding


def bucket_length(steps: int) -> int:
    """The smallest of 8, 12, 16, 24, 32, 48, … (powers of two and 1.5 times them) ≥ `steps`:
    few distinct shapes, at most a third of a batch's steps padding."""
    size = 8
    while size < steps:
        size = size * 3 // 2 if size & (size - 1) == 0 else size * 4 // 3
    return size


def pad(sentences: list[np.ndarray], dtype="float32", fixed_batch: int = 0) -> Batch:
    """Time-major, right-padded inputs/targets/mask for id sequences that include START/END.
    With `fixed_batch`, the batch is padded to that many columns and to a `bucket_length` of
    steps (masked out): fixed shapes, for backends that compile per shape (JAX)."""
    T = max(len(s) for s in sentences) - 1
    B = len(sentences)
    if fixed_batch:
        T, B = bucket_length(T), max(B, fixed_batch)
    X, Y = np.zeros((T, B), np.int32), np.zeros((T, B), np.int32)
    M = np.zeros((T, B), dtype)
    for j, s in enumerate(sentences):
        n = len(s) - 1
        X[:n, j], Y[:n, j], M[:n, j] = s[:-1], s[1:], 1
    return Batch(X, Y, M)


def in_split(table: pa.Table, split: str) -> pa.Table:
    """The rows of an encoded table that belong to `split` (train, valid or test)."""
    return table.filter(pc.equal(pc.cast(table.column("split"), pa.string()), split))


def split_comment_ids(paths: list[str], split: str) -> set[str]:
    ids: set[str] = set()
    for path in paths:
        table = in_split(pq.read_table(path, columns=["comment_id", "split"]), split)
        ids.update(table.column("comment_id").to_pylist())
    return ids


class SplitReader:
    """The sentences of one split of some encoded Parquet files."""

    def __init__(self, paths: list[str], split: str, max_length: int = 0):
        self.paths, self.split, self.max_length = list(paths), split, max_length
        self.groups = []  # (file, row group)
        for path in self.paths:
            try:
                meta = pq.ParquetFile(path).metadata
            except (OSError, pa.ArrowInvalid) as e:
                raise RnnlmError(f"{path}: cannot read encoded data: {e}") from None
            self.groups += [(path, g) for g in range(meta.num_row_groups)]

    def _group(self, path: str, group: int) -> list[np.ndarray]:
        table = pq.ParquetFile(path).read_row_group(group, columns=["split", "ids"])
        table = in_split(table, self.split)
        ids = table.column("ids").combine_chunks()
        flat = ids.values.to_numpy()
        offsets = ids.offsets.to_numpy()
        out = [flat[offsets[i] : offsets[i + 1]] for i in range(len(ids))]
        if self.max_length:  # for training only: the rest of a long sentence is not trained on
            out = [s[: self.max_length + 1] for s in out]
        return out

    def sentences(self, rng: np.random.Generator | None = None) -> Iterator[np.ndarray]:
        order = rng.permutation(len(self.groups)) if rng is not None else range(len(self.groups))
        for i in order:
            yield from self._group(*self.groups[i])

    def count(self) -> tuple[int, int]:
        """(sentences, predicted tokens) of the split: one streaming pass."""
        n = tokens = 0
        for s in self.sentences():
            n += 1
            tokens += len(s) - 1
        return n, tokens

    def batches(
        self, epoch: int, seed: int, batch_size: int, buffer: int = 20_000, dtype="float32", fixed_shapes: bool = False
    ) -> Iterator[Batch]:
        rng = np.random.default_rng([seed, epoch])
        pending: list[np.ndarray] = []

        def flush():
            by_length = sorted(range(len(pending)), key=lambda i: (len(pending[i]), rng.random()))
            chunks = [by_length[i : i + batch_size] for i in range(0, len(by_length), batch_size)]
            for k in rng.permutation(len(chunks)):
                yield pad([pending[i] for i in chunks[k]], dtype, batch_size if fixed_shapes else 0)

        for s in self.sentences(rng):
            pending.append(s)
            if len(pending) >= buffer:
                yield from flush()
                pending = []
        if pending:
            yield from flush()

    def all_batches(self, batch_size: int = 256, dtype="float32", fixed_shapes: bool = False) -> Iterator[Batch]:
        """Fixed order (for evaluation), sorted by length within row groups for little padding;
        `fixed_shapes`: see `pad`."""
        for path, group in self.groups:
            sents = sorted(self._group(path, group), key=len)
            for i in range(0, len(sents), batch_size):
                yield pad(sents[i : i + batch_size], dtype, batch_size if fixed_shapes else 0)
