"""The pipeline's configuration: its schema (the one source of every default) and checks.

`validate_config` checks a config against ``config.schema.yaml`` beside this file, fills in
the defaults, then checks what a schema cannot say (a GRU's tied weights need E = H, …).
Every problem is one `RnnlmError` line naming the key. Strict types: ``100.0`` is not an
integer, ``true`` is not a number, and NaN or infinity is no number at all.
"""

from __future__ import annotations

import copy
import math
import re
from functools import lru_cache
from pathlib import Path

import yaml
from jsonschema import Draft202012Validator, validators
from jsonschema.exceptions import best_match

from rnnlm.errors import RnnlmError
from rnnlm.models.cells import CELLS  # the cell table: plain data, no PyTensor

SCHEMA_PATH = Path(__file__).with_name("config.schema.yaml")


@lru_cache(maxsize=1)
def schema() -> dict:
    """The schema, with the choices of a model's `cell` from the cell table (models/cells.py)."""
    loaded = yaml.safe_load(SCHEMA_PATH.read_text())
    loaded["properties"]["models"]["additionalProperties"]["properties"]["cell"]["enum"] = list(CELLS)
    return loaded


def _is_integer(_checker, value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(_checker, value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


_Strict = validators.extend(
    Draft202012Validator,
    type_checker=Draft202012Validator.TYPE_CHECKER.redefine_many({"integer": _is_integer, "number": _is_number}),
)


def _node(path: tuple[str, ...]) -> dict:
    """The schema of a key path; "*" stands for any name (a dump's or a model's)."""
    node = schema()
    for key in path:
        node = node["additionalProperties"] if key == "*" else node["properties"][key]
    return node


def defaults(*path: str) -> dict:
    """The defaults of the keys under `path`, e.g. ``defaults("models", "*", "train")``."""
    return {k: copy.deepcopy(v["default"]) for k, v in _node(path)["properties"].items() if "default" in v}


def _fill_defaults(node: dict, value) -> None:
    if not isinstance(value, dict):
        return
    for key, sub in node.get("properties", {}).items():
        if key not in value and "default" in sub:
            value[key] = copy.deepcopy(sub["default"])
        if key in value:
            _fill_defaults(sub, value[key])
    extra = node.get("additionalProperties")
    if isinstance(extra, dict):
        for key in set(value) - set(node.get("properties", {})):
            _fill_defaults(extra, value[key])


# YAML 1.2's numbers: PyYAML resolves YAML 1.1, where `1e-3` (no dot) is a string, and
# Snakemake's --config gives every nested value as a string
YAML12_INT = re.compile(r"[-+]?[0-9]+")
YAML12_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")


def _types(node: dict) -> set[str]:
    kinds = node.get("type", [])
    found = {kinds} if isinstance(kinds, str) else set(kinds)
    for option in node.get("oneOf", []) + node.get("anyOf", []):
        found |= _types(option)
    return found


def _number(text: str, kinds: set[str]):
    """`text` as the number the schema expects there, or unchanged."""
    if "integer" in kinds and YAML12_INT.fullmatch(text):
        return int(text)
    if "number" in kinds and YAML12_FLOAT.fullmatch(text):
        return int(text) if YAML12_INT.fullmatch(text) else float(text)
    return text


def _read_numbers(node: dict, value):
    """`value` with strings that are YAML 1.2 numbers read as numbers where the schema asks
    for one (a string where it asks for a string stays as it is)."""
    if isinstance(value, str):
        return _number(value.strip(), _types(node))
    if not isinstance(value, dict):
        return value
    properties, extra = node.get("properties", {}), node.get("additionalProperties")
    for key, sub in value.items():
        child = properties.get(key, extra if isinstance(extra, dict) else None)
        if child is not None:
            value[key] = _read_numbers(child, sub)
    return value


def _where(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _message(error) -> str:
    where = _where(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = ", ".join(error.schema.get("properties", {})) or "none"
        unknown = ", ".join(sorted(repr(k) for k in error.instance if k not in error.schema.get("properties", {})))
        return f"{where}: unknown key {unknown} (allowed: {allowed})"
    if error.validator == "type" and isinstance(error.instance, float) and not math.isfinite(error.instance):
        return f"{where}: {error.instance} is not a finite number"
    if "propertyNames" in error.schema_path:
        return f"{where}: the name {error.instance!r} must be letters, digits, '_', '.' or '-', starting alnum"
    return f"{where}: {error.message}"


def _check_names(config: dict) -> None:
    for collection in ("dumps", "models"):
        for name in config.get(collection) or {}:
            if not isinstance(name, str):
                raise RnnlmError(
                    f"config: {collection}: the name {name!r} is a {type(name).__name__}, not a "
                    f"string: quote it ('{name}')"
                )


MAX_VALUES = 1_000_000  # a config's values, YAML aliases expanded: far above any real one


def _expanded_size(value, seen: dict) -> int:
    """How many values `value` holds once YAML aliases are expanded (each shared node counted
    as often as it is referred to), computed without expanding anything."""
    if id(value) in seen:
        return seen[id(value)]
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    size = 1 + sum(_expanded_size(child, seen) for child in children)
    seen[id(value)] = size
    return size


def validate_config(config: dict) -> dict:
    """Check `config` and fill in the defaults, in place; returns it."""
    if not isinstance(config, dict):
        raise RnnlmError("config: expected a mapping of keys to values")
    if _expanded_size(config, {}) > MAX_VALUES:
        raise RnnlmError(
            f"config: more than {MAX_VALUES:,} values once YAML aliases are expanded (an alias bomb?): refused"
        )
    _check_names(config)
    _read_numbers(schema(), config)
    error = best_match(_Strict(schema()).iter_errors(config))
    if error is not None:
        raise RnnlmError(f"config: {_message(error)}")
    _fill_defaults(schema(), config)
    check_semantics(config)
    return config


def check_architecture(spec: dict, key: str = "model") -> None:
    """What the schema cannot say about a model's architecture (`cell`, `layers`,
    `tie_weights`, `embedding`, `hidden`); `key` names the spec in the message."""
    cell = CELLS.get(spec["cell"])
    if cell is None:
        raise RnnlmError(f"{key}.cell: unknown cell {spec['cell']!r} (expected one of {', '.join(CELLS)})")
    if not cell.gated and spec["layers"] != 1:
        raise RnnlmError(
            f"{key}.layers: the tutorial's rnn has one layer ({spec['layers']} given); "
            "use cell: gru or lstm to stack layers"
        )
    if spec["tie_weights"] and (not cell.gated or spec["embedding"] != spec["hidden"]):
        raise RnnlmError(
            f"{key}.tie_weights: needs a gru or lstm with embedding == hidden "
            f"({spec['embedding']} and {spec['hidden']} here)"
        )


def check_model(name: str, spec: dict) -> None:
    """What the schema cannot say about one model entry."""
    key = f"config: models.{name}"
    check_architecture(spec, key)
    train = spec["train"]
    for option in ("dropout", "recurrent_dropout"):
        if train[option] > 0 and not CELLS[spec["cell"]].gated:
            raise RnnlmError(f"{key}.train.{option}: the tutorial's rnn trains without dropout; use a gru or lstm")
        if train[option] > 0 and spec["bptt_truncate"] >= 0:
            raise RnnlmError(f"{key}.train.{option}: dropout needs full BPTT (bptt_truncate: -1)")
        if train[option] > 0 and train["schedule"] == "tutorial":
            raise RnnlmError(f"{key}.train.{option}: the tutorial schedule trains without dropout")
    if spec["output"] == "class" and (spec.get("mode") or "").upper() == "JAX":
        raise RnnlmError(f"{key}.output: class runs on the Numba and C backends only, not mode: JAX (use output: full)")
    init_from = train["init_from"]
    if init_from and init_from != "previous" and not Path(init_from).is_file():
        raise RnnlmError(f"{key}.train.init_from: no such model file: {init_from} (or use previous)")


def check_semantics(config: dict) -> None:
    for name, spec in config["models"].items():
        check_model(name, spec)
    generate = config["generate"]
    if generate["min_length"] > generate["max_length"]:
        raise RnnlmError(
            f"config: generate.min_length ({generate['min_length']}) is greater than "
            f"generate.max_length ({generate['max_length']}): no sample could be kept"
        )
    split = config["split"]
    if split["valid"] + split["test"] >= 1:
        raise RnnlmError("config: split.valid + split.test must leave comments for training (< 1)")
    if config["models"] and split["valid"] == 0:
        raise RnnlmError("config: split.valid is 0: training validates on the valid split (give it, e.g., 0.05)")
