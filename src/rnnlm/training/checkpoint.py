"""The checkpoints of one model's training, by what they belong to.

``{folder}/{fingerprint}/step-000001234.npz`` files (the newest `keep` kept) hold the live and
best parameters, the optimizer state and the `TrainState` (as JSON meta), written atomically
without pickle. The *fingerprint* is a digest of everything the parameters depend on: the
content of the encoded data (which also fixes the split), the vocabulary, the model and its
training settings. A run resumes only from its own fingerprint's folder; the folders of the
`KEEP_RUNS` most recent other runs are kept beside it, so that going back to earlier data or
settings resumes that run, and ``train.init_from: previous`` starts from the last other run.
"""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import numpy as np

from rnnlm.errors import RnnlmError
from rnnlm.models.io import UNREADABLE, load_npz, save_npz
from rnnlm.progress import log

PREFIX, SUFFIX = "step-", ".npz"
# settings that change when checkpoints are written, not what the parameters become
CADENCE = ("checkpoint_every", "checkpoint_minutes", "keep_checkpoints")


def file_digest(path: str | Path) -> str:
    h = hashlib.blake2b(digest_size=16)
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def fingerprint(encoded: list[str], vocab_hash: str, architecture: dict, settings: dict) -> str:
    """A digest of everything the trained parameters depend on (not how often we checkpoint)."""
    identity = {
        "encoded": [file_digest(p) for p in encoded],
        "vocab": vocab_hash,
        "architecture": architecture,
        "train": {k: v for k, v in sorted(settings.items()) if k not in CADENCE},
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:16]


def _paths(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    named = (p for p in folder.iterdir() if p.name.startswith(PREFIX) and p.name.endswith(SUFFIX))
    return sorted(named, reverse=True)  # zero-padded step numbers: newest first


def _read(path: Path) -> tuple[dict, dict] | None:
    try:
        return load_npz(path)
    except UNREADABLE as e:
        log.warning(f"warning: skipping unreadable checkpoint {path}: {type(e).__name__}: {e}")
        return None


KEEP_RUNS = 3  # other runs (fingerprints) whose checkpoints are kept, most recent first


class Checkpoints:
    def __init__(self, folder: str | Path, fingerprint: str, keep: int = 3):
        self.root, self.fingerprint, self.keep = Path(folder), fingerprint, keep
        self.folder = self.root / fingerprint
        self._adopt_flat_layout()

    def paths(self) -> list[Path]:
        return _paths(self.folder)

    def write(self, step: int, groups: dict[str, dict[str, np.ndarray]], meta: dict) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{PREFIX}{step:09d}{SUFFIX}"
        save_npz(path, groups, meta | {"fingerprint": self.fingerprint})
        for old in self.paths()[self.keep :]:
            old.unlink(missing_ok=True)
        for run in self.other_runs()[KEEP_RUNS:]:
            shutil.rmtree(run, ignore_errors=True)
        return path

    def latest(self) -> tuple[dict, dict] | None:
        """(groups, meta) of the newest readable checkpoint of this fingerprint, or None."""
        for path in self.paths():
            read = _read(path)
            if read is not None and read[1].get("fingerprint") == self.fingerprint:
                log.info(f"resuming from {path} (step {read[1]['step']:,}, epoch {read[1]['epoch']})")
                return read
        others = self.other_runs()
        if others:
            log.info(
                f"the data or settings changed since the checkpoints in {others[0]}: training afresh "
                f"(fingerprint {self.fingerprint}); {len(others)} other run(s) kept in {self.root}, and "
                "going back to their data and settings resumes them"
            )
        return None

    def other_runs(self) -> list[Path]:
        """The folders of other fingerprints that hold checkpoints, most recently written first."""
        if not self.root.is_dir():
            return []
        runs = [d for d in self.root.iterdir() if d.is_dir() and d != self.folder and _paths(d)]
        return sorted(runs, key=lambda d: _paths(d)[0].stat().st_mtime_ns, reverse=True)

    def previous_model(self) -> tuple[dict[str, np.ndarray], dict] | None:
        """The parameters the most recent other run ended with, and its meta."""
        for run in self.other_runs():
            for path in _paths(run):
                read = _read(path)
                if read is not None:
                    groups, meta = read
                    return groups[meta.get("model_params", "live")], meta | {"path": str(path)}
        return None

    def _adopt_flat_layout(self) -> None:
        """Checkpoints of the older layout (step files in the folder itself, and `previous/`)
        move into their fingerprints' folders; unreadable ones stay where they are."""
        for path in _paths(self.root) + _paths(self.root / "previous"):
            read = _read(path)
            fingerprint = read[1].get("fingerprint") if read else None
            if isinstance(fingerprint, str) and fingerprint.isalnum():
                (self.root / fingerprint).mkdir(parents=True, exist_ok=True)
                path.rename(self.root / fingerprint / path.name)


def init_params(init_from: str, checkpoints: Checkpoints) -> tuple[dict[str, np.ndarray], dict, str] | None:
    """(parameters, their meta, where from) for `train.init_from`: ``previous`` (the run this
    folder's checkpoints came from before the data or settings changed) or a model.npz path."""
    if init_from == "previous":
        found = checkpoints.previous_model()
        if found is None:
            log.info("init_from previous: there is no previous run yet; starting from a fresh initialisation")
            return None
        return found[0], found[1], found[1]["path"]
    from rnnlm.models.io import read_model

    params, meta = read_model(init_from)
    return params, meta, init_from


def check_compatible(params: dict, meta: dict, where: str, model, vocab_hash: str) -> None:
    if meta.get("vocab_hash") != vocab_hash:
        raise RnnlmError(
            f"init_from {where}: it was trained with another vocabulary; a warm start needs the same "
            "one (freeze it with vocab.frozen)"
        )
    shapes = {k: v.shape for k, v in model.get_params().items()}
    if {k: v.shape for k, v in params.items()} != shapes:
        raise RnnlmError(f"init_from {where}: its parameters do not fit this model's architecture")
