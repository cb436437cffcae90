"""The `rnnlm` command: use the pipeline's pieces from the shell.

A user's mistake (a bad flag, a missing or unreadable file, a model of another vocabulary)
is one line on stderr and exit code 2. Anything else is a bug: one line saying so and
where its traceback was written (`--debug` prints it instead).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path

from rnnlm import __version__
from rnnlm.config import defaults
from rnnlm.errors import RnnlmError

SYNTHETIC_SUFFIXES = (".csv", ".ndjson.zst")


class Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage block
        self.exit(2, f"rnnlm: error: {message} (see {self.prog} --help)\n")


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def unit_interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"expected a number from 0 to 1, got {text!r}")
    return value


def positive_float(text: str) -> float:
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"{text} is not a finite number > 0")
    return value


def _read_lines(path: str) -> Iterator[str]:
    p = Path(path)
    if not p.exists():
        raise RnnlmError(f"{path}: no such file")
    if not p.is_file():
        raise RnnlmError(f"{path}: not a regular file")
    return _decoded(open(p, "rb"), path)


def _decoded(stream, name: str) -> Iterator[str]:
    """Lines of a byte stream as text, one at a time (memory flat in the number of lines)."""
    with stream:
        for number, raw in enumerate(stream, 1):
            try:
                yield raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as e:
                raise RnnlmError(f"{name}:{number}: not UTF-8 text (byte {e.start}: {e.reason})") from None


def _inputs(texts: list[str], file: str | None = None) -> Iterator[str]:
    if file:
        return _read_lines(file)
    if texts:
        return iter(texts)
    if sys.stdin.isatty():
        raise RnnlmError("no text given: pass it as arguments, with --file, or on stdin")
    return _decoded(sys.stdin.buffer, "stdin")


def cmd_tokenize(args) -> None:
    from rnnlm.data.text import tokenize_comment

    for text in _inputs(args.text):
        print(json.dumps(tokenize_comment(text, args.normalize), ensure_ascii=False))


def cmd_show(args) -> None:
    from rnnlm.data.show import show

    for line in show(args.file, args.rows, args.vocab):
        print(line)


def cmd_corpus(args) -> None:
    from rnnlm.data.synthetic import write_synthetic_dump

    if not args.out.endswith(SYNTHETIC_SUFFIXES):
        raise RnnlmError(f"{args.out}: the output must end in .csv or .ndjson.zst (that decides its format)")
    summary = write_synthetic_dump(
        args.name,
        args.out,
        args.out + ".truth.parquet",
        args.out + ".entropy.json",
        comments=args.comments,
        seed=args.seed,
        topics=args.topics,
        topic_boost=args.topic_boost,
    )
    print(json.dumps(summary, indent=2))


def _model_path(model: str) -> str:
    """A model.npz path, or a model's name: its file in results/."""
    return model if model.endswith(".npz") else f"results/models/{model}/model.npz"


def _language_model(args):
    from rnnlm.evaluation.generate import LanguageModel

    model = _model_path(args.model)
    if not Path(model).exists():
        raise RnnlmError(f"{model}: no such model (train it with snakemake, or give a model.npz path)")
    lm = LanguageModel(model, args.vocab, args.mode)
    trained = lm.normalize
    if args.normalize is None:
        args.normalize = trained or defaults()["normalize"]
    elif trained and args.normalize != trained:
        print(
            f"rnnlm: warning: {model} was trained on text prepared with normalize: {trained}; "
            f"using --normalize {args.normalize} as asked",
            file=sys.stderr,
        )
    return lm


def cmd_generate(args) -> None:
    lm = _language_model(args)
    if args.min_length > args.max_length:
        raise RnnlmError(f"--min-length {args.min_length} is greater than --max-length {args.max_length}")
    for sentence in lm.generate(
        args.n,
        temperature=args.temperature,
        prefix=args.prefix or "",
        max_length=args.max_length,
        min_length=args.min_length,
        seed=args.seed,
        normalize=args.normalize,
    ):
        print(sentence, flush=True)


def _blocks(lines: Iterator[str]) -> Iterator[list[str]]:
    """n-best lists: runs of non-empty lines, separated by empty ones."""
    current = []
    for line in lines:
        if line.strip():
            current.append(line)
        elif current:
            yield current
            current = []
    if current:
        yield current


def _ngram_mixture(args, lm) -> dict:
    """The pipeline's Kneser-Ney model and the model's weight: --weight, else the one that
    evaluation tuned on valid (eval.json beside the model)."""
    from rnnlm.evaluation.ngram import KneserNey

    weight = args.weight
    if weight is None:
        evaluated = Path(_model_path(args.model)).with_name("eval.json")
        if not evaluated.exists():
            raise RnnlmError(
                f"--interpolate kn: no {evaluated} to take the weight from (evaluate the model, or give --weight)"
            )
        weight = (json.loads(evaluated.read_text()).get("interpolation") or {}).get("model_weight")
        if weight is None:
            raise RnnlmError(f"--interpolate kn: {evaluated} has no interpolation weight (give --weight)")
    found = sorted(Path("results/ngram").glob("kneser_ney_*.npz")) if args.ngram is None else [Path(args.ngram)]
    if len(found) != 1:
        raise RnnlmError(f"--interpolate kn: {len(found)} n-gram models in results/ngram/: name one with --ngram")
    ngram = KneserNey.load(found[0])
    if ngram.vocab_size != len(lm.tokens):
        raise RnnlmError(
            f"--interpolate kn: the n-gram model has {ngram.vocab_size} words, the model's "
            f"vocabulary {len(lm.tokens)}: they were not trained on the same vocabulary"
        )
    return {"ngram": ngram, "weight": weight}


SCORE_BATCH = 256  # lines scored together; results are printed as each batch is done


def cmd_score(args) -> None:
    lines = _inputs(args.text, args.file)
    units = _blocks(lines) if args.nbest else (t for t in lines if t.strip())
    first = next(units, None)
    if first is None:
        raise RnnlmError("nothing to score: every input line is empty")
    units = itertools.chain([first], units)
    lm = _language_model(args)
    mixture = _ngram_mixture(args, lm) if args.interpolate else {}
    if args.nbest:
        for block in units:
            ranked = _ranked(lm.score(block, args.normalize, **mixture), args)
            print(json.dumps({"ranked": ranked}, ensure_ascii=False), flush=True)
        return
    for batch in itertools.batched(units, SCORE_BATCH):
        for result in lm.score(list(batch), args.normalize, **mixture):
            print(json.dumps(result, ensure_ascii=False), flush=True)


def _ranked(results: list[dict], args) -> list[dict]:
    """Best first (highest logprob or lowest perplexity); lines with nothing to score last."""
    sign = -1 if args.rank_by == "logprob" else 1
    order = sorted(results, key=lambda r: (r[args.rank_by] is None, sign * (r[args.rank_by] or 0)))
    keys = ("text", "logprob", "perplexity", "unknown", "skipped")
    return [{"rank": k + 1, **{key: r[key] for key in keys if key in r}} for k, r in enumerate(order)]


def cmd_perplexity(args) -> None:
    from rnnlm.evaluation.perplexity import perplexity

    lines = _read_lines(args.file)
    lm = _language_model(args)
    mixture = _ngram_mixture(args, lm) if args.interpolate else {}
    result = perplexity(lm, lines, args.normalize, args.max_tokens, **mixture)
    if not result["tokens"]:
        raise RnnlmError(f"{args.file}: nothing to score: no line has a word left after cleaning")
    print(json.dumps({"file": args.file, "model": _model_path(args.model)} | result))


def _model_args(p) -> None:
    p.add_argument("--model", default="gru", help="a model.npz, or a model name in results/models/ (default: gru)")
    p.add_argument(
        "--vocab", default=None, help="only for a model file without its vocabulary (default: results/vocab.parquet)"
    )
    p.add_argument("--mode", default=None, help="PyTensor mode (default: FAST_RUN)")
    p.add_argument(
        "--normalize", choices=["reddit", "tutorial"], default=None, help="default: as in the model's training"
    )


def _add_generate(sub) -> None:
    d = defaults("generate")
    g = sub.add_parser("generate", help="write sentences with a trained model")
    _model_args(g)
    g.add_argument("-n", type=positive_int, default=d["n"], help="sentences to write")
    g.add_argument("--temperature", type=positive_float, default=d["temperature"])
    g.add_argument("--prefix", default=d["prefix"], help="text the sentences start with")
    g.add_argument("--max-length", type=positive_int, default=d["max_length"])
    g.add_argument(
        "--min-length",
        type=int,
        default=d["min_length"],
        help="shorter sentences are drawn again (the tutorial's rule)",
    )
    g.add_argument("--seed", type=int, default=d["seed"])
    g.set_defaults(func=cmd_generate)


def _add_score(sub) -> None:
    sc = sub.add_parser("score", help="log-probability and perplexity of sentences, one JSON line each")
    _model_args(sc)
    sc.add_argument("text", nargs="*", help="sentences (default: one per line from --file or stdin)")
    sc.add_argument("--file", help="read sentences from this file, one per line")
    sc.add_argument(
        "--nbest",
        action="store_true",
        help="rank candidate lists: blocks of lines separated by blank lines, best first",
    )
    sc.add_argument("--rank-by", choices=["logprob", "perplexity"], default="logprob")
    _interpolation_args(sc)
    sc.set_defaults(func=cmd_score)


def _interpolation_args(p) -> None:
    p.add_argument("--interpolate", choices=["kn"], help="mix with the pipeline's Kneser-Ney model, as evaluate does")
    p.add_argument("--weight", type=unit_interval, help="the model's weight in the mix (default: from its eval.json)")
    p.add_argument("--ngram", help="the n-gram model.npz (default: the one in results/ngram/)")


def _add_perplexity(sub) -> None:
    pp = sub.add_parser("perplexity", help="one perplexity for a text file (one comment or sentence per line), as JSON")
    pp.add_argument("file")
    _model_args(pp)
    _interpolation_args(pp)
    pp.add_argument(
        "--max-tokens", type=positive_int, default=defaults("evaluate")["max_tokens"], help="batch size bound"
    )
    pp.set_defaults(func=cmd_perplexity)


def _add_corpus(sub) -> None:
    d = defaults("synthetic")
    c = sub.add_parser("corpus", help="write a synthetic dump (.csv or .ndjson.zst) like the bundled one")
    c.add_argument("name", help="dump name (CSV rows get ids NAME:ROW)")
    c.add_argument("out", help="output path ending in .csv or .ndjson.zst")
    c.add_argument("--comments", type=positive_int, default=d["comments"])
    c.add_argument("--seed", type=int, default=d["seed"])
    c.add_argument("--topics", type=positive_int, default=d["topics"])
    c.add_argument("--topic-boost", type=positive_float, default=d["topic_boost"])
    c.set_defaults(func=cmd_corpus)


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="rnnlm", description=__doc__.split("\n\n")[0])
    p.add_argument("--debug", action="store_true", help="print the traceback of an internal error")
    p.add_argument("--version", action="version", version=f"rnnlm {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=Parser)

    t = sub.add_parser("tokenize", help="tokenize text as the pipeline does (a JSON list of sentences per input)")
    t.add_argument("text", nargs="*", help="comments to tokenize (default: one per line from stdin)")
    t.add_argument("--normalize", choices=["reddit", "tutorial"], default=defaults()["normalize"])
    t.set_defaults(func=cmd_tokenize)

    s = sub.add_parser("show", help="print what is inside a pipeline file: Parquet, .npz, JSON, CSV or TSV")
    s.add_argument("file")
    s.add_argument("-n", "--rows", type=positive_int, default=5)
    s.add_argument("--vocab", help="results/vocab.parquet, to print encoded ids as words")
    s.set_defaults(func=cmd_show)

    _add_generate(sub)
    _add_score(sub)
    _add_perplexity(sub)
    _add_corpus(sub)
    return p


def _internal_error(args, error: BaseException) -> int:
    if getattr(args, "debug", False):
        traceback.print_exc()
        return 1
    with tempfile.NamedTemporaryFile("w", prefix="rnnlm-crash-", suffix=".txt", delete=False) as f:
        traceback.print_exc(file=f)
    print(
        f"rnnlm: internal error ({type(error).__name__}: {error}); this is a bug. The traceback is in {f.name} "
        "(or rerun with --debug)",
        file=sys.stderr,
    )
    return 1


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except RnnlmError as e:
        print(f"rnnlm: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        sys.stderr.close()  # the reader went away (`| head`): not an error
    except KeyboardInterrupt:
        return 130
    except Exception as e:
        return _internal_error(args, e)
    return 0


if __name__ == "__main__":
    sys.exit(main())
