"""The `rnnlm` command: use the pipeline's pieces from the shell."""

from __future__ import annotations

import argparse
import json
import sys

from rnnlm import RnnlmError


def _inputs(texts: list[str]) -> list[str]:
    return texts if texts else [line.rstrip("\n") for line in sys.stdin]


def cmd_tokenize(args) -> None:
    from rnnlm.text import tokenize_comment

    for text in _inputs(args.text):
        print(json.dumps(tokenize_comment(text, args.normalize), ensure_ascii=False))


def cmd_show(args) -> None:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(args.parquet)
    except FileNotFoundError:
        raise RnnlmError(f"{args.parquet}: no such file") from None
    except (OSError, ValueError) as e:
        raise RnnlmError(f"{args.parquet}: cannot read: {e}") from None
    print(f"{args.parquet}: {table.num_rows:,} rows; {table.schema.to_string(show_schema_metadata=False)}")
    rows = table.slice(0, args.rows).to_pylist()
    tokens = None
    if args.vocab and "ids" in table.column_names:
        from rnnlm.vocab import load_vocab

        tokens = list(load_vocab(args.vocab)["token"])
    for row in rows:
        if tokens is not None:
            row["text"] = " ".join(tokens[i] for i in row["ids"])
        print(json.dumps(row, ensure_ascii=False, default=str))


def cmd_corpus(args) -> None:
    from rnnlm.corpus import write_synthetic_dump

    summary = write_synthetic_dump(
        args.name, args.out, args.out + ".truth.parquet", args.out + ".entropy.json",
        comments=args.comments, seed=args.seed, topics=args.topics, topic_boost=args.topic_boost,
    )
    print(json.dumps(summary, indent=2))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rnnlm", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)

    t = sub.add_parser("tokenize", help="tokenize text exactly as the pipeline does (one JSON list of sentences per input)")
    t.add_argument("text", nargs="*", help="comments to tokenize (default: one per line from stdin)")
    t.add_argument("--normalize", choices=["reddit", "tutorial"], default="reddit")
    t.set_defaults(func=cmd_tokenize)

    s = sub.add_parser("show", help="print the schema and first rows of a pipeline Parquet file")
    s.add_argument("parquet")
    s.add_argument("-n", "--rows", type=int, default=5)
    s.add_argument("--vocab", help="results/vocab.parquet, to print encoded ids as words")
    s.set_defaults(func=cmd_show)

    c = sub.add_parser("corpus", help="write a synthetic dump (.csv or .ndjson.zst) like the bundled one")
    c.add_argument("name", help="dump name (CSV rows get ids NAME:ROW)")
    c.add_argument("out", help="output path ending in .csv or .ndjson.zst")
    c.add_argument("--comments", type=int, default=6000)
    c.add_argument("--seed", type=int, default=2015)
    c.add_argument("--topics", type=int, default=8)
    c.add_argument("--topic-boost", type=float, default=8.0)
    c.set_defaults(func=cmd_corpus)
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except RnnlmError as e:
        print(f"rnnlm: error: {e}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
