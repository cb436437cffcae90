"""The config schema is the one source of defaults; mistakes are one line naming the key."""

import copy
import re

import pandas as pd
import pytest
import yaml

from rnnlm import RnnlmError
from rnnlm.cli import build_parser
from rnnlm.config import defaults, schema, validate_config


def test_validation_fills_the_defaults_the_code_uses():
    config = validate_config({"dumps": {"d": {"path": "x.csv"}}, "models": {"m": {"cell": "gru"}}})
    model = config["models"]["m"]
    assert model["hidden"] == 100 and model["embedding"] == 64 and model["layers"] == 1
    assert model["train"] == defaults("models", "*", "train")
    assert model["train"]["epochs"] == 3 and model["train"]["optimizer"] == "adam"
    assert config["dumps"]["d"]["format"] == "auto"
    assert config["split"] == {"valid": 0.05, "test": 0.05} and config["vocabulary_size"] == 8000


def test_the_cli_takes_its_defaults_from_the_schema():
    generate = build_parser().parse_args(["generate"])
    d = defaults("generate")
    assert (generate.n, generate.temperature, generate.max_length, generate.min_length) == (
        d["n"],
        d["temperature"],
        d["max_length"],
        d["min_length"],
    )
    corpus = build_parser().parse_args(["corpus", "x", "x.csv"])
    assert (corpus.comments, corpus.topic_boost) == (defaults("synthetic")["comments"], 8.0)


def test_the_bundled_config_is_valid(bundled_config):
    validate_config(copy.deepcopy(bundled_config))


def test_every_schema_key_is_described_or_typed():
    def walk(node, path):
        for key, sub in (node.get("properties") or {}).items():
            assert "description" in sub or "type" in sub or "enum" in sub, f"{path}.{key}"
            walk(sub, f"{path}.{key}")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}.*")

    walk(schema(), "config")


@pytest.mark.parametrize(
    "change, message",
    [
        ({"vocabulary_sise": 10}, r"^config: \(top level\): unknown key 'vocabulary_sise' \(allowed: dumps, synthetic"),
        ({"vocabulary_size": 100.0}, r"^config: vocabulary_size: 100\.0 is not of type 'integer'$"),
        ({"vocabulary_size": True}, r"^config: vocabulary_size: True is not of type 'integer'$"),
        ({"split": {"valid": float("nan")}}, r"^config: split\.valid: nan is not a finite number$"),
        ({"max_bad_fraction": float("nan")}, r"^config: max_bad_fraction: nan is not a finite number$"),
        ({"generate": {"temperature": float("nan")}}, r"^config: generate\.temperature: nan is not a finite number$"),
        ({"generate": {"min_length": 60, "max_length": 50}}, r"^config: generate\.min_length \(60\) is greater than"),
        ({"models": {"m": {"cell": "gru", "mode": "FAST"}}}, r"^config: models\.m\.mode: 'FAST' is not one of"),
        ({"gradcheck": {"mode": "fast"}}, r"^config: gradcheck\.mode: 'fast' is not one of"),
        (
            {"models": {"m": {"cell": "rnn", "layers": 2}}},
            r"^config: models\.m\.layers: the tutorial's rnn has one layer",
        ),
        ({"dumps": {2015: {"path": "a.csv"}}}, r"^config: dumps: the name 2015 is a int, not a string: quote it"),
        ({"models": {True: {"cell": "gru"}}}, r"^config: models: the name True is a bool, not a string"),
        ({"dumps": {"a\n": {"path": "a.csv"}}}, r"^config: dumps: the name 'a\\n' must be letters"),
        (
            {"models": {"m": {"cell": "gru", "train": {"epochs": 2.5}}}},
            r"^config: models\.m\.train\.epochs: 2\.5 is not",
        ),
    ],
)
def test_config_mistakes_are_one_line_naming_the_key(bundled_config, change, message):
    config = copy.deepcopy(bundled_config) | change
    with pytest.raises(RnnlmError, match=message) as e:
        validate_config(config)
    assert "\n" not in str(e.value).replace("'a\\n'", "")


def test_a_models_threads_and_gpu_keys_set_its_train_jobs_threads_and_resources(workflow):
    config = {
        "dumps": {"a": {"path": "resources/synthetic/a.csv", "synthetic": True}},
        "models": {
            "gpu": {"cell": "gru", "gpu": True, "gpu_model": "a100"},
            "any": {"cell": "gru", "gpu": "optional", "threads": 1},
            "cpu": {"cell": "rnn"},
        },
    }
    targets = [f"results/models/{m}/model.npz" for m in config["models"]]
    out = workflow.run("-n", *targets, *workflow.configure(config)).stdout
    jobs = {}
    for block in out.split("rule train:")[1:]:
        model = re.search(r"wildcards: model=(\w+)", block).group(1)
        resources = dict(re.findall(r"(\w+)=([^,\s]+)", re.search(r"resources: (.*)", block).group(1)))
        threads = re.search(r"threads: (\d+)", block)
        jobs[model] = (int(threads.group(1)) if threads else 1, resources.get("gpu"), resources.get("gpu_model"))
    assert jobs == {"gpu": (2, "1", "a100"), "any": (1, "0", None), "cpu": (2, "0", None)}


@pytest.mark.parametrize(
    "model, message",
    [
        ({"cell": "gru", "gpu": "yes"}, r"^config: models\.m\.gpu: 'yes' is not one of \[True, False, 'optional'\]$"),
        ({"cell": "gru", "gpu_model": "a100"}, r"^config: models\.m: 'gpu' is a required property$"),
        ({"cell": "gru", "gpu": False, "gpu_model": "a100"}, r"^config: models\.m\.gpu: True was expected$"),
        ({"cell": "gru", "gpu": True, "gpu_model": "a 100"}, r"^config: models\.m\.gpu_model: 'a 100' does not match"),
    ],
)
def test_gpu_keys_are_validated(bundled_config, model, message):
    with pytest.raises(RnnlmError, match=message):
        validate_config(copy.deepcopy(bundled_config) | {"models": {"m": model}})


@pytest.mark.parametrize(
    "path",
    [
        "resources/synthetic/mine.csv",
        "resources/dumps/web/RC_2015-08.zst",
        "results/tokens/mine.csv",
        "logs/mine.ndjson",
        "./results/../results/x.csv",
    ],
)
def test_a_users_dump_where_the_pipeline_writes_is_refused_before_any_job(workflow, path):
    """Any rule could write over (or delete) a user's file there, as synthetic_corpus once did."""
    (workflow / path).parent.mkdir(parents=True, exist_ok=True)
    (workflow / path).write_text("body\nmy own words.\n")
    proc = workflow.run("-n", *workflow.configure({"dumps": {"mine": {"path": path}}}), check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == (
        f"rnnlm: config: dumps.mine.path: {path} lies where the pipeline writes (results/, resources/dumps/, "
        "resources/synthetic/, logs/); move your file elsewhere, e.g. data/"
    )
    assert (workflow / path).read_text() == "body\nmy own words.\n"


def test_the_generator_writes_only_the_synthetic_dumps_the_config_names(workflow):
    """A user's file beside the bundled dumps is no output of synthetic_corpus: nothing can replace it."""
    mine = workflow / "resources/synthetic/mine.csv"
    mine.parent.mkdir(parents=True)
    mine.write_text("body\nmy own words.\n")
    config = {"dumps": {"a": {"path": "resources/synthetic/a.csv", "synthetic": True}}, "models": {}}
    args = workflow.configure(config)
    proc = workflow.run("-n", "resources/synthetic/mine.csv", *args, check=False)
    assert proc.returncode != 0 and "MissingRuleException" in proc.stdout + proc.stderr
    bad = {"dumps": {"a": {"path": "data/a.csv", "synthetic": True}}}
    proc = workflow.run("-n", *workflow.configure(bad), check=False)
    assert proc.returncode == 2 and proc.stderr.strip().splitlines()[-1] == (
        "rnnlm: config: dumps.a.path: a synthetic dump is generated at resources/synthetic/NAME.csv or "
        "resources/synthetic/NAME.ndjson.zst, not data/a.csv"
    )


def test_a_yaml_alias_bomb_is_refused_without_being_expanded(bundled_config):
    text = "prefix:\n  - &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
    text += "".join(f"  - &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 9))  # 9**9 strings
    config = copy.deepcopy(bundled_config) | {"generate": yaml.safe_load(text)}
    with pytest.raises(RnnlmError, match=r"^config: more than 1,000,000 values once YAML aliases are expanded"):
        validate_config(config)


def test_yaml_1_2_numbers_are_numbers_where_the_schema_wants_one(bundled_config):
    config = copy.deepcopy(bundled_config)
    config["models"]["gru"]["train"] |= {"learning_rate": "1e-3", "epochs": "4"}  # as PyYAML 1.1 reads them
    config["split"] = {"valid": "0.1", "test": "5.0e-2"}  # as nested --config values arrive
    config["generate"] = {"prefix": "1e3"}  # a string where a string is wanted stays one
    validated = validate_config(config)
    assert validated["models"]["gru"]["train"]["learning_rate"] == 0.001
    assert validated["models"]["gru"]["train"]["epochs"] == 4
    assert validated["split"] == {"valid": 0.1, "test": 0.05} and validated["generate"]["prefix"] == "1e3"
    with pytest.raises(RnnlmError, match=r"^config: models\.gru\.hidden: '1\.5' is not of type 'integer'$"):
        validate_config(copy.deepcopy(bundled_config) | {"models": {"gru": {"cell": "gru", "hidden": "1.5"}}})


@pytest.mark.parametrize(
    "change, message",
    [
        ({"split": {"valid": 0, "test": 0}}, r"^config: split\.valid is 0: training validates on the valid split"),
        (
            {"models": {"m": {"cell": "gru", "output": "class", "mode": "JAX"}}},
            r"^config: models\.m\.output: class runs on the Numba and C backends only, not mode: JAX",
        ),
        (
            {"models": {"m": {"cell": "gru", "train": {"init_from": "no/such/model.npz"}}}},
            r"^config: models\.m\.train\.init_from: no such model file: no/such/model\.npz \(or use previous\)$",
        ),
    ],
)
def test_settings_that_would_fail_after_the_data_stages_are_refused_at_once(bundled_config, change, message):
    with pytest.raises(RnnlmError, match=message):
        validate_config(copy.deepcopy(bundled_config) | change)


def test_dumps_and_vocabularies_that_would_fail_later_are_refused_before_any_job(workflow):
    (workflow / "data").mkdir()
    (workflow / "data/comments.dat").write_text("hello.\n")
    only_specials = pd.DataFrame({"id": [0, 1, 2], "token": ["SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN"]})
    only_specials.to_parquet(workflow / "data/specials.parquet")
    with_null = pd.DataFrame({"id": [0, 1, 2, 3], "token": ["SENTENCE_START", "SENTENCE_END", "UNKNOWN_TOKEN", None]})
    with_null.to_parquet(workflow / "data/null.parquet")
    (workflow / "data/d.csv").write_text("body\nhello.\n")
    cases = {
        "data/comments.dat: cannot tell the format from the name": {"dumps": {"t": {"path": "data/comments.dat"}}},
        "vocab.frozen: data/specials.parquet holds only the special tokens": {
            "dumps": {"d": {"path": "data/d.csv"}},
            "vocab": {"frozen": "data/specials.parquet"},
        },
        "vocab.frozen: data/null.parquet: token of id 3 is not a string": {
            "dumps": {"d": {"path": "data/d.csv"}},
            "vocab": {"frozen": "data/null.parquet"},
        },
    }
    for message, config in cases.items():
        proc = workflow.run("-n", *workflow.configure(config), check=False)
        assert proc.returncode == 2 and message in proc.stderr.strip().splitlines()[-1], proc.stderr


def test_config_on_the_command_line_wins_over_the_configfile(workflow):
    config = {
        "dumps": {"a": {"path": "resources/synthetic/a.csv", "synthetic": True}},
        "models": {"x": {"cell": "gru"}},
    }
    args = workflow.configure(config)
    jobs = workflow.planned(*args, "--config", "models={z: {cell: rnn}}", "split={valid: 0.1, test: 0.05}")
    assert jobs["train"] == 1 and jobs["gradcheck"] == 1
    out = workflow.run("-n", *args, "--config", "models={z: {cell: rnn}}").stdout
    assert "model=z" in out and "model=x" not in out
