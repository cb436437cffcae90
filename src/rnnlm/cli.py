"""The `rnnlm` command: use the pipeline's pieces from the shell."""

from __future__ import annotations

import argparse
import json
import sys

from rnnlm import RnnlmError


def _inputs(texts: list[str]) -> list[str]:
    return texts if texts else [line.rstrip("\n") for line in sys.stdin]


def cmd_tokenize(args) -> None:
    from rnnlm.data.text import tokenize_comment

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
        from rnnlm.data.vocab import load_vocab

        tokens = list(load_vocab(args.vocab)["token"])
    for row in rows:
        if tokens is not None:
            row["text"] = " ".join(tokens[i] for i in row["ids"])
        print(json.dumps(row, ensure_ascii=False, default=str))


def cmd_corpus(args) -> None:
    from rnnlm.data.synthetic import write_synthetic_dump

    summary = write_synthetic_dump(
        args.name, args.out, args.out + ".truth.parquet", args.out + ".entropy.json",
        comments=args.comments, seed=args.seed, topics=args.topics, topic_boost=args.topic_boost,
    )
    print(json.dumps(summary, indent=2))


def _language_model(args):
    from pathlib import Path

    from rnnlm.evaluation.generate import LanguageModel

    model = args.model
    if not model.endswith(".npz"):  # a model's name: its file in results/
        model = f"results/models/{model}/model.npz"
    if not Path(model).exists():
        raise RnnlmError(f"{model}: no such model (train it with snakemake, or give a model.npz path)")
    return LanguageModel(model, args.vocab, args.mode)


def cmd_generate(args) -> None:
    lm = _language_model(args)
    for sentence in lm.generate(args.n, temperature=args.temperature, prefix=args.prefix or "",
                                max_length=args.max_length, min_length=args.min_length, seed=args.seed,
                                normalize=args.normalize):
        print(sentence)


def _blocks(lines: list[str]) -> list[list[str]]:
    blocks, current = [], []
    for line in lines + [""]:
        if line.strip():
            current.append(line)
        elif current:
            blocks.append(current)
            current = []
    return blocks


def cmd_score(args) -> None:
    lm = _language_model(args)
    if args.file:
        with open(args.file, encoding="utf-8") as f:
            lines = [line.rstrip("\n") for line in f]
    else:
        lines = _inputs(args.text)
    if not args.nbest:
        texts = [t for t in lines if t.strip()]
        for result in lm.score(texts, args.normalize):
            print(json.dumps(result, ensure_ascii=False))
        return
    for block in _blocks(lines):
        ranked = sorted(lm.score(block, args.normalize), key=lambda r: -r[args.rank_by] if args.rank_by == "logprob"
                        else r[args.rank_by])
        print(json.dumps({"ranked": [{"rank": k + 1, "text": r["text"], "logprob": r["logprob"],
                                      "perplexity": r["perplexity"], "unknown": r["unknown"]}
                                     for k, r in enumerate(ranked)]}, ensure_ascii=False))


def _model_args(p) -> None:
    p.add_argument("--model", default="gru", help="a model.npz, or a model name in results/models/ (default: gru)")
    p.add_argument("--vocab", default="results/vocab.parquet", help="the vocabulary it was trained with")
    p.add_argument("--mode", default=None, help="PyTensor mode (default: FAST_RUN)")
    p.add_argument("--normalize", choices=["reddit", "tutorial"], default="reddit", help="as in training")


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

    g = sub.add_parser("generate", help="write sentences with a trained model")
    _model_args(g)
    g.add_argument("-n", type=int, default=10, help="sentences to write")
    g.add_argument("--temperature", type=float, default=1.0)
    g.add_argument("--prefix", help="text the sentences start with")
    g.add_argument("--max-length", type=int, default=50)
    g.add_argument("--min-length", type=int, default=5, help="shorter sentences are drawn again (the tutorial's rule)")
    g.add_argument("--seed", type=int, default=0)
    g.set_defaults(func=cmd_generate)

    sc = sub.add_parser("score", help="log-probability and perplexity of sentences, one JSON line each")
    _model_args(sc)
    sc.add_argument("text", nargs="*", help="sentences (default: one per line from --file or stdin)")
    sc.add_argument("--file", help="read sentences from this file, one per line")
    sc.add_argument("--nbest", action="store_true",
                    help="rank candidate lists: blocks of lines separated by blank lines, best first")
    sc.add_argument("--rank-by", choices=["logprob", "perplexity"], default="logprob")
    sc.set_defaults(func=cmd_score)

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
