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


class RateMeter:
    """Training progress: steps/s and tokens/s over the steps since the last line, and an ETA.

    The first step (which compiles the graph: a minute when cold) is left out of the rates.
    The ETA uses the mean time per step since then, validations included, so that it does not
    swing with a short window; with `may_stop_early`, it says that early stopping may end
    training before `total_steps`.
    """

    def __init__(
        self,
        what: str,
        total_steps: int,
        start_step: int = 0,
        every: float = 10.0,
        clock=time.monotonic,
        per_epoch: int = 0,
        may_stop_early: bool = False,
    ):
        self.what, self.total, self.every, self.clock = what, total_steps, every, clock
        self.per_epoch, self.may_stop_early = per_epoch, may_stop_early
        self.first = start_step + 1  # the step that compiles
        self.last = self.since = clock()
        self.steps = self.tokens = self.run_steps = 0

    def update(self, step: int, tokens: int, loss: float, epoch: int, position: int | None = None) -> str | None:
        """Count one step of `tokens` predicted tokens (`position`: batches done in the epoch);
        returns (and logs) a line when one is due."""
        now = self.clock()
        if step == self.first:
            log.info(f"{self.what}: first step (compiling included) took {now - self.last:.1f} s; its loss {loss:.6f}")
            self.last = self.since = now
            return None
        self.steps += 1
        self.run_steps += 1
        self.tokens += tokens
        if now - self.last < self.every:
            return None
        dt = now - self.last
        where = f"epoch {epoch}"
        if self.per_epoch and position is not None:
            where += f" ({min(100 * position / self.per_epoch, 100):.0f}%)"
        line = (
            f"{self.what}: {where}, step {step:,} of {self.total:,}, train loss {loss:.4f}, "
            f"{self.steps / dt:.1f} steps/s, {self.tokens / dt:,.0f} tokens/s"
        )
        if self.total:
            line += f", ETA {_duration(max(self.total - step, 0) * (now - self.since) / self.run_steps)}"
            line += " (early stopping may end it sooner)" if self.may_stop_early else ""
        log.info(line)
        self.last, self.steps, self.tokens = now, 0, 0
        return line
