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
    carry: bool = False  # a later chunk of the previous batch's sentences: start from its final states

    @property
    def tokens(self) -> int:
        """Its size, padding included: steps × sentences."""
        return self.X.shape[0] * self.X.shape[1]


def bucket_length(steps: int) -> int:
    """The smallest of 8, 12, 16, 24, 32, 48, … (powers of two and 1.5 times them) ≥ `steps`:
    few distinct shapes, at most a third of a batch's steps padding."""
    size = 8
    while size < steps:
        size = size * 3 // 2 if size & (size - 1) == 0 else size * 4 // 3
    return size


def pad(sentences: list[np.ndarray], dtype="float32") -> Batch:
    """Time-major, right-padded inputs/targets/mask for id sequences that include START/END."""
    T = max(len(s) for s in sentences) - 1
    B = len(sentences)
    X, Y = np.zeros((T, B), np.int32), np.zeros((T, B), np.int32)
    M = np.zeros((T, B), dtype)
    for j, s in enumerate(sentences):
        n = len(s) - 1
        X[:n, j], Y[:n, j], M[:n, j] = s[:-1], s[1:], 1
    return Batch(X, Y, M)


def budget_groups(steps: list[int], batch_size: int, max_tokens: int) -> list[range]:
    """Consecutive groups of sentences already sorted by length (`steps`: each one's predicted
    tokens): at most `batch_size` each, and at most `max_tokens` in the padded batch, i.e. the
    group's size times its longest sentence's steps. A sentence longer than `max_tokens` is a
    group of its own (it runs in chunks: `chunks`)."""
    groups, start = [], 0
    while start < len(steps):
        end = start + 1
        while end < len(steps) and end - start < batch_size and (end - start + 1) * steps[end] <= max_tokens:
            end += 1
        groups.append(range(start, end))
        start = end
    return groups


def chunks(batch: Batch, max_tokens: int) -> list[Batch]:
    """The batch cut in time into consecutive chunks of at most `max_tokens` (steps × sentences),
    each after the first marked `carry`: run them in order, each from the previous one's final
    states, and the log-probabilities are exactly the whole batch's."""
    steps = max(1, max_tokens // batch.X.shape[1])
    T = batch.X.shape[0]
    if T <= steps:
        return [batch]
    return [
        Batch(batch.X[t : t + steps], batch.Y[t : t + steps], batch.M[t : t + steps], carry=t > 0)
        for t in range(0, T, steps)
    ]


def fixed_shape_chunks(batch: Batch, batch_size: int, max_tokens: int) -> list[Batch]:
    """For backends that compile per input shape (JAX): chunks of a bucketed number of steps
    (`bucket_length`, and within `max_tokens`), each padded to `batch_size` columns and to its
    bucket of steps (masked out): few distinct shapes."""
    longest = max(8, max_tokens // batch_size)
    steps = 8
    while bucket_length(steps + 1) <= longest:
        steps = bucket_length(steps + 1)
    out = []
    for t in range(0, batch.X.shape[0], steps):
        X, Y, M = (a[t : t + steps] for a in (batch.X, batch.Y, batch.M))
        shape = (bucket_length(X.shape[0]), max(batch_size, X.shape[1]))
        fixed = [np.zeros(shape, a.dtype) for a in (X, Y, M)]
        for a, f in zip((X, Y, M), fixed):
            f[: a.shape[0], : a.shape[1]] = a
        out.append(Batch(*fixed, carry=t > 0))
    return out


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
        self.groups_read = 0  # in the current pass: for progress lines

    def fraction_read(self) -> float:
        """How much of the current pass over the files is read (by row groups)."""
        return self.groups_read / len(self.groups) if self.groups else 1.0

    def _group(self, path: str, group: int) -> list[np.ndarray]:
        self.groups_read += 1
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
        self.groups_read = 0
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
        self,
        epoch: int,
        seed: int,
        batch_size: int,
        max_tokens: int,
        buffer: int = 20_000,
        dtype="float32",
        fixed_shapes: bool = False,
    ) -> Iterator[Batch]:
        """An epoch's training batches, each within `max_tokens` (`budget_groups`); a sentence
        longer than that comes as consecutive chunks (`chunks`) to train from carried states."""
        rng = np.random.default_rng([seed, epoch])
        pending: list[np.ndarray] = []

        def flush():
            by_length = sorted(range(len(pending)), key=lambda i: (len(pending[i]), rng.random()))
            groups = self._groups([pending[i] for i in by_length], batch_size, max_tokens, fixed_shapes)
            for k in rng.permutation(len(groups)):
                yield from self._pieces(groups[k], batch_size, max_tokens, dtype, fixed_shapes)

        for s in self.sentences(rng):
            pending.append(s)
            if len(pending) >= buffer:
                yield from flush()
                pending = []
        if pending:
            yield from flush()

    def all_batches(
        self, max_tokens: int, batch_size: int = 256, dtype="float32", fixed_shapes: bool = False
    ) -> Iterator[list[Batch]]:
        """Fixed order (for evaluation), sorted by length within row groups for little padding:
        each item is one group of whole sentences as its chunks (usually one; `chunks`), to run
        in order from zero states. `fixed_shapes`: see `fixed_shape_chunks`."""
        self.groups_read = 0
        for path, group in self.groups:
            sents = sorted(self._group(path, group), key=len)
            for g in self._groups(sents, batch_size, max_tokens, fixed_shapes):
                yield list(self._pieces(g, batch_size, max_tokens, dtype, fixed_shapes))

    @staticmethod
    def _groups(sorted_sents, batch_size, max_tokens, fixed_shapes) -> list[list[np.ndarray]]:
        if fixed_shapes:  # fixed columns: the budget bounds the chunks' steps instead
            return [sorted_sents[i : i + batch_size] for i in range(0, len(sorted_sents), batch_size)]
        steps = [len(s) - 1 for s in sorted_sents]
        return [[sorted_sents[i] for i in g] for g in budget_groups(steps, batch_size, max_tokens)]

    @staticmethod
    def _pieces(group, batch_size, max_tokens, dtype, fixed_shapes) -> list[Batch]:
        batch = pad(group, dtype)
        return fixed_shape_chunks(batch, batch_size, max_tokens) if fixed_shapes else chunks(batch, max_tokens)
