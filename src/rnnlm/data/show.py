"""`rnnlm show`: what is inside any of the pipeline's files, by kind: Parquet (schema and
first rows), model and checkpoint `.npz` (arrays, spec, training summary, fingerprint, text
preparation), JSON, and CSV/TSV (header and first rows)."""

from __future__ import annotations

import csv
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from rnnlm.data.vocab import load_vocab
from rnnlm.errors import RnnlmError


def show(path: str, rows: int, vocab_path: str | None = None) -> Iterator[str]:
    p = Path(path)
    if not p.exists():
        raise RnnlmError(f"{path}: no such file")
    if p.is_dir():
        raise RnnlmError(f"{path}: is a folder, not a file")
    kind = p.suffix.lower()
    if kind == ".npz":
        return show_npz(path)
    if kind == ".json":
        return show_json(path)
    if kind in (".csv", ".tsv"):
        return show_table(path, rows, "\t" if kind == ".tsv" else ",")
    return show_parquet(path, rows, vocab_path)


def show_npz(path: str) -> Iterator[str]:
    """A model file or a checkpoint: its arrays by group, and its meta (the vocabulary and the
    history shortened)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            shapes = {k: z[k].shape for k in z.files if k != "meta"}
            meta = json.loads(str(z["meta"])) if "meta" in z.files else {}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise RnnlmError(f"{path}: cannot read it as an .npz: {e}") from None
    kind = "model" if any(k.startswith("param.") for k in shapes) else "checkpoint"
    yield f"{path}: {kind}, {len(shapes)} arrays, {sum(int(np.prod(s)) for s in shapes.values()):,} numbers"
    yield json.dumps({k: list(v) for k, v in shapes.items()})
    if isinstance(meta, dict):
        if isinstance(meta.get("vocabulary"), list):
            words = meta["vocabulary"]
            meta["vocabulary"] = f"{len(words):,} tokens: {' '.join(map(str, words[:8]))} …"
        if isinstance(meta.get("history"), list):
            meta["history"] = f"{len(meta['history'])} rows (results/models/NAME/history.csv)"
    yield json.dumps(meta, indent=2, ensure_ascii=False, default=str)


def show_json(path: str) -> Iterator[str]:
    try:
        value = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise RnnlmError(f"{path}: not JSON: {e}") from None
    yield json.dumps(value, indent=2, ensure_ascii=False)


def show_table(path: str, rows: int, delimiter: str) -> Iterator[str]:
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f, delimiter=delimiter)
            first = [row for _, row in zip(range(rows), reader)]
            total = len(first) + sum(1 for _ in reader)
            header = reader.fieldnames or []
    except (UnicodeDecodeError, csv.Error) as e:
        raise RnnlmError(f"{path}: cannot read it as {'TSV' if delimiter == chr(9) else 'CSV'}: {e}") from None
    yield f"{path}: {total:,} rows; columns: {', '.join(header)}"
    for row in first:
        yield json.dumps(row, ensure_ascii=False)


def show_parquet(path: str, rows: int, vocab_path: str | None = None) -> Iterator[str]:
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise RnnlmError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise RnnlmError(f"{path}: is a folder, not a Parquet file") from None
    except (OSError, pa.ArrowException) as e:
        raise RnnlmError(f"{path}: cannot read it as Parquet: {e}") from None
    yield f"{path}: {table.num_rows:,} rows; {table.schema.to_string(show_schema_metadata=False)}"
    tokens = None
    if vocab_path and "ids" in table.column_names:
        tokens = list(load_vocab(vocab_path)["token"])
    for row in table.slice(0, rows).to_pylist():
        if tokens is not None:
            too_big = [i for i in row["ids"] if not 0 <= i < len(tokens)]
            if too_big:
                raise RnnlmError(
                    f"{path}: id {too_big[0]} is outside {vocab_path} ({len(tokens):,} entries): "
                    "not the vocabulary this file was encoded with"
                )
            row["text"] = " ".join(tokens[i] for i in row["ids"])
        yield json.dumps(row, ensure_ascii=False, default=str)
