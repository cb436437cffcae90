"""The training log's rates: steps/s and tokens/s over the same window (the step that
compiles left out), so that a line's tokens/s is steps/s times the tokens per step."""

import re

from rnnlm.progress import RateMeter


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_rates_cover_the_same_window_and_leave_out_the_compiling_step():
    clock = Clock()
    meter = RateMeter("train m", total_steps=100, every=10.0, clock=clock)
    clock.now += 60.0  # the first step compiles for a minute
    assert meter.update(1, 500, 5.0, 0) is None
    lines = []
    for step in range(2, 42):  # 40 steps of 200 tokens, 0.5 s each
        clock.now += 0.5
        if (line := meter.update(step, 200, 4.0, 0)) is not None:
            lines.append(line)
    assert len(lines) == 2  # at 10 s and 20 s
    for line in lines:
        assert "2.0 steps/s, 400 tokens/s" in line, line


def test_the_eta_follows_the_mean_step_time_not_the_last_window():
    """A 30 s validation in the middle: a 10 s window's ETA would jump thirtyfold at the line
    after it; the mean time per step since the first step moves it by less than twice. The
    epoch's share shows."""
    clock = Clock()
    meter = RateMeter("train m", total_steps=1000, every=10.0, clock=clock, per_epoch=400, may_stop_early=True)
    meter.update(1, 100, 5.0, 0, 1)
    lines = {}
    for step in range(2, 402):
        clock.now += 0.125 + (30.0 if step == 250 else 0.0)
        if (line := meter.update(step, 100, 4.0, 0, step)) is not None:
            lines[step] = line
    assert list(lines) == [81, 161, 241, 250, 330]
    assert lines[81].startswith("train m: epoch 0 (20%), step 81 of 1,000, train loss 4.0000, 8.0 steps/s")
    eta = {s: _seconds(re.search(r"ETA (\d+:\d\d:\d\d)", line).group(1)) for s, line in lines.items()}
    assert eta[81] == 114 and eta[241] == 94  # 0.125 s a step: (1000 - 81) × 0.125 s
    assert 1.5 < eta[330] / eta[241] < 2.0 and eta[250] < 2 * eta[241]  # the stall spread over all steps
    assert all(line.endswith("(early stopping may end it sooner)") for line in lines.values())


def _seconds(hms: str) -> int:
    h, m, s = map(int, hms.split(":"))
    return 3600 * h + 60 * m + s
