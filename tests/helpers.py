"""Small writers for test dumps."""

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import zstandard


def read_csv_bodies(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return [r[0] for r in rows[1:]]


def write_csv(path: Path, bodies: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["body"])
        w.writerows([b] for b in bodies)
    return path


def ndjson(bodies: list[str]) -> bytes:
    return "".join(
        json.dumps({"id": f"c{i}", "subreddit": "test", "created_utc": str(1438387200 + i), "body": b}) + "\n"
        for i, b in enumerate(bodies)
    ).encode()


def write_zst(path: Path, data: bytes, level: int = 3) -> Path:
    path.write_bytes(zstandard.ZstdCompressor(level=level).compress(data))
    return path


def token_rows(parquet: Path) -> list[list[str]]:
    return pq.read_table(parquet, columns=["tokens"]).column("tokens").to_pylist()
