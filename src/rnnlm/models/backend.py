"""PyTensor set-up: the environment (compile caches, BLAS, Numba's optimisation level, memory:
`environment.configure`, which importing the package `rnnlm.models` runs before any of its
modules imports PyTensor), and the mode to compile with: ``RNNLM_MODE`` or a model's ``mode``
setting; default PyTensor's (Numba, FAST_RUN); `light_mode` for step-by-step graphs.
"""

from __future__ import annotations

import os
import sys

from rnnlm import RnnlmError
from rnnlm.models.environment import configure

_IMPORTED_BEFORE = "pytensor" in sys.modules
configure()

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
