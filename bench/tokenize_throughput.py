"""Tokenize throughput: comments/s for 1 and 2 processes, against the tutorial's own code.

Runs the pipeline's tokenize stage (CSV in, Parquet out) on N reddit-length comments (~535
characters each: one of the hand-written reddit comments of tests/data followed by bundled-corpus
ones, with their markup), each run in a fresh process as a Snakemake job would be (no warm
caches), and the tutorial's preprocessing (unchanged `nltk.sent_tokenize` / `nltk.word_tokenize`)
on the same comments in this process; checks that the tokens are identical and prints JSON.
`normalize: reddit` runs too, and the cleaning's share of its time is measured in this process
(`normalize_reddit` alone against the whole of `tokenize_comment`, CPU time).

`--baseline SRC` runs every stage measurement a second time, interleaved, with the `rnnlm`
package found in SRC (another checkout's `src/`), on the same comments: before and after in
one run. A stage that runs past `--timeout` seconds is stopped and reported as such (before
its linear-time patterns, `normalize: reddit` hung on the bundled corpus's bot comments).

Usage: python bench/tokenize_throughput.py [N] [--baseline SRC] [--timeout SECONDS]

Spawned workers import this file again: everything heavy is imported inside the functions.
"""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"
TARGET_2_PROCESSES = 2500  # comments/s, tutorial mode, tokens identical to the tutorial's code


def _helpers():
    """tests/helpers.py (the tutorial's reference code), loaded from its path."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("helpers", TESTS / "helpers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reddit_length_comments(n: int, helpers) -> list[str]:
    from rnnlm.data.synthetic import Source, generate_comments

    pieces = iter(c.body for c in generate_comments(Source.build(1), 4 * n, seed=2))
    real = helpers.read_csv_bodies(TESTS / "data" / "reddit-sample.csv")
    out = []
    for i in range(n):
        body = real[i % len(real)] + " "
        while len(body) < 280:
            body += next(pieces) + "\n\n"
        out.append(body.strip())
    return out


def _pipeline(path: Path, out: Path, mode: str, threads: int, src: str | None, timeout: float):
    """The tokenize stage in a fresh process (with the package in `src`, if given): (comments/s,
    the tokens it wrote), or None when it ran past `timeout` seconds."""
    import pyarrow.parquet as pq

    env = dict(os.environ, PYTHONPATH=src) if src else None
    child = [sys.executable, __file__, "--stage", str(path), str(out), mode, str(threads)]
    # its own process group: a stage that hangs is stopped with its pool workers
    with subprocess.Popen(child, stdout=subprocess.PIPE, text=True, env=env, start_new_session=True) as proc:
        try:
            stdout, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
            return None
    if proc.returncode:
        raise RuntimeError(f"the tokenize stage failed ({proc.returncode}): {' '.join(child)}")
    return json.loads(stdout), pq.read_table(out, columns=["tokens"]).column("tokens").to_pylist()


def _stage(path: str, out: str, mode: str, threads: str) -> None:
    from rnnlm.data.tokenize import tokenize_dump

    stats = tokenize_dump(path, out, out + ".json", dump="bench", normalize=mode, threads=int(threads))
    print(json.dumps(stats["comments_kept"] / stats["seconds"]))


def _cleaning_share(bodies: list[str]) -> dict:
    from rnnlm.data.text import normalize_reddit, tokenize_comment

    t = time.process_time()
    for body in bodies:
        normalize_reddit(body)
    clean = time.process_time() - t
    t = time.process_time()
    for body in bodies:
        tokenize_comment(body, "reddit")
    whole = time.process_time() - t
    return {
        "reddit_cleaning_us_per_comment": round(1e6 * clean / len(bodies), 1),
        "reddit_cleaning_share_of_tokenize": round(clean / whole, 3),
    }


def _measure(result: dict, path: Path, tmp: Path, reference: list, reference_rate: float, args) -> None:
    for mode in ("tutorial", "reddit"):
        for threads in (1, 2):
            key = f"threads_{threads}" if mode == "tutorial" else f"reddit_threads_{threads}"
            for prefix, src in [("", None)] + ([("baseline_", args.baseline)] if args.baseline else []):
                measured = _pipeline(path, tmp / f"{prefix}{key}.parquet", mode, threads, src, args.timeout)
                if measured is None:
                    result[f"{prefix}{key}_comments_per_s"] = f"did not finish within {args.timeout:g} s"
                    continue
                rate, rows = measured
                result[f"{prefix}{key}_comments_per_s"] = round(rate)
                if mode == "tutorial":
                    wrapped = [["SENTENCE_START", *t, "SENTENCE_END"] for t in rows]
                    result[f"{prefix}{key}_vs_tutorial_code"] = round(rate / reference_rate, 2)
                    result[f"{prefix}{key}_tokens_identical"] = wrapped == reference


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("n", type=int, nargs="?", default=6000, help="comments (default 6000)")
    parser.add_argument("--baseline", metavar="SRC", help="also measure the rnnlm package in SRC")
    parser.add_argument("--timeout", type=float, default=600, help="seconds a stage may run (default 600)")
    args = parser.parse_args()
    helpers = _helpers()
    tmp = Path(tempfile.mkdtemp())
    helpers.write_punkt_tab(tmp / "nltk_data")
    bodies = reddit_length_comments(args.n, helpers)
    path = helpers.write_csv(tmp / "bench.csv", bodies)

    t = time.perf_counter()
    reference = helpers.tutorial_pipeline(path)
    reference_rate = args.n / (time.perf_counter() - t)

    result = {
        "comments": args.n,
        "mean_chars": round(sum(map(len, bodies)) / args.n),
        "cpus": os.cpu_count(),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "tutorial_code_comments_per_s": round(reference_rate),
    }
    _measure(result, path, tmp, reference, reference_rate, args)
    result.update(_cleaning_share(bodies))
    result["target_comments_per_s_2_threads"] = TARGET_2_PROCESSES
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--stage"]:
        _stage(*sys.argv[2:])
    else:
        main()
