"""Training: the tutorial's SGD schedule or a fast minibatch one, with checkpoints.

Read top to bottom: build the model, resume from the newest valid checkpoint, loop over
epochs of batches (skipping what the checkpoint already did), evaluate and adapt the
learning rate on schedule, checkpoint every N steps and M minutes, and finally write the
model (best validation parameters for `fast`, the last ones for `tutorial`), the history
and a loss plot.

Schedules (`train.schedule`):
* ``tutorial``: batch 1 SGD over shuffled sentences; every `evaluate_after` epochs the
  training loss is computed and the learning rate halved when it rose (section 八.6).
* ``fast``: length-bucketed minibatches, Adam/RMSProp/SGD, gradient-norm clipping, the
  validation loss every `eval_every` steps and at each epoch's end; the learning rate is
  multiplied by `lr_decay` when it does not improve, and training stops after `patience`
  evaluations without improvement.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import time
import zipfile

import numpy as np

from rnnlm import RnnlmError
from rnnlm.atomic import atomic_path
from rnnlm.data.batching import SplitReader
from rnnlm.training.checkpoint import Checkpoints
from rnnlm.progress import Progress, log
from rnnlm.data.vocab import load_vocab, vocab_hash

MODEL_KEYS = ("cell", "hidden", "embedding", "layers", "bptt_truncate", "dtype", "seed")
TRAIN_DEFAULTS = {
    "schedule": "fast", "epochs": 3, "batch_size": 32, "optimizer": "adam", "learning_rate": 0.003,
    "clip_norm": 5.0, "eval_every": 500, "evaluate_after": 1, "patience": 3, "lr_decay": 0.5,
    "max_steps": 0, "max_length": 0, "buffer": 20_000, "checkpoint_every": 500, "checkpoint_minutes": 10.0,
    "keep_checkpoints": 3, "seed": 0,
}
HISTORY = ("step", "epoch", "learning_rate", "train_loss", "valid_loss", "valid_perplexity", "tokens", "seconds")


def settings(spec: dict) -> dict:
    return TRAIN_DEFAULTS | (spec.get("train") or {})


def build_model(spec: dict, vocab_size: int):
    from rnnlm.models.lm import RecurrentLM

    kwargs = {k: spec[k] for k in MODEL_KEYS if k in spec}
    return RecurrentLM(vocab_size=vocab_size, mode=spec.get("mode"), **kwargs)


def config_hash(spec: dict) -> str:
    """What a checkpoint depends on: the model and its training settings, not the mode."""
    relevant = {k: spec.get(k) for k in MODEL_KEYS} | {"train": settings(spec)}
    return hashlib.sha256(json.dumps(relevant, sort_keys=True).encode()).hexdigest()[:16]


def evaluate(model, reader: SplitReader, batch_size: int = 256) -> tuple[float, int]:
    """(mean nats per predicted token, tokens) of a split."""
    total = count = 0.0
    for b in reader.all_batches(batch_size, model.dtype):
        t, c = model.loss_function(b.X, b.Y, b.M)
        total, count = total + float(t), count + float(c)
    if not count:
        raise RnnlmError(f"the {reader.split} split is empty: check split fractions and data")
    return total / count, int(count)


def train_model(name: str, spec: dict, encoded: list[str], vocab_path: str, out_model: str,
                out_history: str, out_plot: str, checkpoint_dir: str) -> dict:
    s = settings(spec)
    vocab = load_vocab(vocab_path)
    model = build_model(spec, len(vocab))
    train = SplitReader(encoded, "train", s["max_length"])
    valid = SplitReader(encoded, "valid")
    batch_size = 1 if s["schedule"] == "tutorial" else s["batch_size"]
    optimizer = "sgd" if s["schedule"] == "tutorial" else s["optimizer"]
    if s["schedule"] == "tutorial":  # the tutorial's SGD: a sentence's total loss, no clipping
        step_fn = model.train_function("sgd", objective="sum")
    else:
        step_fn = model.train_function(optimizer, clip_norm=s["clip_norm"])
    checkpoints = Checkpoints(checkpoint_dir, config_hash(spec), vocab_hash(vocab), s["keep_checkpoints"])

    state = {"step": 0, "epoch": 0, "position": 0, "learning_rate": s["learning_rate"], "best": math.inf,
             "best_step": 0, "bad_evals": 0, "last_train_loss": None, "last_eval_step": -1, "stopped": None, "tokens": 0,
             "seconds": 0.0, "history": []}
    best = model.get_params()
    resumed = checkpoints.latest()
    if resumed:
        params, opt, state = resumed
        model.set_params({k[5:]: v for k, v in params.items() if k.startswith("live.")})
        best = {k[5:]: v for k, v in params.items() if k.startswith("best.")}
        for k, v in opt.items():
            model.optimizer_state[k].set_value(v)

    sentences, tokens_per_epoch = train.count()
    steps_per_epoch = math.ceil(sentences / batch_size)
    total_steps = steps_per_epoch * s["epochs"]
    if s["max_steps"]:
        total_steps = min(total_steps, s["max_steps"])
    log.info(f"train {name}: {spec['cell']}, {sum(v.size for v in model.get_params().values()):,} parameters, "
             f"{sentences:,} sentences ({tokens_per_epoch:,} tokens) per epoch, {steps_per_epoch:,} steps of "
             f"{batch_size}; schedule {s['schedule']}, {optimizer}, learning rate {state['learning_rate']:g}")

    started, last_checkpoint = time.monotonic(), time.monotonic()
    progress = Progress(f"train {name}", "steps", every=10.0)
    # the running training loss since the last evaluation (checkpointed: history resumes exactly)
    window = {"nats": state.pop("window_nats", 0.0), "tokens": state.pop("window_tokens", 0),
              "t": time.monotonic(), "steps": 0}

    def record(train_loss, valid_loss):
        row = {"step": state["step"], "epoch": state["epoch"], "learning_rate": state["learning_rate"],
               "train_loss": train_loss, "valid_loss": valid_loss,
               "valid_perplexity": perplexity(valid_loss) if valid_loss is not None else None,
               "tokens": state["tokens"], "seconds": round(state["seconds"] + time.monotonic() - started, 1)}
        state["history"].append(row)
        log.info(f"train {name}: step {row['step']:,} epoch {row['epoch']}: train loss {_fmt(train_loss)}, "
                 f"valid loss {_fmt(valid_loss)} (perplexity {_fmt(row['valid_perplexity'])}), "
                 f"learning rate {row['learning_rate']:g}")

    def save_checkpoint():
        live = model.get_params()
        if not all(np.isfinite(v).all() for v in live.values()):
            diverged("a parameter", "not finite")  # never checkpoint a diverged model
        params = {f"live.{k}": v for k, v in live.items()} | {f"best.{k}": v for k, v in best.items()}
        opt = {k: v.get_value() for k, v in model.__dict__.get("optimizer_state", {}).items()}
        saved = state | {"seconds": state["seconds"] + time.monotonic() - started,
                         "window_nats": window["nats"], "window_tokens": window["tokens"]}
        path = checkpoints.write(state["step"], params, opt, saved | {"model": name, "spec": spec})
        log.info(f"checkpoint {path}")

    def diverged(what, value):
        newest = checkpoints.paths()[:1]
        raise RnnlmError(f"train {name}: {what} is {value} at step {state['step']} (learning rate "
                         f"{state['learning_rate']:g}); stopped. Last good checkpoint: "
                         f"{newest[0] if newest else 'none'}")

    def validate():
        nonlocal best
        state["last_eval_step"] = state["step"]
        valid_loss, _ = evaluate(model, valid)
        if not np.isfinite(valid_loss):
            diverged("validation loss", valid_loss)
        train_loss = window["nats"] / window["tokens"] if window["tokens"] else None
        if valid_loss < state["best"]:
            state.update(best=valid_loss, best_step=state["step"], bad_evals=0)
            best = model.get_params()
        else:
            state["bad_evals"] += 1
            state["learning_rate"] *= s["lr_decay"]
        record(train_loss, valid_loss)
        if state["bad_evals"] >= s["patience"]:
            state["stopped"] = f"early stop: no improvement in {s['patience']} evaluations"

    first_call = True
    window["t"] = time.monotonic()
    while state["epoch"] < s["epochs"] and not state["stopped"]:
        for position, batch in enumerate(train.batches(state["epoch"], s["seed"], batch_size, s["buffer"], model.dtype)):
            if position < state["position"]:
                continue  # done before the checkpoint we resumed from
            nats, count, _ = step_fn(batch.X, batch.Y, batch.M, state["learning_rate"])
            if first_call:  # compiles the graph (cold: a minute); keep it out of the rates
                log.info(f"train {name}: first step (compiling included) took {time.monotonic() - window['t']:.1f} s")
                progress.start = window["t"] = time.monotonic()
                first_call = False
            state["step"] += 1
            if not np.isfinite(nats):
                diverged("loss", nats)
            state["position"] = position + 1
            state["tokens"] += int(count)
            window["nats"] += float(nats)
            window["tokens"] += int(count)
            window["steps"] += 1
            _log_progress(progress, state, window, total_steps)
            if s["schedule"] == "fast" and state["step"] % s["eval_every"] == 0:
                validate()
                window.update(nats=0.0, tokens=0)
            if s["max_steps"] and state["step"] >= s["max_steps"] and not state["stopped"]:
                state["stopped"] = f"max_steps {s['max_steps']} reached"  # before a checkpoint records it
            if state["step"] % s["checkpoint_every"] == 0 or time.monotonic() - last_checkpoint > 60 * s["checkpoint_minutes"]:
                save_checkpoint()
                last_checkpoint = time.monotonic()
            if state["stopped"]:
                break
        else:
            state["epoch"] += 1
            state["position"] = 0
            if s["schedule"] == "fast":
                if state["last_eval_step"] != state["step"]:  # not twice on the same parameters
                    validate()
            elif state["epoch"] % s["evaluate_after"] == 0:
                train_loss, _ = evaluate(model, train)
                if state["last_train_loss"] is not None and train_loss > state["last_train_loss"]:
                    state["learning_rate"] *= 0.5  # the tutorial: halve it when the loss rises
                state["last_train_loss"] = train_loss
                record(train_loss, evaluate(model, valid)[0])
            window.update(nats=0.0, tokens=0)
            save_checkpoint()
            last_checkpoint = time.monotonic()

    if s["schedule"] == "fast" and state["best"] < math.inf:
        model.set_params(best)
    valid_loss, _ = evaluate(model, valid)
    summary = {"model": name, "spec": {k: spec.get(k) for k in MODEL_KEYS if k in spec} | {"cell": spec["cell"]},
               "train": s, "vocab_hash": vocab_hash(vocab), "vocab_size": len(vocab), "steps": state["step"],
               "epochs": state["epoch"], "tokens": state["tokens"], "valid_loss": valid_loss,
               "valid_perplexity": perplexity(valid_loss), "stopped": state["stopped"] or "epochs done",
               "seconds": round(state["seconds"] + time.monotonic() - started, 1)}
    save_model(out_model, model, summary)
    write_history(out_history, state["history"])
    plot_history(out_plot, state["history"], name)
    log.info(f"train {name}: done ({summary['stopped']}); valid perplexity {summary['valid_perplexity']:.2f}")
    return summary


def perplexity(nats: float) -> float:
    return math.exp(nats) if nats < 700 else math.inf


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.4f}"


def _log_progress(progress: Progress, state: dict, window: dict, total_steps: int) -> None:
    now = time.monotonic()
    if now - progress.last < progress.every:
        return
    dt = max(now - window["t"], 1e-9)
    rate = f"{window['steps'] / dt:.1f} steps/s, {window['tokens'] / dt:,.0f} tokens/s" if window["tokens"] else ""
    loss = window["nats"] / window["tokens"] if window["tokens"] else float("nan")
    progress.what = f"epoch {state['epoch']}, train loss {loss:.4f}, {rate}; step"
    progress.update(state["step"], state["step"] / total_steps if total_steps else None, force=True)
    window.update(t=now, steps=0)


def save_model(path: str, model, summary: dict) -> None:
    """model.npz: the parameters and a JSON `meta` (spec, vocabulary hash, training summary)."""
    arrays = {f"param.{k}": v for k, v in model.get_params().items()}
    arrays["meta"] = np.array(json.dumps(summary))
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.savez(f, **arrays)


def load_model(path: str, vocab_path: str | None = None, mode: str | None = None):
    """A trained model from `model.npz` (and, to check it, the vocabulary it was trained on)."""
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            params = {k[6:]: z[k] for k in z.files if k.startswith("param.")}
    except FileNotFoundError:
        raise RnnlmError(f"{path}: no such model") from None
    except (OSError, ValueError, KeyError, zipfile.BadZipFile) as e:
        raise RnnlmError(f"{path}: not a trained model: {e}") from None
    if vocab_path is not None:
        vocab = load_vocab(vocab_path)
        if vocab_hash(vocab) != meta["vocab_hash"]:
            raise RnnlmError(f"{path} was trained with another vocabulary than {vocab_path}")
    model = build_model(meta["spec"] | {"mode": mode}, meta["vocab_size"])
    model.set_params(params)
    return model, meta


def write_history(path: str, history: list[dict]) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=HISTORY)
        w.writeheader()
        w.writerows(history)


def plot_history(path: str, history: list[dict], name: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    for key, label in (("train_loss", "train"), ("valid_loss", "valid")):
        pts = [(h["step"], h[key]) for h in history if h[key] is not None]
        if pts:
            ax.plot(*zip(*pts), marker="o", label=label)
    ax.set(xlabel="step", ylabel="cross-entropy (nats/token)", title=f"{name}")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=100)
    plt.close(fig)
