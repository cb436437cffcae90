"""The environment of PyTensor and Numba, set before either is imported (`configure`).

* compile cache: ``RNNLM_COMPILEDIR``, else ``.cache/pytensor`` in the checkout (shared by
  the pipeline, the tests and the benches, so a graph compiles cold once per machine); the
  Numba kernels of our own Ops cache there too (``numba-kernels``, unless NUMBA_CACHE_DIR);
* BLAS for the C backend: ``-lopenblas`` (pip's PyTensor finds none on Debian by itself);
* Numba optimises at LLVM's -O2, not -O3: cold compiles ~35% shorter at the same speed
  (measured with bench/train_throughput.py); NUMBA_OPT in the environment wins;
* memory: freed blocks stay with the process (glibc's mmap and trim thresholds raised), so
  the big per-step arrays of a train step (T·B×C logits) are not returned to the kernel and
  faulted in again, page by page, at every step (Numba's allocations get no huge pages);
  ``RNNLM_KEEP_MEMORY=0`` turns this off.

No PyTensor here: `rnnlm.models` runs `configure` when the package is imported, so the flags
are in place whichever model module is imported first.
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

_CHECKOUT = Path(__file__).resolve().parents[3]
_done = False


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


def configure() -> None:
    """Once per process; effective if PyTensor and Numba are not imported yet."""
    global _done
    if _done:
        return
    _done = True
    os.environ["PYTENSOR_FLAGS"] = _flags()
    os.environ.setdefault("NUMBA_OPT", "2")
    _keep_freed_memory()
