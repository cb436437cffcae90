"""Self-describing training checkpoints: plain `.npz`, no pickle, written atomically.

A checkpoint holds the parameters (`param.NAME`), the optimizer state (`opt.NAME`) and one
JSON document (`meta`): step, epoch, position in the epoch, learning rate, schedule state,
history, model spec, config hash and vocabulary hash. Loading refuses a checkpoint made for
another config or vocabulary, and skips (with a warning) one that cannot be read.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np

from rnnlm import RnnlmError
from rnnlm.atomic import atomic_path
from rnnlm.progress import log

NAME = re.compile(r"^step-(\d{9})\.npz$")


def save(path: Path, params: dict, optimizer: dict, meta: dict) -> None:
    arrays = {f"param.{k}": v for k, v in params.items()} | {f"opt.{k}": v for k, v in optimizer.items()}
    arrays["meta"] = np.array(json.dumps(meta))
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)


def load(path: Path) -> tuple[dict, dict, dict]:
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        params = {k[6:]: z[k] for k in z.files if k.startswith("param.")}
        optimizer = {k[4:]: z[k] for k in z.files if k.startswith("opt.")}
    return params, optimizer, meta


class Checkpoints:
    """The checkpoints of one model in one folder: `step-000001234.npz`, newest kept."""

    def __init__(self, folder: str | Path, config_hash: str, vocab_hash: str, keep: int = 3):
        self.folder, self.config_hash, self.vocab_hash, self.keep = Path(folder), config_hash, vocab_hash, keep

    def paths(self) -> list[Path]:
        if not self.folder.exists():
            return []
        return sorted((p for p in self.folder.iterdir() if NAME.match(p.name)), reverse=True)

    def write(self, step: int, params: dict, optimizer: dict, meta: dict) -> Path:
        path = self.folder / f"step-{step:09d}.npz"
        save(path, params, optimizer, meta | {"config_hash": self.config_hash, "vocab_hash": self.vocab_hash})
        for old in self.paths()[self.keep :]:
            old.unlink(missing_ok=True)
        return path

    def latest(self) -> tuple[dict, dict, dict] | None:
        """The newest readable checkpoint of this config and vocabulary, or None."""
        for path in self.paths():
            try:
                params, optimizer, meta = load(path)
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
                log.warning(f"warning: skipping unreadable checkpoint {path}: {e}")
                continue
            if meta.get("vocab_hash") != self.vocab_hash:
                raise RnnlmError(
                    f"{path} was made with another vocabulary ({meta.get('vocab_hash')}, now {self.vocab_hash}); "
                    f"remove {self.folder} to train from scratch"
                )
            if meta.get("config_hash") != self.config_hash:
                raise RnnlmError(
                    f"{path} was made with another model or training config ({meta.get('config_hash')}, now "
                    f"{self.config_hash}); remove {self.folder} to train from scratch"
                )
            log.info(f"resuming from {path} (step {meta['step']:,}, epoch {meta['epoch']})")
            return params, optimizer, meta
        return None
