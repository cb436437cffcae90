"""Progress lines for long stages: count, rate and, when the total is known, ETA."""

from __future__ import annotations

import logging
import time

log = logging.getLogger("rnnlm")


def configure_logging(path: str | None = None) -> None:
    """Log to stderr and, when given, to `path` (a Snakemake rule's log file)."""
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if path:
        handlers.append(logging.FileHandler(path, mode="w"))
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S", handlers=handlers, force=True
    )
    logging.getLogger("pytensor").setLevel(logging.WARNING)  # its INFO lines are config chatter


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """Call `update(count, done_fraction)` often; it logs at most every `every` seconds."""

    def __init__(self, what: str, unit: str, every: float = 5.0):
        self.what, self.unit, self.every = what, unit, every
        self.start = self.last = time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.start

    def update(self, count: int, done: float | None = None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < self.every:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        line = f"{self.what}: {count:,} {self.unit} ({count / elapsed:,.0f}/s, {_duration(elapsed)} elapsed"
        if done is not None and 0 < done <= 1:
            line += f", {100 * done:.1f}%, ETA {_duration(elapsed * (1 - done) / done)}"
        log.info(line + ")")
