"""Training: the tutorial's SGD schedule or a fast minibatch one, with checkpoints.

Read `train_model` top to bottom: build the model, resume from the newest checkpoint of the
same fingerprint (or start afresh, optionally from `init_from`), run epochs (`run_epoch`),
`validate` and adapt the learning rate as the `Schedule` says, `save_checkpoint` every N
steps, M minutes, each epoch and on SIGTERM, and write the model, history and summary.

Schedules (`train.schedule`):
* ``tutorial``: batch-1 SGD on each sentence's total loss over shuffled sentences; every
  `evaluate_after` epochs the training loss is computed and the learning rate halved when
  it rose (the tutorial's `train_with_sgd`). The model is the last parameters.
* ``fast``: length-bucketed minibatches, Adam/RMSProp/SGD, norm clipping, validation every
  `eval_every` steps and each epoch; the learning rate times `lr_decay` when it did not
  improve, a stop after `patience` such validations; the model: the best validated.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field, fields

import numpy as np

from rnnlm.config import defaults
from rnnlm.data.batching import SplitReader
from rnnlm.data.vocab import load_vocab, vocab_hash
from rnnlm.errors import RnnlmError
from rnnlm.metrics import perplexity
from rnnlm.models.backend import check_device
from rnnlm.models.dropout import Dropout
from rnnlm.models.io import save_model
from rnnlm.models.lm import ARCHITECTURE, RecurrentLM
from rnnlm.progress import RateMeter, log
from rnnlm.training.checkpoint import Checkpoints, check_compatible, fingerprint, init_params
from rnnlm.training.history import write_history
from rnnlm.training.signals import sigterm_checkpoints
from rnnlm.training.split_loss import split_loss


def train_settings(spec: dict) -> dict:
    return defaults("models", "*", "train") | (spec.get("train") or {})


def architecture(spec: dict) -> dict:
    return {k: v for k, v in (defaults("models", "*") | spec).items() if k in ARCHITECTURE}


@dataclass
class TrainState:
    """Where training is: everything a checkpoint stores besides the arrays."""

    learning_rate: float
    step: int = 0
    epoch: int = 0
    position: int = 0  # batches of the current epoch done
    tokens: int = 0
    seconds: float = 0.0
    best_loss: float = math.inf
    best_step: int = 0
    bad_evals: int = 0
    last_eval_step: int = -1
    last_train_loss: float | None = None  # the tutorial schedule's previous training loss
    window_nats: float = 0.0  # the running training loss since the last validation
    window_tokens: int = 0
    stopped: str | None = None
    history: list[dict] = field(default_factory=list)

    @classmethod
    def from_meta(cls, meta: dict) -> TrainState:
        return cls(**{f.name: meta[f.name] for f in fields(cls) if f.name in meta})


class Schedule:
    """How a schedule batches, steps, validates and picks the final parameters."""

    def __init__(self, settings: dict):
        self.s = settings
        self.tutorial = settings["schedule"] == "tutorial"
        self.batch_size = 1 if self.tutorial else settings["batch_size"]
        self.optimizer = "sgd" if self.tutorial else settings["optimizer"]
        self.dropout = Dropout(settings["dropout"], settings["recurrent_dropout"], settings["variational"])

    def step_function(self, model: RecurrentLM):
        """f(batch, learning rate, step) -> (total nats, targets, gradient norm): one update."""
        if self.tutorial:  # the tutorial's SGD: a sentence's total loss, no clipping
            update = model.train_function("sgd", objective="sum")
        else:
            update = model.train_function(
                self.optimizer, clip_norm=self.s["clip_norm"], weight_decay=self.s["weight_decay"], dropout=self.dropout
            )

        def step(batch, learning_rate, number):
            rng = np.random.default_rng([self.s["seed"], 0x5EED, number])  # a step's masks: resumable
            masks = model.dropout_masks(self.dropout, batch.X.shape[0], batch.X.shape[1], rng)
            return update(batch.X, batch.Y, batch.M, learning_rate, *masks)

        return step

    def validates_after_step(self, state: TrainState) -> bool:
        return not self.tutorial and state.step % self.s["eval_every"] == 0

    def after_epoch(self, run: Run) -> None:
        state = run.state
        if not self.tutorial:
            if state.last_eval_step != state.step:  # not twice on the same parameters
                validate(run)
        elif state.epoch % self.s["evaluate_after"] == 0:
            train_loss = split_loss(run.model, run.train)[0]
            if state.last_train_loss is not None and train_loss > state.last_train_loss:
                state.learning_rate *= 0.5  # the tutorial: halve it when the loss rises
            state.last_train_loss = train_loss
            record(run, train_loss, split_loss(run.model, run.valid)[0])

    def final_params(self, run: Run) -> dict[str, np.ndarray]:
        if not self.tutorial and run.state.best_loss < math.inf:
            return run.best
        return run.model.get_params()


@dataclass
class Run:
    """One model's training: the model, its data, its schedule and where it is."""

    name: str
    model: RecurrentLM
    settings: dict
    schedule: Schedule
    checkpoints: Checkpoints
    train: SplitReader
    valid: SplitReader
    state: TrainState
    best: dict[str, np.ndarray]
    meta: dict  # what every checkpoint records besides the state
    started: float = field(default_factory=time.monotonic)
    last_checkpoint: float = field(default_factory=time.monotonic)
    terminate: str | None = None  # set by a SIGTERM: checkpoint and stop

    def elapsed(self) -> float:
        return self.state.seconds + time.monotonic() - self.started


def train_model(
    name: str, spec: dict, encoded: list[str], vocab_path: str, out_model: str, out_history: str, checkpoint_dir: str
) -> dict:
    settings, arch = train_settings(spec), architecture(spec)
    vocab = load_vocab(vocab_path)
    vhash = vocab_hash(vocab)
    log.info(f"train {name}: {check_device(spec.get('gpu'), spec.get('mode'))}")
    model = RecurrentLM.from_spec(arch, len(vocab), spec.get("mode"), counts=vocab["count"].to_numpy())
    model.init_output_bias(vocab["count"].to_numpy())
    schedule = Schedule(settings)
    checkpoints = Checkpoints(checkpoint_dir, fingerprint(encoded, vhash, arch, settings), settings["keep_checkpoints"])
    run = Run(
        name,
        model,
        settings,
        schedule,
        checkpoints,
        SplitReader(encoded, "train", settings["max_length"]),
        SplitReader(encoded, "valid"),
        TrainState(settings["learning_rate"]),
        model.get_params(),
        {
            "model": name,
            "spec": arch | ({"classes": model.classes} if model.classes else {}),
            "vocab_hash": vhash,
            "vocab_size": len(vocab),
        },
    )
    step_fn = schedule.step_function(model)  # creates the optimizer's state, which a checkpoint restores
    start(run)
    plan = log_plan(run)
    with sigterm_checkpoints(run):
        while run.state.epoch < settings["epochs"] and not run.state.stopped:
            run_epoch(run, step_fn, plan)
    if run.state.position or run.state.stopped:
        save_checkpoint(run)  # the final state, so that a rerun resumes rather than retrains
    model.set_params(schedule.final_params(run))
    valid_loss = split_loss(model, run.valid)[0]
    summary = run.meta | {
        "train": settings,
        "steps": run.state.step,
        "epochs": run.state.epoch,
        "tokens": run.state.tokens,
        "valid_loss": valid_loss,
        "valid_perplexity": perplexity(valid_loss),
        "stopped": run.state.stopped or "epochs done",
        "seconds": round(run.elapsed(), 1),
    }
    save_model(out_model, model.get_params(), summary)
    write_history(out_history, run.state.history)
    log.info(f"train {name}: done ({summary['stopped']}); valid perplexity {summary['valid_perplexity']:.2f}")
    return summary


def start(run: Run) -> None:
    """Resume from the newest checkpoint of this fingerprint, or start afresh (from `init_from`)."""
    resumed = run.checkpoints.latest()
    if resumed:
        groups, meta = resumed
        run.model.set_params(groups["live"])
        run.best = groups["best"]
        run.model.optimizer_state.load(groups.get("opt", {}))
        run.state = TrainState.from_meta(meta)
        return
    init_from = run.settings["init_from"]
    found = init_params(init_from, run.checkpoints) if init_from else None
    if found:
        params, meta, where = found
        check_compatible(params, meta, where, run.model, run.meta["vocab_hash"])
        run.model.set_params(params)
        run.best = run.model.get_params()
        log.info(f"train {run.name}: starting from the parameters of {where}")


def log_plan(run: Run) -> RateMeter:
    sentences, tokens = run.train.count()
    if not sentences:
        raise RnnlmError(f"train {run.name}: the train split is empty: check the split fractions and the data")
    per_epoch = math.ceil(sentences / run.schedule.batch_size)
    total = per_epoch * run.settings["epochs"]
    if run.settings["max_steps"]:
        total = min(total, run.settings["max_steps"])
    n_params = sum(v.size for v in run.model.get_params().values())
    log.info(
        f"train {run.name}: {run.model.cell}, {n_params:,} parameters, {sentences:,} sentences ({tokens:,} "
        f"tokens) per epoch, {per_epoch:,} steps of {run.schedule.batch_size}; schedule "
        f"{run.settings['schedule']}, {run.schedule.optimizer}, learning rate {run.state.learning_rate:g}"
    )
    return RateMeter(f"train {run.name}", total_steps=total, start_step=run.state.step)


def run_epoch(run: Run, step_fn, meter: RateMeter) -> None:
    """The rest of the current epoch (all of it unless resuming), one update per batch."""
    state, s = run.state, run.settings
    batches = run.train.batches(
        state.epoch, s["seed"], run.schedule.batch_size, s["buffer"], run.model.dtype, run.model.portable
    )
    for position, batch in enumerate(batches):
        if position < state.position:
            continue  # done before the checkpoint we resumed from
        nats, count, _ = step_fn(batch, state.learning_rate, state.step)
        state.step += 1
        if not np.isfinite(nats):
            diverged(run, "loss", nats)
        state.position = position + 1
        state.tokens += int(count)
        state.window_nats += float(nats)
        state.window_tokens += int(count)
        meter.update(state.step, int(count), state.window_nats / max(state.window_tokens, 1), state.epoch)
        if run.schedule.validates_after_step(state):
            validate(run)
        if s["max_steps"] and state.step >= s["max_steps"] and not state.stopped:
            state.stopped = f"max_steps {s['max_steps']} reached"  # before a checkpoint records it
        if run.terminate or state.step % s["checkpoint_every"] == 0 or checkpoint_due(run):
            save_checkpoint(run)
        if run.terminate:
            raise RnnlmError(
                f"train {run.name}: stopped by {run.terminate} at step {state.step:,}; checkpoint saved "
                "in " + str(run.checkpoints.folder) + ": rerun to resume"
            )
        if state.stopped:
            return
    state.epoch += 1
    state.position = 0
    run.schedule.after_epoch(run)
    state.window_nats, state.window_tokens = 0.0, 0
    save_checkpoint(run)


def validate(run: Run) -> None:
    state, s = run.state, run.settings
    state.last_eval_step = state.step
    valid_loss = split_loss(run.model, run.valid)[0]
    if not np.isfinite(valid_loss):
        diverged(run, "validation loss", valid_loss)
    train_loss = state.window_nats / state.window_tokens if state.window_tokens else None
    if valid_loss < state.best_loss:
        state.best_loss, state.best_step, state.bad_evals = valid_loss, state.step, 0
        run.best = run.model.get_params()
    else:
        state.bad_evals += 1
        state.learning_rate *= s["lr_decay"]
    record(run, train_loss, valid_loss)
    state.window_nats, state.window_tokens = 0.0, 0
    if state.bad_evals >= s["patience"]:
        state.stopped = f"early stop: no improvement in {s['patience']} evaluations"


def record(run: Run, train_loss: float | None, valid_loss: float | None) -> None:
    state = run.state
    row = {
        "step": state.step,
        "epoch": state.epoch,
        "learning_rate": state.learning_rate,
        "train_loss": train_loss,
        "valid_loss": valid_loss,
        "valid_perplexity": None if valid_loss is None else perplexity(valid_loss),
        "tokens": state.tokens,
        "seconds": round(run.elapsed(), 1),
    }
    state.history.append(row)
    log.info(
        f"train {run.name}: step {row['step']:,} epoch {row['epoch']}: train loss {_fmt(train_loss)}, "
        f"valid loss {_fmt(valid_loss)} (perplexity {_fmt(row['valid_perplexity'])}), "
        f"learning rate {row['learning_rate']:g}"
    )


def checkpoint_due(run: Run) -> bool:
    return time.monotonic() - run.last_checkpoint > 60 * run.settings["checkpoint_minutes"]


def save_checkpoint(run: Run) -> None:
    live = run.model.get_params()
    if not all(np.isfinite(v).all() for v in live.values()):
        diverged(run, "a parameter", "not finite")  # never checkpoint a diverged model
    state = asdict(run.state) | {"seconds": run.elapsed()}
    final = "best" if (not run.schedule.tutorial and run.state.best_loss < math.inf) else "live"
    groups = {"live": live, "best": run.best, "opt": run.model.optimizer_state.values()}
    path = run.checkpoints.write(run.state.step, groups, run.meta | state | {"model_params": final})
    run.last_checkpoint = time.monotonic()
    log.info(f"checkpoint {path}")


def diverged(run: Run, what: str, value) -> None:
    newest = run.checkpoints.paths()[:1]
    raise RnnlmError(
        f"train {run.name}: {what} is {value} at step {run.state.step} (learning rate "
        f"{run.state.learning_rate:g}); stopped. Last good checkpoint: "
        f"{newest[0] if newest else 'none'}"
    )


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.4f}"
