"""PyTensor set-up, done once before PyTensor is imported.

* compile cache: ``RNNLM_COMPILEDIR``, else ``.cache/pytensor`` in the checkout (shared by
  the pipeline, the tests and the benches, so a graph compiles cold once per machine); the
  Numba kernels of our own Ops cache there too (``numba-kernels``, unless NUMBA_CACHE_DIR);
* memory: freed blocks stay with the process (glibc's mmap and trim thresholds raised),
  so the big per-step arrays of a train step (T·B×C logits) are not returned to the kernel
  and faulted in again, page by page, at every step (Numba's allocations get no huge pages);
  ``RNNLM_KEEP_MEMORY=0`` turns this off;
* BLAS for the C backend: ``-lopenblas`` (pip's PyTensor finds none on Debian by itself);
* mode: ``RNNLM_MODE`` or a model's ``mode`` setting; default PyTensor's (Numba, FAST_RUN).
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

from rnnlm import RnnlmError

_CHECKOUT = Path(__file__).resolve().parents[3]


def _flags() -> str:
    flags = [f for f in os.environ.get("PYTENSOR_FLAGS", "").split(",") if f]
    names = {f.split("=", 1)[0] for f in flags}
    if "base_compiledir" not in names and "compiledir" not in names:
        compiledir = os.environ.get("RNNLM_COMPILEDIR") or (
            str(_CHECKOUT / ".cache" / "pytensor") if (_CHECKOUT / "pyproject.toml").exists() else None
        )
        if compiledir:
            flags.append(f"base_compiledir={compiledir}")
            os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(compiledir) / "numba-kernels"))
    if "blas__ldflags" not in names:
        flags.append("blas__ldflags=-lopenblas")
    return ",".join(flags)


def _keep_freed_memory() -> None:
    if os.environ.get("RNNLM_KEEP_MEMORY", "1") == "0" or not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    libc.mallopt(M_MMAP_THRESHOLD, 1 << 30)
    libc.mallopt(M_TRIM_THRESHOLD, (1 << 31) - 1)


_IMPORTED_BEFORE = "pytensor" in sys.modules
os.environ["PYTENSOR_FLAGS"] = _flags()
# LLVM's -O2 instead of Numba's default -O3: cold compiles ~35% shorter, same speed (measured,
# bench/train_throughput.py); NUMBA_OPT in the environment wins
os.environ.setdefault("NUMBA_OPT", "2")
_keep_freed_memory()

import pytensor  # noqa: E402

if _IMPORTED_BEFORE and not pytensor.config.blas__ldflags:
    # too late for the flags (import rnnlm.models before pytensor to get the compile cache)
    pytensor.config.blas__ldflags = "-lopenblas"

DEFAULT_MODE = os.environ.get("RNNLM_MODE") or None  # None: PyTensor's default (FAST_RUN = Numba)


def blas_ldflags() -> str:
    return pytensor.config.blas__ldflags


def mode(name: str | None = None):
    """The PyTensor mode to compile with: an explicit name, else RNNLM_MODE, else the default."""
    name = name or DEFAULT_MODE
    if name in ("C", "CVM", "c"):
        if not blas_ldflags():
            raise RnnlmError("PyTensor's C backend needs a BLAS: install libopenblas-dev (make setup does)")
        return "CVM"
    return name


def light_mode(name: str | None = None):
    """The mode of small graphs called step by step (generation, scoring): an explicit name or
    RNNLM_MODE, else FAST_COMPILE, PyTensor's Python VM: nothing to compile (a first
    `rnnlm generate` starts at once), microseconds of overhead per op and step."""
    return mode(name or DEFAULT_MODE or "FAST_COMPILE")
