"""Download a dump given by URL: progress in the log, retries that resume, proof of
completeness, sha256 check, atomic rename.

A download is stored only when something vouches that it is complete: the byte count the
server announced (Content-Length, or the total of a Content-Range), the framing of a chunked
response (a cut one raises), or the configured sha256. A response with none of them is stored
with a warning in the log (the compressed formats' readers still detect a truncated file).

The bytes arrive in ``{out}.part``. A transfer that breaks off, in this job or in a killed
one, resumes from the bytes already there with an HTTP ``Range`` request (``If-Range`` with the
first response's ETag or Last-Modified, kept in ``{out}.part.json``, so that a file changed on
the server starts afresh); a server that does not do ranges sends the whole file again. After
the last try it is one error, and nothing is stored as the dump.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import time
import urllib.error
import urllib.request
from pathlib import Path

from rnnlm.errors import RnnlmError
from rnnlm.progress import Progress, log

TRIES = 3
BROKEN = (urllib.error.URLError, OSError, http.client.HTTPException)


def is_url(path: str) -> bool:
    return path.startswith(("https://", "http://"))


def local_name(url: str) -> str:
    """The file name a URL is cached under (keeps the suffix, which tells the format)."""
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name or "dump"


class Incomplete(Exception):
    """A transfer that ended before it was whole: worth another try."""


class Part:
    """The bytes downloaded so far (``{out}.part``) and the server's validator for them."""

    def __init__(self, out: Path):
        self.path = out.with_name(out.name + ".part")
        self.meta = out.with_name(out.name + ".part.json")

    def size(self) -> int:
        return self.path.stat().st_size if self.path.is_file() else 0

    def validator(self) -> str | None:
        try:
            return json.loads(self.meta.read_text()).get("validator")
        except (OSError, ValueError, AttributeError):
            return None

    def restart(self, validator: str | None) -> None:
        self.path.unlink(missing_ok=True)
        self.meta.write_text(json.dumps({"validator": validator}))

    def digest(self) -> hashlib._Hash:
        h = hashlib.sha256()
        if self.path.is_file():
            with open(self.path, "rb") as f:
                while chunk := f.read(1 << 22):
                    h.update(chunk)
        return h

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        self.meta.unlink(missing_ok=True)


def _request(url: str, part: Part, timeout: float):
    """The response to a GET of the rest of the file (a Range from the part's size), and the
    offset its body starts at: that size, or 0 when the server sends the whole file."""
    have, validator = part.size(), part.validator()
    headers = {"User-Agent": "rnnlm"}
    if have:  # (If-Range: the whole file instead, should it have changed since)
        headers |= {"Range": f"bytes={have}-"} | ({"If-Range": validator} if validator else {})
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416:  # nothing after `have`: the part is stale or whole; start again
            part.restart(None)
            raise Incomplete("the server has no bytes after the partial download; starting afresh") from None
        if e.code >= 500 or e.code == 429:
            raise Incomplete(f"HTTP {e.code} {e.reason}") from None
        raise RnnlmError(f"{url}: download failed: HTTP {e.code} {e.reason}") from None
    except BROKEN as e:
        raise Incomplete(str(getattr(e, "reason", e))) from None
    if response.status == 206:
        return response, have
    part.restart(response.headers.get("ETag") or response.headers.get("Last-Modified"))
    return response, 0


def _expected_total(response, offset: int) -> int | None:
    if response.status == 206:  # Content-Range: bytes start-end/total
        total = response.headers.get("Content-Range", "").rpartition("/")[2]
        return int(total) if total.isdigit() else None
    length = int(response.headers.get("Content-Length") or 0) or None
    return None if length is None else offset + length


def _download(url: str, part: Part, timeout: float) -> tuple[str, int, str | None]:
    """(sha256, bytes, what vouches for completeness or None) after one try, which appends to
    the part (or rewrites it when the server sends the whole file)."""
    response, offset = _request(url, part, timeout)
    total = _expected_total(response, offset)
    chunked = "chunked" in response.headers.get("Transfer-Encoding", "").lower()
    digest, done = part.digest(), offset
    if offset:
        log.info(f"fetch {local_name(url)}: resuming after {offset:,} bytes")
    progress = Progress(f"fetch {local_name(url)}", "bytes")
    with response, open(part.path, "ab" if offset else "wb") as f:
        try:
            while chunk := response.read(1 << 20):
                f.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                progress.update(done - offset, done / total if total else None)
        except http.client.IncompleteRead as e:
            f.write(e.partial)  # what did arrive is kept, for the next try to resume after
            done += len(e.partial)
            raise Incomplete(f"broke off after {done:,} bytes ({type(e).__name__}: {e})") from None
        except BROKEN as e:
            raise Incomplete(f"broke off after {done:,} bytes ({type(e).__name__}: {e})") from None
    if total is not None and done != total:
        raise Incomplete(f"ended after {done:,} of {total:,} bytes")
    vouched = "its Content-Length" if total is not None else "its chunked framing" if chunked else None
    return digest.hexdigest(), done, vouched


def fetch(
    url: str, out: str | Path, sha256: str | None = None, timeout: float = 60.0, tries: int = TRIES, wait: float = 2.0
) -> str:
    """Download `url` to `out`; returns its sha256. Stores nothing unless it is whole (and
    matches `sha256` when given)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    part = Part(out)
    for attempt in range(1, tries + 1):
        try:
            got, size, vouched = _download(url, part, timeout)
            break
        except Incomplete as e:
            if attempt == tries:
                raise RnnlmError(
                    f"{url}: download incomplete after {tries} tries: {e} (the {part.size():,} bytes so far are kept "
                    f"in {part.path}: a rerun resumes)"
                ) from None
            log.warning(f"warning: {url}: try {attempt} of {tries} failed ({e}); retrying")
            time.sleep(wait * attempt)
    if sha256 and got != sha256.lower():
        part.remove()
        raise RnnlmError(f"{url}: sha256 mismatch: expected {sha256}, got {got}")
    if sha256:
        vouched = "the configured sha256"
    if vouched is None:
        log.warning(
            f"warning: {url}: the server sent neither a length nor chunks, and no sha256 is configured: "
            "nothing shows the download is complete (add `sha256:` to the dump's config to pin it)"
        )
    os.replace(part.path, out)
    part.remove()
    log.info(f"fetched {url}: {size:,} bytes, sha256 {got}" + (f", complete by {vouched}" if vouched else ""))
    return got
