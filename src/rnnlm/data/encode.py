"""The encode stage: tokens → int32 ids (START/END included) with a train/valid/test split.

A comment's split comes from a hash of its id alone, so all its sentences land in the
same split and adding a dump never moves an existing sentence to another split.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rnnlm import UNKNOWN_TOKEN
from rnnlm.atomic import atomic_path
from rnnlm.data.splits import SPLITS, split_codes
from rnnlm.data.vocab import load_vocab
from rnnlm.progress import log

SCHEMA = pa.schema(
    [
        ("comment_id", pa.string()),
        ("sentence", pa.int32()),
        ("split", pa.dictionary(pa.int8(), pa.string())),
        ("ids", pa.list_(pa.int32())),
    ]
)


def encode_ids(tokens: pa.ListArray, vocab_tokens: pa.Array, unk_id: int) -> pa.ListArray:
    """Map each token list to [0] + ids + [1]; unknown tokens become `unk_id`."""
    tokens = tokens.combine_chunks() if isinstance(tokens, pa.ChunkedArray) else tokens
    flat = pc.fill_null(pc.index_in(pc.list_flatten(tokens), value_set=vocab_tokens), unk_id)
    flat = flat.to_numpy(zero_copy_only=False).astype(np.int32)
    offsets = tokens.offsets.to_numpy() - tokens.offsets[0].as_py()
    lengths = np.diff(offsets)
    rows = len(lengths)
    new_offsets = offsets + 2 * np.arange(rows + 1)
    out = np.empty(len(flat) + 2 * rows, dtype=np.int32)
    keep = np.ones(len(out), dtype=bool)
    keep[new_offsets[:-1]] = False
    keep[new_offsets[1:] - 1] = False
    out[~keep] = 0
    out[new_offsets[1:] - 1] = 1
    out[keep] = flat
    return pa.ListArray.from_arrays(pa.array(new_offsets, pa.int32()), pa.array(out, pa.int32()))


# Training shuffles row groups, then sentences within a buffer of several groups: small groups
# mix dumps (months) within every buffer, instead of an epoch that reads one dump, then the next.
ROW_GROUP_SENTENCES = 4096


def encode_dump(tokens_parquet: str, vocab_path: str, out: str, *, valid: float, test: float) -> dict:
    vocab = load_vocab(vocab_path)
    vocab_tokens = pa.array(vocab["token"], pa.string())
    unk_id = int(vocab.index[vocab["token"] == UNKNOWN_TOKEN][0])
    counts = {s: {"sentences": 0, "tokens": 0, "unknown": 0} for s in SPLITS}
    with atomic_path(out) as tmp, pq.ParquetWriter(tmp, SCHEMA, compression="zstd") as writer:
        for batch in pq.ParquetFile(tokens_parquet).iter_batches(columns=["comment_id", "sentence", "tokens"]):
            ids = encode_ids(batch.column("tokens"), vocab_tokens, unk_id)
            cids = batch.column("comment_id").to_pylist()
            split = split_codes(cids, valid, test)
            lengths = pc.list_value_length(ids).to_numpy()
            row_of = np.repeat(np.arange(len(lengths)), lengths)
            unknown = np.bincount(row_of[pc.list_flatten(ids).to_numpy() == unk_id], minlength=len(lengths))
            for k, name in enumerate(SPLITS):
                sel = split == k
                counts[name]["sentences"] += int(sel.sum())
                counts[name]["tokens"] += int((lengths[sel] - 1).sum())  # predicted: all but START
                counts[name]["unknown"] += int(unknown[sel].sum())
            split_col = pa.DictionaryArray.from_arrays(pa.array(split, pa.int8()), pa.array(SPLITS))
            writer.write_table(
                pa.table([batch.column("comment_id"), batch.column("sentence"), split_col, ids], schema=SCHEMA),
                row_group_size=ROW_GROUP_SENTENCES,
            )
    for name, c in counts.items():
        rate = 100 * c["unknown"] / max(c["tokens"], 1)
        log.info(f"encode: {name}: {c['sentences']:,} sentences, {c['tokens']:,} tokens, {rate:.2f}% unknown")
    return counts


def read_split(encoded: list[str], split: str) -> list[np.ndarray]:
    """All id sequences of one split, in file order (for baselines and tests)."""
    from rnnlm.data.batching import SplitReader

    return list(SplitReader(encoded, split).sentences())
