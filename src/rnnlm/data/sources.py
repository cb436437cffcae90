"""Dump files as bytes: format detection, decompression, and lines in bounded memory.

Either format may be compressed: ``.zst`` (2 GiB window, as the Pushshift dumps need),
``.bz2``, ``.xz``, or plain. Bytes are split into lines before decoding, so chunk edges that
cut a line or a UTF-8 character in two do no harm; a line over the limit is dropped
without being held in memory. A truncated or corrupt file is an error naming its offset.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import stat
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import zstandard

from rnnlm.errors import RnnlmError

FORMATS = ("csv", "pushshift", "text", "paragraphs")
COMPRESSIONS = ("zst", "bz2", "xz", "gz")
# the first bytes of each compressed format, to name the one a file really holds
MAGIC = {b"\x28\xb5\x2f\xfd": "zst", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz", b"\x1f\x8b": "gz"}
CHUNK = 1 << 20
ZSTD_WINDOW = 2**31


def detect(path: str | os.PathLike, fmt: str = "auto") -> tuple[str, str | None]:
    """(format, compression) from `fmt` or, for ``auto``, from the file name."""
    name = Path(path).name.lower()
    compression = next((c for c in COMPRESSIONS if name.endswith("." + c)), None)
    stem = name[: -len(compression) - 1] if compression else name
    if fmt == "auto":
        if stem.endswith(".csv"):
            fmt = "csv"
        elif stem.endswith(".txt"):
            fmt = "text"
        elif compression or stem.endswith((".json", ".ndjson", ".jsonl")) or stem.startswith("rc_"):
            fmt = "pushshift"
        else:
            raise RnnlmError(
                f"{path}: cannot tell the format from the name; set `format:` (csv, pushshift, text or paragraphs) "
                "for this dump"
            )
    if fmt not in FORMATS:
        raise RnnlmError(f"{path}: unknown format {fmt!r} (expected auto, {', '.join(FORMATS)})")
    return fmt, compression


class ByteSource:
    """Decompressed bytes of a file, chunk by chunk, with the compressed position for ETAs."""

    def __init__(self, path: str | os.PathLike, compression: str | None):
        self.path = Path(path)
        try:
            info = self.path.stat()
            if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
                raise RnnlmError(f"{path}: not a regular file")
            self.size = info.st_size
            self._raw = open(self.path, "rb")
        except OSError as e:
            raise RnnlmError(f"{path}: cannot open: {e.strerror}") from None
        self.compression = compression
        self._check_magic()

    def _check_magic(self) -> None:
        """A compressed file whose name says otherwise: one line naming what it holds (else a
        gzip named .zst reads as 'Unknown frame descriptor', and as .csv as invalid UTF-8)."""
        head = self._raw.read(8)
        self._raw.seek(0)
        actual = next((kind for magic, kind in MAGIC.items() if head.startswith(magic)), None)
        if actual is not None and actual != self.compression:
            self.close()
            named = f"named as {self.compression} data" if self.compression else "named as uncompressed"
            raise RnnlmError(f"{self.path}: the file holds {actual} data but is {named}: rename it to end in .{actual}")

    def position(self) -> int:
        return self._raw.tell()

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> ByteSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def chunks(self) -> Iterator[bytes]:
        try:
            if self.compression == "zst":
                yield from self._zstd()
            else:
                opener = {"bz2": bz2.open, "xz": lzma.open, "gz": gzip.open}.get(self.compression)
                stream = opener(self._raw) if opener else self._raw
                while chunk := stream.read(CHUNK):
                    yield chunk
        except (EOFError, OSError, lzma.LZMAError, zlib.error, zstandard.ZstdError) as e:
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
