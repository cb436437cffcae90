"""Model quality on real English text: the default models of config.yaml against Kneser-Ney.

Debian's `fortunes` package (about 15,000 human-written texts, ~0.5M tokens, under
/usr/share/games/fortunes; installed with apt if missing, never committed) is written as a
CSV in the tutorial's format and run through the whole pipeline with the bundled models
unchanged (vocabulary 8,000, `normalize: reddit`). Prints JSON: test perplexity of every
model, alone and interpolated with KN, beside the baselines, each model's training seconds,
and how the best model compares with KN-3.

    .venv/bin/python bench/real_text_quality.py [--workdir DIR] [--cores N] [--models FILE.yaml]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
FORTUNES = Path("/usr/share/games/fortunes")


def ensure_fortunes() -> None:
    if FORTUNES.is_dir() and any(FORTUNES.iterdir()):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    print("installing Debian's fortunes package (real English text for this bench)", file=sys.stderr)
    subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "fortunes"], check=True, stdout=subprocess.DEVNULL)


def fortunes() -> list[str]:
    """Every entry of every fortune file (the `%`-separated texts), in a fixed order."""
    texts = []
    for path in sorted(FORTUNES.iterdir()):
        if path.suffix in (".dat", ".u8") or path.is_symlink() or not path.is_file():
            continue
        raw = path.read_bytes().decode("utf-8", "replace")
        texts += [t.strip() for t in raw.split("\n%\n") if t.strip()]
    return texts


def write_csv(path: Path, texts: list[str]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["body"])
        w.writerows([t] for t in texts)


def write_csv_if_changed(path: Path, texts: list[str]) -> None:
    """A rewrite with the same texts would still be newer: Snakemake would redo every stage."""
    fresh = path.with_suffix(".new.csv")
    write_csv(fresh, texts)
    if path.exists() and path.read_bytes() == fresh.read_bytes():
        fresh.unlink()
    else:
        fresh.replace(path)


def snakemake(workdir: Path, targets: list[str], cores: int, extra: tuple = (), env: dict | None = None) -> float:
    """Run the pipeline in `workdir` with its bench.yaml, for `targets` (none: everything); its
    log goes to stderr (stdout is the bench's JSON). Returns its wall seconds."""
    # targets first: --configfile (and --rerun-triggers) take every word that follows them
    command = [str(Path(sys.executable).with_name("snakemake")), *targets, "--snakefile", str(REPO / "Snakefile")]
    command += ["--directory", str(workdir), "--cores", str(cores), "--configfile", str(workdir / "bench.yaml")]
    started = time.monotonic()
    subprocess.run([*command, *extra], check=True, cwd=workdir, env=env, stdout=sys.stderr)
    return time.monotonic() - started


def run_pipeline(workdir: Path, config: dict, cores: int) -> float:
    (workdir / "bench.yaml").write_text(yaml.safe_dump(config))
    return snakemake(workdir, [], cores)


def table(workdir: Path, models: list[str]) -> dict:
    out = {"models": {}}
    for name in models:
        result = json.loads((workdir / f"results/models/{name}/eval.json").read_text())
        train_seconds = result["trained_seconds"]
        for key, entry in result["test"].items():
            if key == name or key.startswith(f"{name}+"):
                out["models"][key] = round(entry["perplexity"], 2)
        out.setdefault(
            "baselines",
            {
                k: round(v["perplexity"], 2)
                for k, v in result["test"].items()
                if k in ("uniform", "unigram") or k.startswith("kneser")
            },
        )
        out.setdefault("train_seconds", {})[name] = train_seconds
        out.setdefault("interpolation_weight", {})[name] = result["interpolation"]["model_weight"]
        out["oov_rate_test"] = round(result["oov_rate"]["test"], 4)
    kn = next(v for k, v in out["baselines"].items() if k.startswith("kneser"))
    alone = min(v for k, v in out["models"].items() if "+" not in k)
    mixed = min(v for k, v in out["models"].items() if "+" in k)
    out["best_alone_vs_kn"] = round(alone / kn - 1, 4)
    out["best_interpolated_vs_kn"] = round(mixed / kn - 1, 4)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--workdir", default=str(REPO / ".cache/bench-real-text"))
    p.add_argument("--cores", type=int, default=os.cpu_count() or 2)
    p.add_argument("--models", help="a YAML file with a `models:` mapping (default: config.yaml's)")
    args = p.parse_args()
    ensure_fortunes()
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    texts = fortunes()
    write_csv(workdir / "fortunes.csv", texts)
    source = Path(args.models) if args.models else REPO / "config.yaml"
    models = yaml.safe_load(source.read_text())["models"]
    config = {
        "dumps": {"fortunes": {"path": str(workdir / "fortunes.csv")}},
        "models": models,
        "vocabulary_size": 8000,
        "normalize": "reddit",
    }
    seconds = run_pipeline(workdir, config, args.cores)
    result = {"texts": len(texts), "pipeline_seconds": round(seconds, 1)} | table(workdir, list(models))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
