"""Where a training run is: everything a checkpoint stores besides the arrays."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields


@dataclass
class TrainState:
    learning_rate: float
    step: int = 0
    epoch: int = 0
    position: int = 0  # batches of the current epoch done
    tokens: int = 0
    seconds: float = 0.0
    best_loss: float = math.inf
    best_step: int = 0
    bad_evals: int = 0  # validations in a row without improvement
    last_eval_step: int = -1
    last_train_loss: float | None = None  # the tutorial schedule's previous training loss
    window_nats: float = 0.0  # the running training loss since the last validation
    window_tokens: int = 0
    stopped: str | None = None  # why training ended before its epochs, once it has
    history: list[dict] = field(default_factory=list)

    @classmethod
    def from_meta(cls, meta: dict) -> TrainState:
        return cls(**{f.name: meta[f.name] for f in fields(cls) if f.name in meta})

    def window_loss(self) -> float | None:
        """The mean training loss since the last validation (None before any step)."""
        return self.window_nats / self.window_tokens if self.window_tokens else None

    def count_step(self, nats: float, tokens: int) -> None:
        self.step += 1
        self.tokens += tokens
        self.window_nats += nats
        self.window_tokens += tokens

    def reset_window(self) -> None:
        self.window_nats = 0.0
        self.window_tokens = 0
