"""Download a dump given by URL: progress in the log, sha256 check, atomic rename."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

from rnnlm import RnnlmError
from rnnlm.atomic import atomic_path
from rnnlm.progress import Progress, log


def is_url(path: str) -> bool:
    return path.startswith(("https://", "http://"))


def local_name(url: str) -> str:
    """The file name a URL is cached under (keeps the suffix, which tells the format)."""
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name or "dump"


def fetch(url: str, out: str | Path, sha256: str | None = None, timeout: float = 60.0) -> str:
    """Download `url` to `out`; returns its sha256. Fails (leaving nothing) on a mismatch."""
    digest = hashlib.sha256()
    try:
        response = urllib.request.urlopen(urllib.request.Request(url, headers={"User-Agent": "rnnlm"}), timeout=timeout)
    except (urllib.error.URLError, OSError) as e:
        raise RnnlmError(f"{url}: download failed: {getattr(e, 'reason', e)}") from None
    total = int(response.headers.get("Content-Length") or 0) or None
    progress = Progress(f"fetch {local_name(url)}", "bytes")
    done = 0
    with response, atomic_path(out) as tmp, open(tmp, "wb") as f:
        try:
            while chunk := response.read(1 << 20):
                f.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                progress.update(done, done / total if total else None)
        except (urllib.error.URLError, OSError) as e:
            raise RnnlmError(f"{url}: download broke off after {done:,} bytes: {e}") from None
        if total is not None and done != total:
            raise RnnlmError(f"{url}: download ended after {done:,} of {total:,} bytes")
        got = digest.hexdigest()
        if sha256 and got != sha256.lower():
            raise RnnlmError(f"{url}: sha256 mismatch: expected {sha256}, got {got}")
        f.flush()
    log.info(f"fetched {url}: {done:,} bytes, sha256 {got}")
    return got
