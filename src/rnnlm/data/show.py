"""`rnnlm show`: the schema and first rows of any of the pipeline's Parquet files."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from rnnlm.data.vocab import load_vocab
from rnnlm.errors import RnnlmError


def show(path: str, rows: int, vocab_path: str | None = None) -> Iterator[str]:
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
