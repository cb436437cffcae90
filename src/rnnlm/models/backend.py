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


def compiledir() -> str:
    """Where compiled graphs are cached (`environment`: ``.cache/pytensor`` in the checkout)."""
    return str(pytensor.config.base_compiledir)


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
    `rnnlm generate` starts at once), microseconds of overhead per op and step. A JAX model's
    step graphs run there too: one step is too small for a device, and its Ops are ours."""
    chosen = mode(name or DEFAULT_MODE or "FAST_COMPILE")
    return "FAST_COMPILE" if chosen == "JAX" else chosen


def check_device(gpu, name: str | None = None) -> str:
    """Where a model will train, as a log line; `gpu` is its config's ``gpu`` (true, false or
    ``optional``). A JAX model that asked for a GPU (``gpu: true``) and sees none stops here
    with one line: on a cluster that is a job that landed on a CPU-only node, or an
    environment without JAX's CUDA build."""
    chosen = mode(name) or "FAST_RUN"
    if chosen != "JAX":
        where = f"mode {chosen}: on the CPU"
        return where + (" (gpu: true is only used by mode: JAX)" if gpu is True else "")
    try:
        import jax
    except ImportError:
        raise RnnlmError("mode: JAX needs JAX: pip install -e '.[jax]' (CPU) or -e '.[gpu]' (CUDA 12)") from None
    devices = jax.devices()
    platforms = sorted({d.platform for d in devices})
    if gpu is True and not {"gpu", "cuda", "rocm"} & set(platforms):
        raise RnnlmError(
            f"gpu: true, but JAX sees no GPU here (devices: {', '.join(platforms)}): install jax[cuda12] "
            "in the job's environment, or set gpu: optional to train on what the node has"
        )
    return f"mode JAX: on {devices[0].platform} ({len(devices)} device{'s' if len(devices) > 1 else ''})"
