"""What a run reports as Markdown: each model's eval.md and the summary of all models."""

from __future__ import annotations

import json

from rnnlm.atomic import write_text
from rnnlm.progress import log

SPLITS = ("valid", "test")


def _fmt(entry: dict | None, key: str, spec: str) -> str:
    return "–" if entry is None or entry["tokens"] == 0 else format(entry[key], spec)


def markdown_table(result: dict) -> str:
    """One model's eval.md: it, its interpolation with the n-gram model, and the baselines."""
    rows = [f"## {result['model']} ({result['cell']})", ""]
    interpolation = result.get("interpolation", {})
    if interpolation.get("model_weight") is not None:
        rows += [
            f"Interpolated with {interpolation['with']}: model weight {interpolation['model_weight']:.3f} "
            f"(tuned on {interpolation['tuned_on']}).",
            "",
        ]
    rows += [f"Note: {note}" for note in result.get("notes", [])]
    rows += [
        "| model | valid nats/token | valid perplexity | test nats/token | test perplexity |",
        "|---|---:|---:|---:|---:|",
    ]
    keys = next((list(result[s]) for s in SPLITS if result[s]), [])
    for key in keys:
        v, t = ((result[s] or {}).get(key) for s in SPLITS)
        rows.append(
            f"| {key} | {_fmt(v, 'nats_per_token', '.4f')} | {_fmt(v, 'perplexity', '.2f')} | "
            f"{_fmt(t, 'nats_per_token', '.4f')} | {_fmt(t, 'perplexity', '.2f')} |"
        )
    return "\n".join(rows) + "\n"


def summarize(eval_paths: list[str], out: str) -> str:
    """results/summary.md: every model (alone and interpolated with the n-gram baseline) beside
    the baselines, on valid and test, best first."""
    results = []
    for path in eval_paths:
        with open(path) as f:
            results.append(json.load(f))
    lines = [
        "# Models compared",
        "",
        "Per-word cross-entropy counts SENTENCE_END and not SENTENCE_START; baselines are fitted on the",
        "train split with the same vocabulary. `A+B` is model A linearly interpolated with B, the weight",
        "tuned on valid. The last column leaves out the targets that are UNKNOWN_TOKEN.",
        "",
    ]
    if results:
        first = results[0]
        rates = ", ".join(f"{s} {100 * r:.2f}%" for s, r in first["oov_rate"].items() if s in SPLITS)
        lines += [f"Targets that are UNKNOWN_TOKEN: {rates}.", ""] + [f"Note: {n}" for n in first.get("notes", [])]
    for split in SPLITS:
        if not results or results[0][split] is None:
            continue
        lines += [
            f"## {split}",
            "",
            "| model | nats/token | perplexity | perplexity without OOV | tokens |",
            "|---|---:|---:|---:|---:|",
        ]
        rows, known = {}, {}
        for r in results:
            rows |= r[split]
            known |= r["without_oov"][split]
        for key, v in sorted(rows.items(), key=lambda kv: kv[1]["nats_per_token"]):
            lines.append(
                f"| {key} | {v['nats_per_token']:.4f} | {v['perplexity']:.2f} | "
                f"{_fmt(known.get(key), 'perplexity', '.2f')} | {v['tokens']:,} |"
            )
        lines.append("")
    text = "\n".join(lines)
    write_text(out, text)
    if results and results[0]["test"] is not None:
        name, best = min(
            ((k, v) for r in results for k, v in r["test"].items()), key=lambda kv: kv[1]["nats_per_token"]
        )
        log.info(
            f"summary: {len(results)} model(s) beside the baselines; best on test: {name} {best['perplexity']:.2f}"
        )
    return text
