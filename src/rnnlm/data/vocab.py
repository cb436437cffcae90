"""Token counts per dump and the vocabulary built from them.

The vocabulary Parquet has columns id (int32), token, count (int64). Ids 0, 1, 2 are
SENTENCE_START, SENTENCE_END and UNKNOWN_TOKEN; then the most frequent tokens, ties
broken by token, up to `vocabulary_size` entries in all (the three included).
START/END count sentences; UNKNOWN_TOKEN counts the occurrences it replaces.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from rnnlm import SENTENCE_END, SENTENCE_START, SPECIAL_TOKENS, UNKNOWN_TOKEN, RnnlmError
from rnnlm.atomic import atomic_path
from rnnlm.data.splits import split_codes
from rnnlm.progress import Progress, log

VOCAB_SCHEMA = pa.schema([("id", pa.int32()), ("token", pa.string()), ("count", pa.int64())])
COUNT_SCHEMA = pa.schema([("token", pa.string()), ("count", pa.int64())])


def count_tokens(tokens_parquet: str, out: str, split: dict | None = None) -> pd.DataFrame:
    """Token → count for one dump, plus SENTENCE_START/END rows counting its sentences. With
    `split` ({"valid": v, "test": t}), only the train split's comments are counted, so that
    held-out words do not choose the vocabulary."""
    parts, sentences, rows = [], 0, 0
    source = pq.ParquetFile(tokens_parquet)
    progress = Progress(f"count {Path(tokens_parquet).stem}", "sentences")
    for batch in source.iter_batches(columns=["comment_id", "tokens"]):
        tokens = batch.column("tokens")
        rows += len(tokens)
        if split is not None:
            train = split_codes(batch.column("comment_id").to_pylist(), split["valid"], split["test"]) == 0
            tokens = tokens.filter(pa.array(train))
        sentences += len(tokens)
        vc = pc.value_counts(pc.list_flatten(tokens))
        parts.append(pd.DataFrame({"token": vc.field("values"), "count": vc.field("counts")}))
        if len(parts) > 16:  # keep memory bounded: fold partial counts together
            parts = [_sum(parts)]
        progress.update(sentences, rows / max(source.metadata.num_rows, 1))
    counts = _sum(parts) if parts else pd.DataFrame({"token": [], "count": []})
    specials = pd.DataFrame({"token": [SENTENCE_START, SENTENCE_END], "count": [sentences, sentences]})
    counts = pd.concat([specials, counts[~counts.token.isin(SPECIAL_TOKENS)]], ignore_index=True)
    _write(pa.Table.from_pandas(counts, schema=COUNT_SCHEMA, preserve_index=False), out)
    which = "the train split's" if split is not None else "all"
    log.info(
        f"count {Path(tokens_parquet).stem}: {which} {sentences:,} sentences of {source.metadata.num_rows:,}: "
        f"{int(counts['count'][2:].sum()):,} tokens of {len(counts) - 2:,} types"
    )
    return counts


def _sum(parts: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts).groupby("token", as_index=False, sort=False)["count"].sum()


def build_vocab(count_files: list[str], vocabulary_size: int, out: str) -> pd.DataFrame:
    """Merge per-dump counts into the vocabulary."""
    if vocabulary_size < 4:
        raise RnnlmError(f"vocabulary_size must be at least 4 (the 3 special tokens + 1), got {vocabulary_size}")
    merged = _sum([pd.read_parquet(f) for f in count_files])
    special = merged.set_index("token")["count"]
    words = merged[~merged.token.isin(SPECIAL_TOKENS)].sort_values(["count", "token"], ascending=[False, True])
    kept, dropped = words.iloc[: vocabulary_size - 3], words.iloc[vocabulary_size - 3 :]
    head = pd.DataFrame(
        {
            "token": [SENTENCE_START, SENTENCE_END, UNKNOWN_TOKEN],
            "count": [special.get(SENTENCE_START, 0), special.get(SENTENCE_END, 0), dropped["count"].sum()],
        }
    )
    vocab = pd.concat([head, kept], ignore_index=True)
    vocab.insert(0, "id", range(len(vocab)))
    _write(pa.Table.from_pandas(vocab, schema=VOCAB_SCHEMA, preserve_index=False), out)
    total = words["count"].sum()
    log.info(
        f"vocabulary: {len(vocab):,} entries from {len(words):,} word types; "
        f"covers {100 * kept['count'].sum() / max(total, 1):.2f}% of {total:,} tokens; "
        + (f"least frequent kept: {kept.token.iloc[-1]!r} ({kept['count'].iloc[-1]:,} times)" if len(kept) else "")
    )
    return vocab


def load_vocab(path: str | Path) -> pd.DataFrame:
    """Read and check a vocabulary file (also used for `vocab.frozen`)."""
    try:
        vocab = pd.read_parquet(path)
    except (OSError, pa.ArrowInvalid) as e:
        raise RnnlmError(f"{path}: cannot read the vocabulary: {e}") from None
    missing = {"id", "token"} - set(vocab.columns)
    if missing:
        raise RnnlmError(f"{path}: not a vocabulary: missing column(s) {sorted(missing)}")
    if vocab["token"].isna().any() or not all(isinstance(t, str) for t in vocab["token"]):
        bad = int(vocab["id"][vocab["token"].map(lambda t: not isinstance(t, str))].iloc[0])
        raise RnnlmError(f"{path}: token of id {bad} is not a string (null or a number)")
    if list(vocab["id"]) != list(range(len(vocab))):
        raise RnnlmError(f"{path}: vocabulary ids must be 0..{len(vocab) - 1} in order")
    if tuple(vocab["token"][:3]) != SPECIAL_TOKENS:
        raise RnnlmError(f"{path}: ids 0, 1, 2 must be {', '.join(SPECIAL_TOKENS)}")
    if vocab["token"].duplicated().any():
        dup = vocab["token"][vocab["token"].duplicated()].iloc[0]
        raise RnnlmError(f"{path}: token {dup!r} appears twice")
    if "count" not in vocab:
        vocab["count"] = 0
    return vocab


def freeze_vocab(frozen: str, out: str) -> pd.DataFrame:
    vocab = load_vocab(frozen)
    _write(pa.Table.from_pandas(vocab[["id", "token", "count"]], schema=VOCAB_SCHEMA, preserve_index=False), out)
    log.info(f"vocabulary: {len(vocab):,} entries, frozen from {frozen}")
    return vocab


def vocab_hash(vocab: pd.DataFrame) -> str:
    """A digest of the id → token mapping (what a trained model depends on)."""
    return token_hash(list(vocab["token"]))


def token_hash(tokens: list[str]) -> str:
    """`vocab_hash` of the tokens in id order."""
    return hashlib.sha256("\n".join(tokens).encode()).hexdigest()[:16]


def _write(table: pa.Table, out: str) -> None:
    with atomic_path(out) as tmp:
        pq.write_table(table, tmp)
