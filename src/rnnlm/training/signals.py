"""Signals during training: Slurm sends SIGTERM at a job's time limit and on preemption."""

from __future__ import annotations

import signal


class sigterm_checkpoints:
    """While training, SIGTERM (Slurm's time limit, preemption) checkpoints and stops."""

    def __init__(self, run):
        self.run, self.previous = run, None

    def _handler(self, signum, frame) -> None:
        self.run.terminate = signal.Signals(signum).name

    def __enter__(self):
        self.previous = signal.signal(signal.SIGTERM, self._handler)

    def __exit__(self, *exc):
        signal.signal(signal.SIGTERM, self.previous)
