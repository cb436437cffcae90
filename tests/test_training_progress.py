"""The training log's rates: steps/s and tokens/s over the same window (the step that
compiles left out), so that a line's tokens/s is steps/s times the tokens per step."""

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
