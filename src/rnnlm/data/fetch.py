"""Download a dump given by URL: progress in the log, retries, proof of completeness, sha256
check, atomic rename.

A download is stored only when something vouches that it is complete: the byte count the
server announced (Content-Length), the framing of a chunked response (a cut one raises), or
the configured sha256. A response with none of them is stored with a warning in the log
(the compressed formats' readers still detect a truncated file). A transfer that breaks
off is retried from the start; after the last try it is one error, and nothing is stored.
"""

from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
import urllib.request
from pathlib import Path

from rnnlm.atomic import atomic_path
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


def _download(url: str, tmp: Path, timeout: float) -> tuple[str, int, str | None]:
    """(sha256, bytes, what vouches for completeness or None) of one try into `tmp`."""
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "rnnlm"}), timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code >= 500 or e.code == 429:
            raise Incomplete(f"HTTP {e.code} {e.reason}") from None
        raise RnnlmError(f"{url}: download failed: HTTP {e.code} {e.reason}") from None
    except BROKEN as e:
        raise Incomplete(str(getattr(e, "reason", e))) from None
    total = int(response.headers.get("Content-Length") or 0) or None
    chunked = "chunked" in response.headers.get("Transfer-Encoding", "").lower()
    digest, done = hashlib.sha256(), 0
    progress = Progress(f"fetch {local_name(url)}", "bytes")
    with response, open(tmp, "wb") as f:
        try:
            while chunk := response.read(1 << 20):
                f.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                progress.update(done, done / total if total else None)
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
    with atomic_path(out) as tmp:
        for attempt in range(1, tries + 1):
            try:
                got, size, vouched = _download(url, tmp, timeout)
                break
            except Incomplete as e:
                if attempt == tries:
                    raise RnnlmError(f"{url}: download incomplete after {tries} tries: {e}") from None
                log.warning(f"warning: {url}: try {attempt} of {tries} failed ({e}); retrying")
                time.sleep(wait * attempt)
        if sha256 and got != sha256.lower():
            raise RnnlmError(f"{url}: sha256 mismatch: expected {sha256}, got {got}")
        if sha256:
            vouched = "the configured sha256"
        if vouched is None:
            log.warning(
                f"warning: {url}: the server sent neither a length nor chunks, and no sha256 is configured: "
                "nothing shows the download is complete (add `sha256:` to the dump's config to pin it)"
            )
    log.info(f"fetched {url}: {size:,} bytes, sha256 {got}" + (f", complete by {vouched}" if vouched else ""))
    return got
