"""Atomic file writes: write beside the target, fsync, then rename over it.

A reader never sees a half-written output. A killed job leaves a ``.NAME.tmp-*`` file
beside its target; the next write of that target removes it. A full disk (or a quota, a
read-only folder, a file-size limit) is one error naming the output, not a traceback.
"""

from __future__ import annotations

import errno
import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

from rnnlm.errors import RnnlmError

WRITE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}


def _write_failure(e: BaseException) -> str | None:
    """Why writing failed, when it is the file system's doing (pyarrow's errors carry no errno)."""
    if isinstance(e, OSError) and e.errno in WRITE_ERRORS:
        return os.strerror(e.errno)
    text = str(e)
    for code in WRITE_ERRORS:
        if isinstance(e, OSError) and os.strerror(code) in text:
            return os.strerror(code)
    return None


def remove_leftovers(target: Path) -> None:
    """Temporary files of earlier, killed writes of `target`."""
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        stale.unlink(missing_ok=True)


@contextmanager
def atomic_path(target: str | os.PathLike):
    """Yield a temporary path in the target's folder; rename it to `target` on success."""
    target = Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(target)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.tmp-")
        os.close(fd)
    except OSError as e:
        raise RnnlmError(f"{target}: cannot write it: {e.strerror}") from None
    try:
        yield Path(tmp)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except Exception as e:
        reason = _write_failure(e)
        if reason:
            raise RnnlmError(f"{target}: cannot write it: {reason}") from None
        raise
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def write_json(target: str | os.PathLike, data) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n")


def write_text(target: str | os.PathLike, text: str) -> None:
    with atomic_path(target) as tmp:
        tmp.write_text(text)
