"""The run's figures: each model's loss curve, and every model beside the baselines."""

from __future__ import annotations

import json

from rnnlm.atomic import atomic_path
from rnnlm.evaluation.report import split_rows
from rnnlm.progress import log


def reference_losses(baselines_path: str) -> dict[str, float]:
    """Valid-split losses to draw beside a model's: the Kneser-Ney baseline and, on the
    bundled corpus, the source's true entropy."""
    with open(baselines_path) as f:
        valid = json.load(f)["valid"] or {}
    refs = {k.replace("kneser_ney_", "KN-"): v["nats_per_token"] for k, v in valid.items() if k.startswith("kneser")}
    if "true_source" in valid:
        refs["true entropy"] = valid["true_source"]["nats_per_token"]
    return refs


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: str) -> None:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)


def learning_rate_cuts(history: list[dict]) -> list[float]:
    """The steps at which the learning rate was lowered (it is recorded after the cut)."""
    return [b["step"] for a, b in zip(history, history[1:]) if b["learning_rate"] < a["learning_rate"]]


def best_validation(history: list[dict]) -> dict | None:
    validated = [h for h in history if h["valid_loss"] is not None]
    return min(validated, key=lambda h: h["valid_loss"]) if validated else None


def plot_history(path: str, history: list[dict], name: str, references: dict[str, float], training: dict) -> None:
    """Train and valid loss by step, with the validations, the learning-rate cuts, the parameters
    kept (fast schedule: the best validation) and where training stopped (`training`: the model
    file's summary), and horizontal lines at the `references` (label -> nats)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9, 4))
    train = [(h["step"], h["train_loss"]) for h in history if h["train_loss"] is not None]
    valid = [(h["step"], h["valid_loss"]) for h in history if h["valid_loss"] is not None]
    if train:
        ax.plot(*zip(*train), label="train (running mean)", color="tab:blue")
    if valid:
        ax.plot(*zip(*valid), marker="o", markersize=4, label="valid (each validation)", color="tab:orange")
    for (label, nats), style in zip(references.items(), ("--", ":", "-.")):
        ax.axhline(nats, linestyle=style, color="gray", label=f"{label} (valid)")
    for i, step in enumerate(learning_rate_cuts(history)):
        ax.axvline(step, color="tab:purple", alpha=0.5, linewidth=1, label="learning rate cut" if i == 0 else None)
    kept = best_validation(history) if training.get("train", {}).get("schedule") == "fast" else None
    if kept:
        ax.plot(kept["step"], kept["valid_loss"], marker="*", markersize=14, color="tab:red", linestyle="none")
        ax.annotate("kept", (kept["step"], kept["valid_loss"]), textcoords="offset points", xytext=(0, -16))
    if history:
        ax.axvline(history[-1]["step"], color="black", linewidth=1, label=f"stop: {training.get('stopped', 'end')}")
    ax.set(xlabel="step", ylabel="cross-entropy (nats/token)", title=name)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))  # beside, not over, the curves
    ax.grid(alpha=0.3)
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    log.info(
        f"loss plot {name}: {len(train)} training and {len(valid)} validation points, "
        f"{len(learning_rate_cuts(history))} learning-rate cut(s), {len(references)} reference line(s): {path}"
    )


def plot_comparison(path: str, results: list[dict]) -> None:
    """Every model, its interpolation with the n-gram model and the baselines on test (valid
    when the test split is empty), as horizontal bars of perplexity (best at the top), with
    the true source's line when known."""
    plt = _pyplot()
    split = "test" if any(r["test"] for r in results) else "valid"
    figures = {name: entry for name, entry, _ in split_rows(results, split)}
    if not figures:
        fig, ax = plt.subplots(figsize=(7, 1.5))
        ax.axis("off")
        ax.text(0.5, 0.5, "no figures: the valid and test splits are empty", ha="center", va="center")
        _save(fig, path)
        plt.close(fig)
        log.info(f"comparison: no figures (empty valid and test splits): {path}")
        return
    truth = figures.pop("true_source", None)
    ranked = list(reversed(figures.items()))  # barh draws the first at the bottom: best on top
    models = {r["model"] for r in results}
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(ranked) + 1.5))
    colors = ["tab:blue" if k.split("+")[0] in models else "tab:gray" for k, _ in ranked]
    values = [v["perplexity"] for _, v in ranked]
    bars = ax.barh([k for k, _ in ranked], values, color=colors)
    ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], padding=3, fontsize="small")
    if truth:
        ax.axvline(truth["perplexity"], color="tab:red", linestyle="--", label=f"true source {truth['perplexity']:.2f}")
        ax.legend(fontsize="small", loc="upper right")
    ax.set_xscale("log")  # uniform is orders of magnitude above the rest
    ax.set_xlim(right=max(values) * 2.5)  # room for the last bar's label
    ax.set(xlabel=f"{split} perplexity (log scale; lower is better)", title=f"Models and baselines on {split}")
    fig.tight_layout()
    _save(fig, path)
    plt.close(fig)
    log.info(f"comparison: {len(ranked)} entries on {split}: {path}")
