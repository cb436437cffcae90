"""What the tokenize stage counts: records read, kept, skipped by reason, repaired.

Skip reasons: unreadable records (`BAD_REASONS`, which count towards `max_bad_fraction`)
and comments dropped on purpose (``deleted``, ``removed``, ``empty``: nothing left after
cleaning). Repairs (``cleaned``): ``surrogates``, ``nul``, ``timestamp`` (see readers).
"""

from __future__ import annotations

from collections import Counter

from rnnlm.data.readers import Comment, Skip
from rnnlm.errors import RnnlmError

BAD_REASONS = ("invalid_json", "invalid_utf8", "bad_csv_row", "not_a_comment", "too_long", "pathological")
EXAMPLES = 20  # bad records quoted in the stats


class Tally:
    def __init__(self, path):
        self.path = str(path)
        self.skipped: Counter = Counter()
        self.cleaned: Counter = Counter()
        self.examples: list[tuple[int, str]] = []  # (line, text)
        self.bad_lines = self.kept = self.sentences = self.tokens = 0

    def skip(self, rec: Skip) -> None:
        self.skipped[rec.reason] += 1
        self.bad_lines += rec.lines
        if len(self.examples) < EXAMPLES:
            self.examples.append((rec.line, f"{self.path}:{rec.line}: {rec.reason}: {rec.detail}"))

    def drop(self, reason: str) -> None:
        self.skipped[reason] += 1

    def pathological(self, comment: Comment, seconds: float) -> None:
        self.skip(
            Skip(
                comment.line,
                "pathological",
                f"tokenizing took more than {seconds:g} s of CPU time ({len(comment.body):,} characters)",
            )
        )

    def keep(self, comment: Comment, sentences: list[list[str]]) -> None:
        self.cleaned.update(comment.cleaned)
        if not sentences:
            self.skipped["empty"] += 1
            return
        self.kept += 1
        self.sentences += len(sentences)
        self.tokens += sum(len(s) for s in sentences)

    def read(self) -> int:
        return self.kept + sum(self.skipped.values())

    def stats(
        self, *, dump: str, normalize: str, threads: int, seconds: float, shard: int = 0, shards: int = 1
    ) -> dict:
        read = self.read()
        bad = sum(self.skipped[r] for r in BAD_REASONS)
        return {
            "dump": dump,
            "path": self.path,
            "normalize": normalize,
            "threads": threads,
            **({"shard": shard} if shards > 1 else {}),
            "shards": shards,
            "comments_read": read,
            "comments_kept": self.kept,
            "skipped": dict(sorted(self.skipped.items())),
            "cleaned": dict(sorted(self.cleaned.items())),
            "bad_records": bad,
            "bad_lines": self.bad_lines,
            "bad_fraction": bad / read if read else 0.0,
            "bad_examples": [text for _, text in self.examples],
            "bad_example_lines": [line for line, _ in self.examples],
            "sentences": self.sentences,
            "tokens": self.tokens,
            "seconds": round(seconds, 3),
            "comments_per_second": round(read / seconds, 1) if seconds else 0.0,
        }


def merge_stats(parts: list[dict], seconds: float) -> dict:
    """The stats of a whole dump from its shards' (counts add up; examples stay in file order)."""
    first = parts[0]
    merged = {k: first[k] for k in ("dump", "path", "normalize", "threads")}
    for key in ("comments_read", "comments_kept", "bad_records", "bad_lines", "sentences", "tokens"):
        merged[key] = sum(p[key] for p in parts)
    for key in ("skipped", "cleaned"):
        merged[key] = dict(sorted(sum((Counter(p[key]) for p in parts), Counter()).items()))
    examples = sorted(
        zip((x for p in parts for x in p["bad_example_lines"]), (x for p in parts for x in p["bad_examples"]))
    )[:EXAMPLES]
    read = merged["comments_read"]
    merged |= {
        "shards": len(parts),
        "bad_fraction": merged["bad_records"] / read if read else 0.0,
        "bad_examples": [text for _, text in examples],
        "bad_example_lines": [line for line, _ in examples],
        "seconds": round(seconds, 3),
        "comments_per_second": round(read / seconds, 1) if seconds else 0.0,
    }
    order = [
        "dump",
        "path",
        "normalize",
        "threads",
        "shards",
        "comments_read",
        "comments_kept",
        "skipped",
        "cleaned",
        "bad_records",
        "bad_lines",
        "bad_fraction",
        "bad_examples",
        "bad_example_lines",
        "sentences",
        "tokens",
        "seconds",
        "comments_per_second",
    ]
    return {k: merged[k] for k in order}


def check_stats(stats: dict, path, max_bad_fraction: float, partial: bool = False) -> None:
    """Fail a dump with no comments, too many bad records or no usable comment (a shard's
    stats are `partial`: the whole dump is judged when the shards are merged)."""
    if partial:
        return
    if stats["comments_read"] == 0:
        raise RnnlmError(f"{path}: no comments in the dump")
    if stats["bad_fraction"] > max_bad_fraction:
        first = "; ".join(stats["bad_examples"][:3])
        raise RnnlmError(
            f"{path}: {stats['bad_records']:,} of {stats['comments_read']:,} records are bad "
            f"({100 * stats['bad_fraction']:.2f}% > max_bad_fraction {100 * max_bad_fraction:g}%): "
            f"{stats['skipped']}; first: {first}"
        )
    if stats["comments_kept"] == 0:
        raise RnnlmError(
            f"{path}: no usable comment among {stats['comments_read']:,} records (skipped: {stats['skipped']})"
        )
