"""What a run reports as Markdown: each model's eval.md and the summary of all models."""

from __future__ import annotations

from rnnlm.atomic import write_text
from rnnlm.progress import log

SPLITS = ("valid", "test")
SUMMARY_INTRO = (
    "Per-word cross-entropy counts SENTENCE_END and not SENTENCE_START; baselines are fitted on the "
    "train split with the same vocabulary. A+B is model A linearly interpolated with B, the weight "
    "tuned on valid. The column without OOV leaves out the targets that are UNKNOWN_TOKEN."
)


def fmt(entry: dict | None, key: str, spec: str) -> str:
    """One figure of an entry, or "–" where there is none (no entry, or no tokens)."""
    return "–" if entry is None or not entry.get("tokens") else format(entry[key], spec)


def split_rows(results: list[dict], split: str) -> list[tuple[str, dict, dict | None]]:
    """(name, entry, entry without OOV targets) of every model, interpolation and baseline of
    the eval.json `results` on `split`, best first; [] when the split is empty."""
    figures, known = {}, {}
    for r in results:
        figures |= r[split] or {}
        known |= (r["without_oov"] or {}).get(split) or {}
    ranked = sorted(figures.items(), key=lambda kv: kv[1]["nats_per_token"])
    return [(name, entry, known.get(name)) for name, entry in ranked]


def oov_rates(result: dict) -> str:
    return ", ".join(f"{s} {100 * r:.2f}%" for s, r in result["oov_rate"].items() if s in SPLITS)


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
            f"| {key} | {fmt(v, 'nats_per_token', '.4f')} | {fmt(v, 'perplexity', '.2f')} | "
            f"{fmt(t, 'nats_per_token', '.4f')} | {fmt(t, 'perplexity', '.2f')} |"
        )
    return "\n".join(rows) + "\n"


def summarize(results: list[dict], out: str) -> str:
    """results/summary.md: every model (alone and interpolated with the n-gram baseline) beside
    the baselines, on valid and test, best first (`results`: the models' eval.json)."""
    lines = ["# Models compared", "", SUMMARY_INTRO, ""]
    if results:
        notes = [f"Note: {n}" for n in results[0].get("notes", [])]
        lines += [f"Targets that are UNKNOWN_TOKEN: {oov_rates(results[0])}.", ""] + notes
    for split in SPLITS:
        rows = split_rows(results, split)
        if not rows:
            continue
        lines += [
            f"## {split}",
            "",
            "| model | nats/token | perplexity | perplexity without OOV | tokens |",
            "|---|---:|---:|---:|---:|",
        ]
        for key, v, known in rows:
            lines.append(
                f"| {key} | {v['nats_per_token']:.4f} | {v['perplexity']:.2f} | "
                f"{fmt(known, 'perplexity', '.2f')} | {v['tokens']:,} |"
            )
        lines.append("")
    text = "\n".join(lines)
    write_text(out, text)
    best = [row for row in split_rows(results, "test") if row[0] != "true_source"][:1]  # a model or baseline
    if best:
        name, best, _ = best[0]
        log.info(
            f"summary: {len(results)} model(s) beside the baselines; best on test: {name} {best['perplexity']:.2f}"
        )
    return text
