"""A CPU-time budget per comment: one pathological comment can never stall a tokenize job.

Every cleaning and tokenizing pattern is linear (see `markup`, `treebank`, `punkt_exact`), so a
comment of at most `max_comment_chars` characters takes milliseconds. The budget is the backstop
for what that argument might miss: each comment runs under a CPU-time timer (``ITIMER_VIRTUAL``,
``SIGVTALRM``); when it fires, the signal handler raises `OverBudget` inside whatever was running
(both `re` and `regex` check for signals while they match), the comment is dropped and counted as
``pathological``, and the next comment starts with a fresh budget.

CPU time, not wall time: a busy machine that deschedules a worker does not trip the guard.
Signals reach only a process's main thread, which is where both a pool worker and the
single-process path (`tokenize_dump`'s caller) run comments; from another thread the guard is
inactive (`CpuBudget.active` is False) and comments run unguarded.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable

from rnnlm.data.text import punkt_english, tokenize_comment

DEFAULT_SECONDS = 2.0  # ~50x the slowest legitimate 40,000-character comment


class OverBudget(Exception):
    """A comment used up its CPU-time budget."""


_armed = False  # the handler raises only while a guarded call runs


def _on_timer(signum, frame) -> None:
    if _armed:
        raise OverBudget


class CpuBudget:
    """Calls that raise `OverBudget` after `seconds` of the process's CPU time."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.active = seconds > 0 and threading.current_thread() is threading.main_thread()
        self._previous = signal.signal(signal.SIGVTALRM, _on_timer) if self.active else None

    def call(self, fn: Callable, *args):
        global _armed
        if not self.active:
            return fn(*args)
        try:
            _armed = True
            signal.setitimer(signal.ITIMER_VIRTUAL, self.seconds)
            return fn(*args)
        finally:
            # disarm first: a signal handled after this line is ignored, one handled before it
            # raises here, inside the caller's `except OverBudget`
            _armed = False
            signal.setitimer(signal.ITIMER_VIRTUAL, 0)

    def close(self) -> None:
        if self.active:
            signal.signal(signal.SIGVTALRM, self._previous)
            self.active = False


def tokenize_guarded(bodies: list[str], mode: str, budget: CpuBudget) -> list[list[list[str]] | None]:
    """Each body's sentences of tokens, or None for a comment that used up its budget."""
    out: list[list[list[str]] | None] = []
    for body in bodies:
        try:
            out.append(budget.call(tokenize_comment, body, mode))
        except OverBudget:
            out.append(None)
    return out


_worker_budget: CpuBudget | None = None


def init_worker(seconds: float) -> None:
    """Pool initializer: the worker's budget (its handler stays installed for the process's life)."""
    global _worker_budget
    punkt_english()  # load the model before any comment's budget starts
    _worker_budget = CpuBudget(seconds)


def worker_batch(bodies: list[str], mode: str) -> list[list[list[str]] | None]:
    """A pool task: `tokenize_guarded` with the worker's budget."""
    return tokenize_guarded(bodies, mode, _worker_budget)
