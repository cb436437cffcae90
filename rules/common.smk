import math
import os
import re
import sys
from pathlib import Path

import yaml
from snakemake.logging import logger
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
from rnnlm.data.sources import detect
from rnnlm.data.vocab import SPECIAL_TOKENS, load_vocab
from rnnlm.data.text import text_preparation
from rnnlm.training.graph_spec import compiles_ahead, graph_spec
from rnnlm.errors import RnnlmError
from rnnlm import slurm


def replace_user_collections(config):
    """A --configfile that names `dumps` or `models` replaces the bundled ones instead of
    being merged into them (Snakemake merges nested dicts by default); --config, last, wins
    over both, as in Snakemake."""
    for path in workflow.overwrite_configfiles:
        data = yaml.safe_load(Path(path).read_text()) or {}
        for key in ("dumps", "models"):
            if isinstance(data, dict) and key in data:
                config[key] = data[key]
    overrides = workflow.config_settings.config or {}  # --config alone
    for key in ("dumps", "models"):
        if key in overrides:
            config[key] = overrides[key]


SYNTHETIC = re.compile(r"resources/synthetic/([A-Za-z0-9_-]+)\.(csv|ndjson\.zst)")
# where the pipeline writes: a user's file there could be overwritten or deleted by a rule
PIPELINE_FOLDERS = ("results", "resources/dumps", "resources/synthetic", "logs")


def inside_pipeline_folders(path):
    try:
        relative = Path(os.path.abspath(path)).relative_to(Path.cwd().resolve())
    except ValueError:
        return False
    return any(relative.is_relative_to(folder) for folder in PIPELINE_FOLDERS)


def check_dump_path(name, dump):
    path = dump["path"]
    if "{" in path or "}" in path:
        raise RnnlmError(
            f"config: dumps.{name}.path: braces are not allowed in a path ({path}): "
            "Snakemake would read them as wildcards; rename or link the file"
        )
    if dump["synthetic"]:
        if not SYNTHETIC.fullmatch(path):
            raise RnnlmError(
                f"config: dumps.{name}.path: a synthetic dump is generated at "
                f"resources/synthetic/NAME.csv or resources/synthetic/NAME.ndjson.zst, not {path}"
            )
        return
    try:
        detect(local_name(path) if is_url(path) else path, dump["format"])
    except RnnlmError as e:
        raise RnnlmError(f"config: dumps.{name}: {e}") from None
    if is_url(path):
        return
    if Path(path).is_symlink() and not Path(path).exists():
        raise RnnlmError(
            f"config: dumps.{name}.path: {path} is a symbolic link to nothing (or a loop)"
        )
    if inside_pipeline_folders(path):
        raise RnnlmError(
            f"config: dumps.{name}.path: {path} lies where the pipeline writes "
            f"({', '.join(f'{f}/' for f in PIPELINE_FOLDERS)}); move your file elsewhere, e.g. data/"
        )
    if not Path(path).exists():
        raise RnnlmError(f"config: dumps.{name}.path: no such file: {path}")
    if not Path(path).is_file():
        raise RnnlmError(f"config: dumps.{name}.path: not a regular file: {path}")


def check_dump_paths(config):
    seen = {}
    for name, dump in config["dumps"].items():
        check_dump_path(name, dump)
        if dump["synthetic"] or is_url(dump["path"]):
            continue
        same = seen.setdefault(Path(dump["path"]).resolve(), name)
        if same != name:
            raise RnnlmError(
                f"config: dumps.{same} and dumps.{name} name the same file ({dump['path']}): "
                "its comments would count twice"
            )
    frozen = config["vocab"]["frozen"]
    if frozen and not Path(frozen).is_file():
        raise RnnlmError(f"config: vocab.frozen: no such file: {frozen}")
    if frozen:
        try:
            words = len(load_vocab(frozen)) - len(SPECIAL_TOKENS)
        except RnnlmError as e:
            raise RnnlmError(f"config: vocab.frozen: {e}") from None
        if words <= 0:
            raise RnnlmError(
                f"config: vocab.frozen: {frozen} holds only the special tokens: no word to model"
            )


# Every path the pipeline writes, once (docs/architecture.md lists what each holds).
SYNTHETIC_DUMP = "resources/synthetic/{name}.{ext}"
SYNTHETIC_TRUTH = "resources/synthetic/{name}.{ext}.truth.parquet"
SYNTHETIC_ENTROPY = "resources/synthetic/{name}.{ext}.entropy.json"
DOWNLOAD = "resources/dumps/{dump}/{filename}"
TOKENS = "results/tokens/{dump}.parquet"
TOKEN_STATS = "results/tokens/{dump}.stats.json"
SHARD_TOKENS = "results/tokens/shards/{dump}/{shard}-of-{shards}.parquet"
SHARD_STATS = "results/tokens/shards/{dump}/{shard}-of-{shards}.stats.json"
COUNTS = "results/counts/{dump}.parquet"
VOCAB = "results/vocab.parquet"
ENCODED = "results/encoded/{dump}.parquet"
GATE = "results/gradcheck/{model}.json"
COMPILED = "results/models/{model}/compiled.json"
MODEL = "results/models/{model}/model.npz"
HISTORY = "results/models/{model}/history.csv"
LOSS_PLOT = "results/models/{model}/loss.png"
EVAL_JSON = "results/models/{model}/eval.json"
EVAL_MD = "results/models/{model}/eval.md"
SAMPLES = "results/models/{model}/samples.txt"
CHECKPOINTS = "results/checkpoints/{model}"
BASELINES = "results/baselines.json"
SUMMARY = "results/summary.md"
# pages and figures for `snakemake --report` (it shows HTML and images, links anything else)
EVAL_PAGE = "results/models/{model}/eval.html"
SAMPLES_PAGE = "results/models/{model}/samples.html"
GATE_PAGE = "results/gradcheck/{model}.html"
SUMMARY_PAGE = "results/summary.html"
COMPARISON_PLOT = "results/comparison.png"
TOKENIZATION_PAGE = "results/tokens/tokenization.html"


try:
    replace_user_collections(config)
    validate_config(config)
    check_dump_paths(config)
except RnnlmError as e:
    print(f"rnnlm: {e}", file=sys.stderr)
    sys.exit(2)

DUMPS = list(config["dumps"])
MODELS = list(config["models"])
NGRAM = f"results/ngram/kneser_ney_{config['evaluate']['kn_order']}.npz"
ARPA = NGRAM.removesuffix(".npz") + ".arpa"


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
        return DOWNLOAD.format(dump=wildcards.dump, filename=local_name(path))
    return path


def get_shard_tokens(wildcards):
    n = SHARDS[wildcards.dump]
    return expand(SHARD_TOKENS, dump=wildcards.dump, shard=range(n), shards=n)


def get_shard_stats(wildcards):
    n = SHARDS[wildcards.dump]
    return expand(SHARD_STATS, dump=wildcards.dump, shard=range(n), shards=n)


def get_shard_number(wildcards):
    """The shard a tokenize job takes (0 for an unsharded dump)."""
    return int(wildcards.get("shard", 0))


def get_shard_total(wildcards):
    return int(wildcards.get("shards", 1))


def get_fetch_url(wildcards):
    return dump_config(wildcards.dump)["path"]


def get_fetch_sha256(wildcards):
    return dump_config(wildcards.dump).get("sha256")


def get_dump_format(wildcards):
    return dump_config(wildcards.dump).get("format", "auto")


# what the tokenize and tokenize_shard jobs share
TOKENIZE_PARAMS = {
    "fmt": get_dump_format,
    "normalize": config["normalize"],
    "max_bad_fraction": config["max_bad_fraction"],
    "max_comment_chars": config["max_comment_chars"],
    "max_comment_seconds": config["max_comment_seconds"],
    "shard": get_shard_number,
    "shards": get_shard_total,
}
TOKENIZE_RESOURCES = {
    # measured: ~200 MB plus ~180 MB per process; 1 minute per MB of dump and process (twice
    # the slowest measured rate: a .zst of the bundled corpus, 2 processes); a shard reads the
    # whole file but tokenizes only its share
    "mem_mb": lambda wildcards, threads: 1000 + 250 * threads,
    "runtime": lambda wildcards, input, threads: 30
    + math.ceil(input.size_mb / threads / get_shard_total(wildcards)),
}


def on_slurm():
    # set once Snakemake starts executing: None while the Snakefile is parsed
    plugin = workflow.executor_plugin
    return plugin is not None and plugin.name == "slurm"


def get_tokenize_threads(wildcards):
    """The config's `threads`; on Slurm at most the most CPUs of any node, for a job asking
    for more would wait forever, and tokenize writes the same output with any number."""
    most = slurm.most_cpus() if on_slurm() else None
    return min(config["threads"], most) if most else config["threads"]


def slurm_request(job):
    """What a job asks Slurm for, as rnnlm.slurm.unplaceable reads it (<TBD> values, which
    wait for inputs not yet made, count as unknown)."""
    known = lambda v: v if isinstance(v, int) else None
    res = job.resources
    return {
        "rule": job.rule.name,
        "name": ", ".join(f"{k}={v}" for k, v in job.wildcards_dict.items()),
        "cpus": known(res.get("cpus_per_task")) or job.threads,
        "mem_mb": known(res.get("mem_mb")),
        "gpus": known(res.get("gpu")),
        "gpu_model": res.get("gpu_model") or None,
        "partition": res.get("slurm_partition") or None,
    }


def slurm_preflight():
    """Before the first sbatch: refuse, in one line and exit code 2, a job no node of its
    partition can ever run; say when tokenize was capped; without accounting, read job
    states from the queue (squeue), as the Slurm plugin cannot (it would wait forever).
    """
    try:
        nodes = slurm.cluster_nodes()
    except RnnlmError as e:
        nodes = ()
        logger.warning(f"rnnlm: {e}; the preflight is skipped")
    if not nodes:
        logger.warning("rnnlm: slurm: sinfo lists no nodes; the preflight is skipped")
    jobs = workflow.dag.needrun_jobs() if nodes else []
    problems = [
        p for job in jobs if (p := slurm.unplaceable(slurm_request(job), nodes))
    ]
    if problems:
        print(f"rnnlm: {problems[0]}", file=sys.stderr)
        sys.exit(2)
    threads = get_tokenize_threads(None)
    if threads < config["threads"]:
        logger.info(
            f"rnnlm: slurm: tokenize runs {threads} processes, not the config's threads: "
            f"{config['threads']}: no node has more CPUs"
        )
    settings = workflow.executor_settings
    if settings.status_command == "sacct" and slurm.accounting_disabled():
        settings.status_command = "squeue"
        logger.info(
            "rnnlm: slurm: this cluster keeps no accounting (sacct: accounting storage is "
            "disabled): job states are read with squeue"
        )


def get_vocab_input(wildcards):
    frozen = config["vocab"]["frozen"]
    if frozen:
        return {"frozen": frozen}
    return {"counts": expand(COUNTS, dump=DUMPS)}


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


def get_text_preparation():
    """How the tokens were made, for the model file (scoring prepares text the same way)."""
    return text_preparation(
        config["normalize"], config["max_comment_chars"], config["max_comment_seconds"]
    )


def get_checkpoint_dir(wildcards):
    return CHECKPOINTS.format(model=wildcards.model)


def get_train_threads(wildcards):
    return config["models"][wildcards.model]["threads"]


def get_train_priority(wildcards):
    """Snakemake starts the ready jobs whose priorities sum highest among those that fit the
    free cores (core load breaks ties), and then fills cores that free up with any job that
    fits. A train job asking for every core never fits while a one-core job runs, so when the
    cores are free together it must win: threads squared outweighs any set of narrower jobs
    that fill the same cores (train jobs before the rest, whose priority is 0)."""
    return config["models"][wildcards.model]["threads"] ** 2


def get_train_gpus(wildcards):
    """GPUs the training job asks for: 1 for `gpu: true`; `optional` and false ask for none."""
    return 1 if config["models"][wildcards.model]["gpu"] is True else 0


def get_train_gpu_model(wildcards):
    """The GPU type asked for, or None (a resource of None is not set: any type)."""
    return config["models"][wildcards.model].get("gpu_model")


def get_graph_spec(wildcards):
    """What the compile job compiles: the model's structure and its train step's kind, not
    sizes, rates or seeds (no graph holds them), so retuning does not run it again."""
    return graph_spec(get_model_spec(wildcards))


def get_compiled(wildcards):
    """The compile job's record, for models whose mode caches compiled graphs; ancient: the
    cache is what train uses, so a rerun of compile never retrains."""
    spec = get_model_spec(wildcards)
    return (
        ancient(COMPILED) if compiles_ahead(spec, os.environ.get("RNNLM_MODE")) else []
    )


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


def synthetic_paths():
    return [dump_config(d)["path"] for d in DUMPS if dump_config(d)["synthetic"]]


def synthetic_names():
    """The synthetic_corpus rule's `name` wildcard: only the generated dumps' names, so that no
    user file can match its outputs."""
    return any_of(SYNTHETIC.fullmatch(p).group(1) for p in synthetic_paths())


def get_truth_files():
    """The exact source log-probabilities of the bundled (synthetic) dumps in the config."""
    return [f"{p}.truth.parquet" for p in synthetic_paths()]


def get_final_outputs():
    outputs = expand([ENCODED, TOKEN_STATS], dump=DUMPS) + [TOKENIZATION_PAGE]
    if MODELS:
        outputs += expand(
            [EVAL_JSON, SAMPLES, LOSS_PLOT, EVAL_PAGE, SAMPLES_PAGE, GATE_PAGE],
            model=MODELS,
        )
        outputs += [SUMMARY, SUMMARY_PAGE, COMPARISON_PLOT]
    return outputs
