import math
import os
import re
import sys
from pathlib import Path

import yaml
from snakemake.utils import min_version

min_version("9.0")

# Jobs (scripts, any --sdm conda env, Slurm jobs) import the package from src/; set, not
# appended, so that a stray PYTHONPATH cannot shadow it.
SRC = str(Path(workflow.basedir) / "src")
sys.path.insert(0, SRC)
os.environ.update(PYTHONPATH=SRC)

from rnnlm.config import validate_config
from rnnlm.data.shards import shard_count
from rnnlm.data.fetch import is_url, local_name
from rnnlm.errors import RnnlmError


def replace_user_collections(config):
    """A --configfile that names `dumps` or `models` replaces the bundled ones instead of
    being merged into them (Snakemake merges nested dicts by default)."""
    for path in workflow.overwrite_configfiles:
        data = yaml.safe_load(Path(path).read_text()) or {}
        for key in ("dumps", "models"):
            if isinstance(data, dict) and key in data:
                config[key] = data[key]


SYNTHETIC = re.compile(r"resources/synthetic/[^/]+\.(csv|ndjson\.zst)$")


def check_dump_paths(config):
    for name, dump in config["dumps"].items():
        path = dump["path"]
        if "{" in path or "}" in path:
            raise RnnlmError(
                f"config: dumps.{name}.path: braces are not allowed in a path ({path}): "
                "Snakemake would read them as wildcards; rename or link the file"
            )
        if is_url(path) or SYNTHETIC.match(path):
            continue
        if not Path(path).exists():
            raise RnnlmError(f"config: dumps.{name}.path: no such file: {path}")
        if not Path(path).is_file():
            raise RnnlmError(f"config: dumps.{name}.path: not a regular file: {path}")
    frozen = config["vocab"]["frozen"]
    if frozen and not Path(frozen).is_file():
        raise RnnlmError(f"config: vocab.frozen: no such file: {frozen}")


try:
    replace_user_collections(config)
    validate_config(config)
    check_dump_paths(config)
except RnnlmError as e:
    print(f"rnnlm: {e}", file=sys.stderr)
    sys.exit(2)

DUMPS = list(config["dumps"])
MODELS = list(config["models"])


def dump_shards(name):
    """Tokenize jobs for dump `name`: its `shards` setting, or one per GiB for `auto`."""
    path = config["dumps"][name]["path"]
    size = (
        Path(path).stat().st_size if not is_url(path) and Path(path).is_file() else None
    )
    return shard_count(config["dumps"][name]["shards"], size)


SHARDS = {name: dump_shards(name) for name in DUMPS}
SHARDED = [d for d in DUMPS if SHARDS[d] > 1]
UNSHARDED = [d for d in DUMPS if SHARDS[d] == 1]


def any_of(names):
    """A wildcard constraint matching exactly these names (none: nothing)."""
    return "|".join(re.escape(n) for n in names) or "(?!)"


wildcard_constraints:
    dump=any_of(DUMPS),
    model=any_of(MODELS),


def dump_config(name):
    return config["dumps"][name]


def get_dump_path(wildcards):
    """The local file a dump is read from: its path, or where a URL is downloaded to."""
    path = dump_config(wildcards.dump)["path"]
    if is_url(path):
        return f"resources/dumps/{wildcards.dump}/{local_name(path)}"
    return path


def get_shard_tokens(wildcards):
    n = SHARDS[wildcards.dump]
    return [
        f"results/tokens/shards/{wildcards.dump}/{k}-of-{n}.parquet" for k in range(n)
    ]


def get_shard_stats(wildcards):
    n = SHARDS[wildcards.dump]
    return [
        f"results/tokens/shards/{wildcards.dump}/{k}-of-{n}.stats.json"
        for k in range(n)
    ]


def get_fetch_url(wildcards):
    return dump_config(wildcards.dump)["path"]


def get_fetch_sha256(wildcards):
    return dump_config(wildcards.dump).get("sha256")


def get_dump_format(wildcards):
    return dump_config(wildcards.dump).get("format", "auto")


def get_vocab_input(wildcards):
    frozen = config["vocab"]["frozen"]
    if frozen:
        return {"frozen": frozen}
    return {"counts": expand("results/counts/{dump}.parquet", dump=DUMPS)}


def get_counted_split(wildcards):
    """The split fractions when only train comments choose the vocabulary, else None."""
    return config["split"] if config["vocab"]["counted_on"] == "train" else None


def get_vocabulary_size(wildcards):
    # frozen: the size is the file's, so changing the setting must not rerun anything
    return None if config["vocab"]["frozen"] else config["vocabulary_size"]


# Where a model trains, not what it learns: left out of the train job's params, so that moving
# a model to a GPU node or giving it more threads does not retrain it.
PLACEMENT_KEYS = ("threads", "gpu", "gpu_model")


def get_model_spec(wildcards):
    return {
        k: v
        for k, v in config["models"][wildcards.model].items()
        if k not in PLACEMENT_KEYS
    }


def get_train_threads(wildcards):
    return config["models"][wildcards.model]["threads"]


def get_train_gpus(wildcards):
    """GPUs the training job asks for: 1 for `gpu: true`; `optional` and false ask for none."""
    return 1 if config["models"][wildcards.model]["gpu"] is True else 0


def get_train_gpu_model(wildcards):
    """The GPU type asked for, or None (a resource of None is not set: any type)."""
    return config["models"][wildcards.model].get("gpu_model")


def get_gate_spec(wildcards):
    """What the gate checks: the graph (cell, layers, truncation, tying, which dropouts), not
    sizes or rates (so retuning skips the gate)."""
    spec = get_model_spec(wildcards)
    train = spec["train"]
    return {k: spec[k] for k in ("cell", "layers", "bptt_truncate", "tie_weights")} | {
        "train": {
            "dropout": train["dropout"],
            "recurrent_dropout": train["recurrent_dropout"],
            "variational": train["variational"],
        }
    }


def get_truth_files():
    """The exact source log-probabilities of the bundled (synthetic) dumps in the config."""
    paths = [dump_config(d)["path"] for d in DUMPS]
    return [f"{p}.truth.parquet" for p in paths if SYNTHETIC.match(p)]


def get_final_outputs():
    outputs = expand("results/encoded/{dump}.parquet", dump=DUMPS) + expand(
        "results/tokens/{dump}.stats.json", dump=DUMPS
    )
    if MODELS:
        outputs += expand(
            "results/models/{model}/{file}",
            model=MODELS,
            file=["eval.json", "samples.txt", "loss.png"],
        )
        outputs.append("results/summary.md")
    return outputs
