"""The config schema is the one source of defaults; mistakes are one line naming the key."""

import copy

import pytest
import yaml
from conftest import REPO

from rnnlm import RnnlmError
from rnnlm.cli import build_parser
from rnnlm.config import defaults, schema, validate_config

DEFAULT = yaml.safe_load((REPO / "config.yaml").read_text())


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
        d["n"], d["temperature"], d["max_length"], d["min_length"])
    corpus = build_parser().parse_args(["corpus", "x", "x.csv"])
    assert (corpus.comments, corpus.topic_boost) == (defaults("synthetic")["comments"], 8.0)


def test_the_bundled_config_is_valid():
    validate_config(copy.deepcopy(DEFAULT))


def test_every_schema_key_is_described_or_typed():
    def walk(node, path):
        for key, sub in (node.get("properties") or {}).items():
            assert "description" in sub or "type" in sub or "enum" in sub, f"{path}.{key}"
            walk(sub, f"{path}.{key}")
        if isinstance(node.get("additionalProperties"), dict):
            walk(node["additionalProperties"], f"{path}.*")

    walk(schema(), "config")


@pytest.mark.parametrize("change, message", [
    ({"vocabulary_sise": 10}, r"^config: \(top level\): unknown key 'vocabulary_sise' \(allowed: dumps, synthetic"),
    ({"vocabulary_size": 100.0}, r"^config: vocabulary_size: 100\.0 is not of type 'integer'$"),
    ({"vocabulary_size": True}, r"^config: vocabulary_size: True is not of type 'integer'$"),
    ({"split": {"valid": float("nan")}}, r"^config: split\.valid: nan is not a finite number$"),
    ({"max_bad_fraction": float("nan")}, r"^config: max_bad_fraction: nan is not a finite number$"),
    ({"generate": {"temperature": float("nan")}}, r"^config: generate\.temperature: nan is not a finite number$"),
    ({"generate": {"min_length": 60, "max_length": 50}}, r"^config: generate\.min_length \(60\) is greater than"),
    ({"models": {"m": {"cell": "gru", "mode": "FAST"}}}, r"^config: models\.m\.mode: 'FAST' is not one of"),
    ({"gradcheck": {"mode": "fast"}}, r"^config: gradcheck\.mode: 'fast' is not one of"),
    ({"models": {"m": {"cell": "rnn", "layers": 2}}}, r"^config: models\.m\.layers: the tutorial's rnn has one layer"),
    ({"dumps": {2015: {"path": "a.csv"}}}, r"^config: dumps: the name 2015 is a int, not a string: quote it"),
    ({"models": {True: {"cell": "gru"}}}, r"^config: models: the name True is a bool, not a string"),
    ({"dumps": {"a\n": {"path": "a.csv"}}}, r"^config: dumps: the name 'a\\n' must be letters"),
    ({"models": {"m": {"cell": "gru", "train": {"epochs": 2.5}}}}, r"^config: models\.m\.train\.epochs: 2\.5 is not"),
])
def test_config_mistakes_are_one_line_naming_the_key(change, message):
    config = copy.deepcopy(DEFAULT) | change
    with pytest.raises(RnnlmError, match=message) as e:
        validate_config(config)
    assert "\n" not in str(e.value).replace("'a\\n'", "")
