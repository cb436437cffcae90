"""Streaming readers for comment dumps, in constant memory whatever the dump's size.

Formats:
* ``csv``: the tutorial's file: a header row with a ``body`` column (``id``,
  ``subreddit`` and ``created_utc`` are used when present), one comment per row,
  quoted fields may span lines.
* ``pushshift``: newline-delimited JSON as in the Pushshift / Academic-Torrents monthly
  dumps (``RC_2015-08.zst``); fields ``body``, ``id``, ``subreddit``, ``created_utc``.

Either may be compressed: ``.zst`` (2 GiB window, as those dumps need), ``.bz2``, ``.xz``,
or plain. Bytes are split into lines before decoding, so chunk edges that cut a line or a
UTF-8 character in two do no harm.

A reader yields `Comment` or `Skip` records; it never raises for a bad record, only for a
file that cannot be read at all (`RnnlmError`, naming the file and the offset).
"""

from __future__ import annotations

import bz2
import csv
import json
import lzma
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import zstandard

from rnnlm import RnnlmError

FORMATS = ("csv", "pushshift")
CHUNK = 1 << 20
_TOO_LONG = "\0\0line too long\0\0"
ZSTD_WINDOW = 2**31


@dataclass(frozen=True)
class Comment:
    line: int  # first physical line of the record (1-based)
    comment_id: str
    subreddit: str | None
    created_utc: int | None
    body: str


@dataclass(frozen=True)
class Skip:
    line: int
    reason: str  # invalid_json, invalid_utf8, bad_csv_row, not_a_comment, too_long
    detail: str = ""
    lines: int = 1  # physical lines the bad record spans


def detect(path: str | os.PathLike, fmt: str = "auto") -> tuple[str, str | None]:
    """(format, compression) from `fmt` or, for ``auto``, from the file name."""
    name = Path(path).name.lower()
    compression = next((c for c in ("zst", "bz2", "xz") if name.endswith("." + c)), None)
    stem = name[: -len(compression) - 1] if compression else name
    if fmt == "auto":
        if stem.endswith(".csv"):
            fmt = "csv"
        elif compression or stem.endswith((".json", ".ndjson", ".jsonl")) or stem.startswith("rc_"):
            fmt = "pushshift"
        else:
            raise RnnlmError(
                f"{path}: cannot tell the format from the name; set `format: csv` or "
                "`format: pushshift` for this dump"
            )
    if fmt not in FORMATS:
        raise RnnlmError(f"{path}: unknown format {fmt!r} (expected auto, csv or pushshift)")
    return fmt, compression


class ByteSource:
    """Decompressed bytes of a file, chunk by chunk, with the compressed position for ETAs."""

    def __init__(self, path: str | os.PathLike, compression: str | None):
        self.path = Path(path)
        try:
            self.size = self.path.stat().st_size
            self._raw = open(self.path, "rb")
        except OSError as e:
            raise RnnlmError(f"{path}: cannot open: {e.strerror}") from None
        self.compression = compression

    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()

    def chunks(self) -> Iterator[bytes]:
        try:
            if self.compression == "zst":
                yield from self._zstd()
            else:
                opener = {"bz2": bz2.open, "xz": lzma.open}.get(self.compression)
                stream = opener(self._raw) if opener else self._raw
                while chunk := stream.read(CHUNK):
                    yield chunk
        except (EOFError, OSError, lzma.LZMAError, zstandard.ZstdError) as e:
            raise RnnlmError(
                f"{self.path}: truncated or corrupt {self.compression or 'file'} data "
                f"near compressed byte {self.position():,} of {self.size:,}: {e}"
            ) from None

    def _zstd(self) -> Iterator[bytes]:
        # decompressobj (not stream_reader, which ends silently at a cut) so that a
        # truncated download is reported; frames are followed across.
        dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_WINDOW)
        dobj, in_frame = dctx.decompressobj(), False
        while chunk := self._raw.read(CHUNK):
            while chunk:
                in_frame = True
                out = dobj.decompress(chunk)
                if out:
                    yield out
                if dobj.eof:
                    chunk, dobj, in_frame = dobj.unused_data, dctx.decompressobj(), False
                else:
                    chunk = b""
        if in_frame:
            raise EOFError("the last zstd frame is incomplete (truncated file?)")


@dataclass(frozen=True)
class Dropped:
    """A line over the length limit, skipped without being held in memory."""

    quotes: int  # its '"' bytes: a CSV parser needs their parity to stay in step


def lines(source: ByteSource, max_line_bytes: int) -> Iterator[tuple[int, bytes | Dropped]]:
    """(line number, bytes without the newline), or `Dropped` for a line over the limit."""
    buf, number, skipping, quotes = b"", 0, False, 0
    for chunk in source.chunks():
        buf += chunk
        start = 0
        while (end := buf.find(b"\n", start)) >= 0:
            number += 1
            if skipping or end - start > max_line_bytes:
                yield number, Dropped(quotes + buf.count(b'"', start, end))
                skipping, quotes = False, 0
            else:
                yield number, buf[start:end]
            start = end + 1
        buf = buf[start:]
        if len(buf) > max_line_bytes:
            quotes += buf.count(b'"')
            buf, skipping = b"", True
    if buf or skipping:
        yield number + 1, Dropped(quotes + buf.count(b'"')) if skipping else buf


def read_pushshift(source: ByteSource, id_prefix: str, max_chars: int) -> Iterator[Comment | Skip]:
    for number, raw in lines(source, max_line_bytes=4 * max_chars + 4096):
        if isinstance(raw, Dropped):
            yield Skip(number, "too_long", f"line longer than {4 * max_chars + 4096:,} bytes")
            continue
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as e:
            yield Skip(number, "invalid_utf8", f"byte {e.start}: {e.reason}")
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            yield Skip(number, "invalid_json", e.msg + f" (column {e.colno})")
            continue
        body = obj.get("body") if isinstance(obj, dict) else None
        if not isinstance(body, str):
            yield Skip(number, "not_a_comment", "no string field 'body'")
            continue
        if len(body) > max_chars:
            yield Skip(number, "too_long", f"body of {len(body):,} characters")
            continue
        yield Comment(
            number,
            str(obj.get("id") or f"{id_prefix}:{number}"),
            _str_or_none(obj.get("subreddit")),
            _timestamp(obj.get("created_utc")),
            body,
        )


def read_csv(source: ByteSource, id_prefix: str, max_chars: int) -> Iterator[Comment | Skip]:
    """The tutorial's CSV, parsed as `csv.reader(f, skipinitialspace=True)` parses it."""

    def text_lines():
        for number, raw in lines(source, max_line_bytes=4 * max_chars + 4096):
            if isinstance(raw, Dropped):
                # its row is then skipped as too_long (or as a bad row); an odd quote is kept
                # (first, where an opening one would be) so that the next rows parse as before
                text = ('"' if raw.quotes % 2 else "") + _TOO_LONG
            else:
                text = raw.decode("utf-8", "surrogateescape")
            yield (text.removeprefix("\ufeff") if number == 1 else text) + "\n"

    csv.field_size_limit(4 * max_chars + 4096)
    reader = csv.reader(text_lines(), skipinitialspace=True, strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as e:
        raise RnnlmError(f"{source.path}:1: cannot parse the CSV header: {e}") from None
    columns = {name.strip().lower(): i for i, name in enumerate(header)}
    if "body" not in columns:
        raise RnnlmError(
            f"{source.path}:1: the CSV header has no 'body' column (found: {', '.join(header)})"
        )
    idx = {k: columns.get(k) for k in ("body", "id", "subreddit", "created_utc")}
    row_no, prev_line = 0, reader.line_num
    while True:
        first = prev_line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            yield Skip(first, "bad_csv_row", str(e), lines=max(1, reader.line_num - prev_line))
            prev_line = reader.line_num
            continue
        span, prev_line = reader.line_num - prev_line, reader.line_num
        if not row:
            continue
        row_no += 1
        if len(row) != len(header):
            yield Skip(first, "bad_csv_row", f"{len(row)} fields, header has {len(header)}", span)
            continue
        if any(_TOO_LONG in f for f in row):
            yield Skip(first, "too_long", "a line longer than the limit", span)
            continue
        if any(_has_surrogates(f) for f in row):
            yield Skip(first, "invalid_utf8", "undecodable bytes in the row", span)
            continue
        body = row[idx["body"]]
        if len(body) > max_chars:
            yield Skip(first, "too_long", f"body of {len(body):,} characters", span)
            continue

        def field(key):
            return row[idx[key]] if idx[key] is not None else None

        yield Comment(
            first,
            field("id") or f"{id_prefix}:{row_no}",
            _str_or_none(field("subreddit")),
            _timestamp(field("created_utc")),
            body,
        )


def read_dump(
    path: str | os.PathLike, fmt: str = "auto", id_prefix: str = "", max_chars: int = 40_000
) -> tuple[ByteSource, Iterator[Comment | Skip]]:
    """Open a dump; returns the byte source (for progress) and its records."""
    fmt, compression = detect(path, fmt)
    source = ByteSource(path, compression)
    reader = read_csv if fmt == "csv" else read_pushshift
    return source, reader(source, id_prefix or Path(path).name, max_chars)


def _has_surrogates(s: str) -> bool:
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def _str_or_none(v) -> str | None:
    return None if v is None or v == "" else str(v)


def _timestamp(v) -> int | None:
    try:
        return int(float(v))
    except (TypeError, ValueError):
        return None
