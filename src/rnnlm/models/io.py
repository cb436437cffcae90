"""Model and checkpoint files: plain `.npz` (never pickle), written atomically.

A file holds groups of named arrays, stored as ``GROUP.NAME`` (a model file has one group,
``param``; a checkpoint has ``live``, ``best`` and ``opt``), and one JSON document, ``meta``.
`load_model` rebuilds a model from its file alone: the meta carries the architecture
(``spec``), the vocabulary's hash and size, and the training summary.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np

from rnnlm.atomic import atomic_path
from rnnlm.errors import RnnlmError

UNREADABLE = (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile)


def save_npz(path: str | Path, groups: dict[str, dict[str, np.ndarray]], meta: dict) -> None:
    arrays = {f"{group}.{name}": value for group, named in groups.items() for name, value in named.items()}
    arrays["meta"] = np.array(json.dumps(meta))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def load_npz(path: str | Path) -> tuple[dict[str, dict[str, np.ndarray]], dict]:
    """(groups, meta); raises one of `UNREADABLE` for a file that is not one of ours."""
    groups: dict[str, dict[str, np.ndarray]] = {}
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        for key in z.files:
            if key != "meta":
                group, name = key.split(".", 1)
                groups.setdefault(group, {})[name] = z[key]
    if not isinstance(meta, dict):
        raise ValueError("its meta is not a JSON object")
    return groups, meta


def save_model(path: str | Path, params: dict[str, np.ndarray], meta: dict) -> None:
    """model.npz: the parameters and a JSON `meta` (spec, vocab_hash, vocab_size, summary)."""
    save_npz(path, {"param": params}, meta)


def read_model(path: str | Path) -> tuple[dict[str, np.ndarray], dict]:
    """(parameters, meta) of a model file, checked enough to rebuild the model."""
    try:
        groups, meta = load_npz(path)
    except FileNotFoundError:
        raise RnnlmError(f"{path}: no such model") from None
    except IsADirectoryError:
        raise RnnlmError(f"{path}: is a folder, not a model.npz") from None
    except UNREADABLE as e:
        raise RnnlmError(f"{path}: not a trained model ({type(e).__name__}: {e})") from None
    spec, size = meta.get("spec"), meta.get("vocab_size")
    if not isinstance(spec, dict) or not isinstance(spec.get("cell"), str) or not isinstance(size, int) or size < 4:
        raise RnnlmError(f"{path}: not a trained model (its meta lacks a model spec or vocabulary size)")
    if not isinstance(meta.get("vocab_hash"), str):
        raise RnnlmError(f"{path}: not a trained model (its meta lacks the vocabulary hash)")
    return groups.get("param", {}), meta


def load_model(path: str | Path, vocab_hash: str | None = None, mode: str | None = None):
    """(model, meta) from `model.npz`; with `vocab_hash`, refuses a model of another vocabulary."""
    from rnnlm.models.lm import RecurrentLM  # PyTensor: only when a model is really built

    params, meta = read_model(path)
    if vocab_hash is not None and meta["vocab_hash"] != vocab_hash:
        raise RnnlmError(f"{path} was trained with another vocabulary ({meta['vocab_hash']}, given {vocab_hash})")
    try:
        model = RecurrentLM.from_spec(meta["spec"], meta["vocab_size"], mode)
    except TypeError as e:
        raise RnnlmError(f"{path}: its model spec is not one this version can build: {e}") from None
    try:
        model.set_params(params)
    except RnnlmError as e:
        raise RnnlmError(f"{path}: {e}") from None
    return model, meta
