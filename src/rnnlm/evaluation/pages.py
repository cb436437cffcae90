"""The run's results as HTML pages for `snakemake --report`, which shows HTML and images inside
the report and offers anything else (Markdown, JSON, text) only as a download.

Each page is one self-contained file (no scripts, no external styles): the comparison of all
models, each model's evaluation, its samples, its gradient check, and the tokenization stats.
"""

from __future__ import annotations

import re
from html import escape

from rnnlm.evaluation.report import SPLITS, SUMMARY_INTRO, fmt, oov_rates, split_rows

NUMBER = re.compile(r"–|[-+]?[\d,]*\.?\d+(e[-+]?\d+)?")
STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { padding: 0.3em 0.8em; border-bottom: 1px solid #ddd; text-align: left; }
th { background: #f4f4f4; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
tr.model td { font-weight: 600; }
p.note { color: #555; }
ol.samples li { margin: 0.2em 0; }
"""


def page(title: str, *parts: str) -> str:
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{STYLE}</style></head><body>\n<h1>{escape(title)}</h1>\n" + "\n".join(parts) + "\n</body></html>\n"
    )


def table(header: list[str], rows: list[list], highlight: set[int] = frozenset()) -> str:
    """An HTML table; numbers are right-aligned, rows whose index is in `highlight` bold."""

    def cell(v) -> str:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return f'<td class="n">{v:,}</td>'
        numeric = NUMBER.fullmatch(str(v))  # a figure formatted already, or "–" for none
        return f"<td{' class=n' if numeric else ''}>{escape(str(v))}</td>"

    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = "\n".join(
        f"<tr{' class=model' if i in highlight else ''}>" + "".join(cell(v) for v in row) + "</tr>"
        for i, row in enumerate(rows)
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>\n{body}\n</tbody></table>"


def note(text: str) -> str:
    return f'<p class="note">{escape(text)}</p>'


def _rows(results: list[dict], split: str) -> list[list]:
    return [
        [
            name,
            fmt(v, "nats_per_token", ".4f"),
            fmt(v, "perplexity", ".2f"),
            fmt(known, "perplexity", ".2f"),
            v["tokens"],
        ]
        for name, v, known in split_rows(results, split)
    ]


SPLIT_HEADER = ["model", "nats/token", "perplexity", "perplexity without OOV", "tokens"]


def eval_page(result: dict) -> str:
    """One model's eval.json: the model, its interpolation with the n-gram model and the
    baselines, on valid and test."""
    name = result["model"]
    parts = [note(f"cell {result['cell']}, {result['trained_steps']:,} training steps")]
    weight = result["interpolation"].get("model_weight")
    if weight is not None:
        i = result["interpolation"]
        parts.append(note(f"{name}+{i['with']}: interpolated, model weight {weight:.3f} (tuned on {i['tuned_on']})."))
    parts += [note(f"Note: {n}") for n in result.get("notes", [])]
    for split in SPLITS:
        rows = _rows([result], split)
        if not rows:
            continue
        ours = {i for i, row in enumerate(rows) if row[0] == name or row[0].startswith(f"{name}+")}
        parts += [f"<h2>{split}</h2>", table(SPLIT_HEADER, rows, ours)]
    return page(f"Evaluation of {name}", *parts)


def summary_page(results: list[dict]) -> str:
    """Every model beside the baselines (summary.md as a page)."""
    parts = [note(SUMMARY_INTRO)]
    if results:
        parts.append(note(f"Targets that are UNKNOWN_TOKEN: {oov_rates(results[0])}."))
    models = {r["model"] for r in results}
    for split in SPLITS:
        rows = _rows(results, split)
        if not rows:
            continue
        ours = {i for i, row in enumerate(rows) if row[0].split("+")[0] in models}
        parts += [f"<h2>{split}</h2>", table(SPLIT_HEADER, rows, ours)]
    return page("Models compared", *parts)


SAMPLES_SHOWN = 200  # a page, not the file: `generate.n` may be in the millions


def samples_page(name: str, samples_path: str) -> str:
    """The first SAMPLES_SHOWN lines of samples.txt (read line by line) and how many there are."""
    shown, total = [], 0
    with open(samples_path, encoding="utf-8") as f:
        for total, line in enumerate(f, 1):
            if total <= SAMPLES_SHOWN:
                shown.append(line.rstrip("\n"))
    count = f"{total:,} sentences" + (f"; the first {SAMPLES_SHOWN} shown" if total > SAMPLES_SHOWN else "")
    items = "\n".join(f"<li>{escape(s)}</li>" for s in shown)
    return page(f"Samples from {name}", note(count), f'<ol class="samples">\n{items}\n</ol>')


def gradcheck_page(result: dict) -> str:
    """The gate's JSON: per parameter, the largest relative error of the symbolic gradient
    against centred finite differences and, for the tutorial's RNN, against the numpy
    reference implementation; and the verdict."""
    tolerance = result["tolerance"]
    checks = {"finite differences": result["finite_differences"]}
    for variant, params in result.get("numpy_reference", {}).items():
        checks[f"numpy reference, {variant}"] = params
    errors = [c["max_relative_error"] for params in checks.values() for c in params.values()]
    worst = max(errors, default=0.0)
    verdict = "passed" if worst <= tolerance else "FAILED"
    sizes = ", ".join(f"{k} {v}" for k, v in result["sizes"].items())
    parts = [
        note(
            f"{result['cell']} in {result['dtype']} on a small copy ({sizes}); output {result['output']}; "
            f"tolerance {tolerance:g}; worst relative error {worst:.2e}."
        )
    ]
    for against, params in checks.items():
        rows = [
            [
                name,
                c.get("entries", "–"),
                c.get("checked", "–"),
                f"{c['max_relative_error']:.2e}",
                "ok" if c["max_relative_error"] <= tolerance else "over",
            ]
            for name, c in params.items()
        ]
        parts += [
            f"<h2>against {escape(against)}</h2>",
            table(["", "entries", "checked", "max relative error", ""], rows),
        ]
    return page(f"Gradient check of {result['model']}: {verdict}", *parts)


def tokenization_page(stats: list[dict]) -> str:
    """Every dump's tokenize stats: what was read, kept, skipped (by reason) and cleaned."""
    keys = ["comments_read", "comments_kept", "bad_records", "sentences", "tokens", "seconds"]
    rows = [[s["dump"], *(s[k] for k in keys)] for s in stats]
    parts = [table(["dump", "comments read", "kept", "bad records", "sentences", "tokens", "seconds"], rows)]
    for s in stats:
        reasons = [[f"skipped: {k}", v] for k, v in s["skipped"].items()] + [
            [f"cleaned: {k}", v] for k, v in s["cleaned"].items()
        ]
        if reasons:
            parts += [f"<h2>{escape(s['dump'])}</h2>", table(["what", "comments"], reasons)]
        if s["bad_examples"]:
            examples = [list(pair) for pair in zip(s["bad_example_lines"], s["bad_examples"])]
            parts += [f"<h3>{escape(s['dump'])}: first bad records</h3>", table(["line", "what was wrong"], examples)]
    return page("Tokenization", *parts)
