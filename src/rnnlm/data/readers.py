"""Streaming readers for comment dumps, in constant memory whatever the dump's size.

Formats:
* ``csv``: the tutorial's file: a header row with a ``body`` column (``id``,
  ``subreddit`` and ``created_utc`` are used when present), one comment per row,
  quoted fields may span lines.
* ``pushshift``: newline-delimited JSON as in the Pushshift / Academic-Torrents monthly
  dumps (``RC_2015-08.zst``); fields ``body``, ``id``, ``subreddit``, ``created_utc``.
* ``text``: plain UTF-8 text, one comment per line; ``paragraphs``: comments separated by
  blank lines (a comment may then span lines). Comments are named ``{dump}:{line}``.

Any of them may be compressed (see `rnnlm.data.sources`).

A reader yields `Comment` or `Skip` records; it never raises for a bad record, only for a
file that cannot be read at all (`RnnlmError`, naming the file and the offset).

What a record may hold and still be kept, cleaned (each cleaning is counted by the
tokenize stage): lone UTF-16 surrogates (half an emoji, common in real dumps) become
U+FFFD; NUL characters are removed; a `created_utc` that is not a number, not finite or
outside int64 becomes null. A record nested too deeply for the JSON parser is skipped as
`invalid_json`.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from rnnlm.data.sources import ByteSource, Dropped, detect, lines
from rnnlm.errors import RnnlmError

_TOO_LONG = "\0\0line too long\0\0"


@dataclass(frozen=True)
class Comment:
    line: int  # first physical line of the record (1-based)
    comment_id: str
    subreddit: str | None
    created_utc: int | None
    body: str
    cleaned: tuple[str, ...] = ()  # what was repaired: "surrogates", "nul", "timestamp"


@dataclass(frozen=True)
class Skip:
    line: int
    reason: str  # invalid_json, invalid_utf8, bad_csv_row, not_a_comment, too_long
    detail: str = ""
    lines: int = 1  # physical lines the bad record spans


def read_pushshift(source: ByteSource, id_prefix: str, max_chars: int, wanted=None) -> Iterator[Comment | Skip | None]:
    ordinal = 0
    for number, raw in lines(source, max_line_bytes=4 * max_chars + 4096):
        if not isinstance(raw, Dropped) and not raw.strip():
            continue
        if wanted is not None and not wanted(ordinal):
            yield None  # another shard's: not even parsed
        elif isinstance(raw, Dropped):
            yield Skip(number, "too_long", f"line longer than {4 * max_chars + 4096:,} bytes")
        else:
            yield _pushshift_record(number, raw, id_prefix, max_chars)
        ordinal += 1


def _bounded_int(digits: str) -> int | float:
    """A JSON integer; one too long for Python to convert (over 4,300 digits, and no field of a
    comment needs more than 20) is read as ±infinity, which the fields' checks then treat as
    any other absurd value, instead of failing the whole dump."""
    if len(digits) <= 20:
        return int(digits)
    return -math.inf if digits.startswith("-") else math.inf


def _pushshift_record(number: int, raw: bytes, id_prefix: str, max_chars: int) -> Comment | Skip:
    if number == 1:
        raw = raw.removeprefix(b"\xef\xbb\xbf")  # a byte-order mark
    try:
        obj = json.loads(raw.decode("utf-8"), parse_int=_bounded_int)
    except UnicodeDecodeError as e:
        return Skip(number, "invalid_utf8", f"byte {e.start}: {e.reason}")
    except json.JSONDecodeError as e:
        return Skip(number, "invalid_json", e.msg + f" (column {e.colno})")
    except RecursionError:
        return Skip(number, "invalid_json", "nested too deeply")
    body = obj.get("body") if isinstance(obj, dict) else None
    if not isinstance(body, str):
        return Skip(number, "not_a_comment", "no string field 'body'")
    if len(body) > max_chars:
        return Skip(number, "too_long", f"body of {len(body):,} characters")
    return make_comment(
        number,
        _str_or_none(obj.get("id")) or f"{id_prefix}:{number}",
        obj.get("subreddit"),
        obj.get("created_utc"),
        body,
    )


def read_text(source: ByteSource, id_prefix: str, max_chars: int, wanted=None) -> Iterator[Comment | Skip | None]:
    """One comment per non-empty line."""
    ordinal = 0
    for number, raw in lines(source, max_line_bytes=4 * max_chars + 4096):
        if not isinstance(raw, Dropped) and not raw.strip():
            continue
        if wanted is not None and not wanted(ordinal):
            yield None
        elif isinstance(raw, Dropped):
            yield Skip(number, "too_long", f"line longer than {4 * max_chars + 4096:,} bytes")
        else:
            yield _text_record(
                number, 1, raw.removeprefix(b"\xef\xbb\xbf") if number == 1 else raw, id_prefix, max_chars
            )
        ordinal += 1


def read_paragraphs(source: ByteSource, id_prefix: str, max_chars: int, wanted=None) -> Iterator[Comment | Skip | None]:
    """One comment per run of non-empty lines; a run longer than the limit is skipped whole,
    without being held."""
    ordinal, first, parts, size, dropped = 0, 0, [], 0, False
    for number, raw in [*lines(source, max_line_bytes=4 * max_chars + 4096), (None, b"")]:
        blank = not isinstance(raw, Dropped) and not raw.strip()
        if not blank:
            first = first or number
            size += 0 if isinstance(raw, Dropped) else len(raw) + 1
            dropped = dropped or isinstance(raw, Dropped) or size > 4 * max_chars + 4096
            if dropped:
                parts = []  # not held: the paragraph is skipped whole at its end
            else:
                parts.append(raw)
            continue
        if not first:
            continue
        if wanted is not None and not wanted(ordinal):
            yield None
        elif dropped:
            yield Skip(first, "too_long", f"paragraph longer than {4 * max_chars + 4096:,} bytes")
        else:
            yield _text_record(first, len(parts), b"\n".join(parts).removeprefix(b"\xef\xbb\xbf"), id_prefix, max_chars)
        ordinal += 1
        first, parts, size, dropped = 0, [], 0, False


def _text_record(line: int, span: int, raw: bytes, id_prefix: str, max_chars: int) -> Comment | Skip:
    try:
        body = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return Skip(line, "invalid_utf8", f"byte {e.start}: {e.reason}", span)
    if len(body) > max_chars:
        return Skip(line, "too_long", f"body of {len(body):,} characters", span)
    return make_comment(line, f"{id_prefix}:{line}", None, None, body)


def _csv_text_lines(source: ByteSource, max_chars: int) -> Iterator[str]:
    """The CSV's lines as text for `csv.reader`. A quoted field that runs on over many lines
    past 2 × `max_chars` is not held: its further lines become empty ones (the line numbers
    stay right) until the line that closes its quote, which comes marked too long. The record
    is then one skip, and the parser stays in step: no fragment of it reads as a comment."""
    inside, record, overlong = False, 0, False
    for number, raw in lines(source, max_line_bytes=4 * max_chars + 4096):
        if isinstance(raw, Dropped):
            # its row is then skipped as too_long (or as a bad row); an odd quote is kept
            # (first, where an opening one would be) so that the next rows parse as before
            text = ('"' if raw.quotes % 2 else "") + _TOO_LONG
        else:
            text = raw.decode("utf-8", "surrogateescape")
        text = text.removeprefix("\ufeff") if number == 1 else text
        record = record + len(text) if inside else len(text)
        inside ^= text.count('"') % 2 == 1  # a quoted field continues on the next line
        if overlong or (inside and record > 2 * max_chars):
            overlong = inside
            yield "\n" if inside else _TOO_LONG + text + "\n"
        else:
            yield text + "\n"


def _csv_columns(reader, path) -> tuple[int, dict[str, int | None]]:
    """(number of fields, column index of body, id, subreddit, created_utc) from the header."""
    try:
        header = next(reader)
    except csv.Error as e:
        raise RnnlmError(f"{path}:1: cannot parse the CSV header: {e}") from None
    if any(_has_surrogates(name) for name in header):
        raise RnnlmError(f"{path}:1: the CSV header is not UTF-8 text")
    columns = {name.strip().lower(): i for i, name in enumerate(header)}
    names = [name.strip().lower() for name in header]
    twice = sorted({n for n in names if names.count(n) > 1 and n in ("body", "id", "subreddit", "created_utc")})
    if twice:
        raise RnnlmError(f"{path}:1: the CSV header names the column {twice[0]!r} twice (found: {', '.join(header)})")
    if "body" not in columns:
        raise RnnlmError(f"{path}:1: the CSV header has no 'body' column (found: {', '.join(header)})")
    return len(header), {k: columns.get(k) for k in ("body", "id", "subreddit", "created_utc")}


def _csv_record(
    first: int, span: int, row: list[str], width: int, idx: dict, row_id: str, max_chars: int
) -> Comment | Skip:
    if len(row) != width:
        return Skip(first, "bad_csv_row", f"{len(row)} fields, header has {width}", span)
    if any(_TOO_LONG in f for f in row):
        return Skip(first, "too_long", "a line longer than the limit", span)
    if any(_has_surrogates(f) for f in row):
        return Skip(first, "invalid_utf8", "undecodable bytes in the row", span)
    body = row[idx["body"]]
    if len(body) > max_chars:
        return Skip(first, "too_long", f"body of {len(body):,} characters", span)
    field = {k: (row[i] if i is not None else None) for k, i in idx.items()}
    return make_comment(first, field["id"] or row_id, field["subreddit"], field["created_utc"], body)


def read_csv(source: ByteSource, id_prefix: str, max_chars: int, wanted=None) -> Iterator[Comment | Skip | None]:
    """The tutorial's CSV, parsed as `csv.reader(f, skipinitialspace=True)` parses it."""
    csv.field_size_limit(4 * max_chars + 4096)
    reader = csv.reader(_csv_text_lines(source, max_chars), skipinitialspace=True, strict=True)
    try:
        width, idx = _csv_columns(reader, source.path)
    except StopIteration:
        return
    row_no, prev_line, ordinal = 0, reader.line_num, -1
    while True:
        first = prev_line + 1
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            ordinal += 1
            span, prev_line = max(1, reader.line_num - prev_line), reader.line_num
            yield Skip(first, "bad_csv_row", str(e), lines=span) if wanted is None or wanted(ordinal) else None
            continue
        span, prev_line = reader.line_num - prev_line, reader.line_num
        if row:
            row_no += 1
            ordinal += 1
            if wanted is None or wanted(ordinal):
                yield _csv_record(first, span, row, width, idx, f"{id_prefix}:{row_no}", max_chars)
            else:
                yield None


def read_dump(
    path: str | os.PathLike, fmt: str, id_prefix: str = "", max_chars: int = 40_000, wanted=None
) -> tuple[ByteSource, Iterator[Comment | Skip | None]]:
    """Open a dump; returns the byte source (for progress) and its records, in order. With
    `wanted(ordinal)`, records it does not want are None, not even parsed (for shards)."""
    fmt, compression = detect(path, fmt)
    source = ByteSource(path, compression)
    reader = {"csv": read_csv, "pushshift": read_pushshift, "text": read_text, "paragraphs": read_paragraphs}[fmt]
    return source, reader(source, id_prefix or Path(path).name, max_chars, wanted)


def _has_surrogates(s: str) -> bool:
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


_SURROGATE = re.compile("[\ud800-\udfff]")
INT64 = 2**63


def _clean(text: str, repairs: list[str]) -> str:
    if "\0" in text:
        text = text.replace("\0", "")
        repairs.append("nul")
    if _has_surrogates(text):
        text = _SURROGATE.sub("\ufffd", text)
        repairs.append("surrogates")
    return text


def make_comment(line: int, comment_id: str, subreddit, created_utc, body: str) -> Comment:
    """A comment whose fields can all be stored: repaired where needed, the repairs named."""
    repairs: list[str] = []
    subreddit = _str_or_none(subreddit)
    created = _timestamp(created_utc)
    if created is None and created_utc not in (None, ""):
        repairs.append("timestamp")
    return Comment(
        line,
        _clean(comment_id, repairs),
        None if subreddit is None else _clean(subreddit, repairs),
        created,
        _clean(body, repairs),
        tuple(dict.fromkeys(repairs)),
    )


def _str_or_none(v) -> str | None:
    return None if v is None or v == "" else str(v)


def _timestamp(v) -> int | None:
    """Seconds since the epoch, or None for anything that is not a finite int64 number."""
    if isinstance(v, bool):
        return None
    if isinstance(v, int):
        return v if -INT64 <= v < INT64 else None
    try:
        f = float(v)
    except (TypeError, ValueError, OverflowError):
        return None
    if not math.isfinite(f) or not -INT64 <= f < INT64:
        return None
    return int(f)
