"""A training run's history (history.csv) and its loss plot (loss.png)."""

from __future__ import annotations

import csv

from rnnlm.atomic import atomic_path

HISTORY = ("step", "epoch", "learning_rate", "train_loss", "valid_loss", "valid_perplexity", "tokens", "seconds")


def write_history(path: str, history: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HISTORY)
        w.writeheader()
        w.writerows(history)


def read_history(path: str) -> list[dict]:
    def number(v: str):
        return None if v == "" else float(v)

    with open(path, newline="") as f:
        return [{k: number(v) for k, v in row.items()} for row in csv.DictReader(f)]
