"""Training a model, with checkpoints: `train_model` reads top to bottom.

Build the model; resume from the newest checkpoint of the same fingerprint, or start afresh
(from `init_from` if set); run epochs (`run_epoch`), validating and adapting the learning
rate as the `Schedule` says (schedule.py); `save_checkpoint` every N steps, every M
minutes, at each epoch's end and on SIGTERM; write the model, its history and summary.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

import numpy as np

from rnnlm.data.batching import SplitReader
from rnnlm.data.vocab import load_vocab, vocab_hash
from rnnlm.errors import RnnlmError
from rnnlm.metrics import perplexity
from rnnlm.models.backend import check_device
from rnnlm.models.io import save_model
from rnnlm.models.lm import RecurrentLM
from rnnlm.progress import RateMeter, log
from rnnlm.training.checkpoint import Checkpoints, check_compatible, fingerprint, init_params
from rnnlm.training.history import write_history
from rnnlm.training.schedule import Schedule, architecture, train_settings
from rnnlm.training.signals import sigterm_checkpoints
from rnnlm.training.split_loss import split_loss
from rnnlm.training.state import TrainState


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
    best: dict[str, np.ndarray]  # the best validated parameters so far
    meta: dict  # what every checkpoint records besides the state
    carried: np.ndarray | None = None  # the last batch's final states, for a next chunk of its sentences
    started: float = field(default_factory=time.monotonic)
    last_checkpoint: float = field(default_factory=time.monotonic)
    terminate: str | None = None  # set by a SIGTERM: checkpoint and stop

    def elapsed(self) -> float:
        return self.state.seconds + time.monotonic() - self.started


def train_model(
    name: str,
    spec: dict,
    encoded: list[str],
    vocab_path: str,
    out_model: str,
    out_history: str,
    checkpoint_dir: str,
    text: dict | None = None,
) -> dict:
    """Train one model; `text` is how its data were prepared (`data.text.text_preparation`),
    recorded in the model file with its vocabulary, so that the file is all a user needs."""
    settings = train_settings(spec)
    arch = architecture(spec)
    vocab = load_vocab(vocab_path)
    counts = vocab["count"].to_numpy()
    log.info(f"train {name}: {check_device(spec.get('gpu'), spec.get('mode'))}")
    model = RecurrentLM.from_spec(arch, len(vocab), spec.get("mode"), counts=counts)
    model.init_output_bias(counts)
    checkpoints = Checkpoints(
        checkpoint_dir, fingerprint(encoded, vocab_hash(vocab), arch, settings), settings["keep_checkpoints"]
    )
    run = Run(
        name=name,
        model=model,
        settings=settings,
        schedule=Schedule(settings),
        checkpoints=checkpoints,
        train=SplitReader(encoded, "train", settings["max_length"]),
        valid=SplitReader(encoded, "valid"),
        state=TrainState(settings["learning_rate"]),
        best=model.get_params(),
        meta=model_meta(name, model, arch, vocab),
    )
    run.meta["fingerprint"] = checkpoints.fingerprint
    step = run.schedule.step_function(model)  # creates the optimizer's state, which a checkpoint restores
    start(run)
    meter = log_plan(run)
    with sigterm_checkpoints(run):
        while run.state.epoch < settings["epochs"] and not run.state.stopped:
            run_epoch(run, step, meter)
    if run.state.position or run.state.stopped:
        save_checkpoint(run)  # the final state, so that a rerun resumes rather than retrains
    if run.schedule.keeps_best(run.state):
        model.set_params(run.best)
    summary = run.meta | training_summary(run)
    save_model(out_model, model.get_params(), summary | {"vocabulary": list(vocab["token"]), "text": text})
    write_history(out_history, run.state.history)
    log.info(f"train {name}: done ({summary['stopped']}); valid perplexity {summary['valid_perplexity']:.2f}")
    return summary


def model_meta(name: str, model: RecurrentLM, arch: dict, vocab) -> dict:
    """What a checkpoint and the model file record about the model: enough to rebuild it."""
    spec = arch | ({"classes": model.classes} if model.classes else {})
    return {"model": name, "spec": spec, "vocab_hash": vocab_hash(vocab), "vocab_size": len(vocab)}


def training_summary(run: Run) -> dict:
    """How training went, for the model file (its parameters must be the final ones)."""
    valid_loss = split_loss(run.model, run.valid, run.settings["max_tokens"])[0]
    return {
        "train": run.settings,
        "steps": run.state.step,
        "epochs": run.state.epoch,
        "tokens": run.state.tokens,
        "valid_loss": valid_loss,
        "valid_perplexity": perplexity(valid_loss),
        "stopped": run.state.stopped or "epochs done",
        "seconds": round(run.elapsed(), 1),
    }


def start(run: Run) -> None:
    """Resume from the newest checkpoint of this fingerprint, or start afresh (from `init_from`)."""
    resumed = run.checkpoints.latest()
    if resumed:
        groups, meta = resumed
        run.model.set_params(groups["live"])
        run.best = groups["best"]
        run.model.optimizer_state.load(groups.get("opt", {}))
        run.carried = groups.get("carry", {}).get("states")
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
    batch_size, max_tokens = run.schedule.batch_size, run.settings["max_tokens"]
    # at least this many: more where long sentences make the token budget cut smaller batches
    per_epoch = max(math.ceil(sentences / batch_size), math.ceil(tokens / max_tokens))
    total = per_epoch * run.settings["epochs"]
    if run.settings["max_steps"]:
        total = min(total, run.settings["max_steps"])
    n_params = sum(v.size for v in run.model.get_params().values())
    log.info(
        f"train {run.name}: {run.model.cell}, {n_params:,} parameters, {sentences:,} sentences ({tokens:,} "
        f"tokens) per epoch, about {per_epoch:,} steps of up to {batch_size} sentences and {max_tokens:,} "
        f"tokens; schedule {run.settings['schedule']}, {run.schedule.optimizer}, learning rate "
        f"{run.state.learning_rate:g}"
    )
    return RateMeter(
        f"train {run.name}",
        total_steps=total,
        start_step=run.state.step,
        per_epoch=per_epoch,
        may_stop_early=not run.schedule.tutorial,
    )


def run_epoch(run: Run, step, meter: RateMeter) -> None:
    """The rest of the current epoch (all of it unless resuming), one update per batch."""
    state = run.state
    s = run.settings
    batches = run.train.batches(
        state.epoch,
        s["seed"],
        run.schedule.batch_size,
        s["max_tokens"],
        s["buffer"],
        run.model.dtype,
        run.model.portable,
    )
    for position, batch in enumerate(batches):
        if position < state.position:
            continue  # done before the checkpoint we resumed from
        initial = run.carried if batch.carry else run.model.initial_states(batch.X.shape[1])
        nats, count, _, run.carried = step(batch, state.learning_rate, state.step, initial)
        state.count_step(float(nats), int(count))
        if not np.isfinite(nats):
            diverged(run, "loss", nats)
        state.position = position + 1
        meter.update(state.step, int(count), state.window_nats / max(state.window_tokens, 1), state.epoch, position + 1)
        if run.schedule.validates_after_step(state):
            validate(run)
        elif run.schedule.records_after_step(state):
            record(run, state.window_loss(), None)
            state.reset_window()
        if s["max_steps"] and state.step >= s["max_steps"] and not state.stopped:
            state.stopped = f"max_steps {s['max_steps']} reached"  # before a checkpoint records it
        if run.terminate or state.step % s["checkpoint_every"] == 0 or checkpoint_due(run):
            save_checkpoint(run)
        if run.terminate:
            raise RnnlmError(
                f"train {run.name}: stopped by {run.terminate} at step {state.step:,}; checkpoint saved "
                f"in {run.checkpoints.folder}: rerun to resume"
            )
        if state.stopped:
            return
    state.epoch += 1
    state.position = 0
    end_epoch(run)
    state.reset_window()
    save_checkpoint(run)


def end_epoch(run: Run) -> None:
    """The fast schedule validates (unless it just did); the tutorial's, every `evaluate_after`
    epochs, computes the training loss and halves the learning rate when it rose."""
    state = run.state
    if not run.schedule.tutorial:
        if state.last_eval_step != state.step:
            validate(run)
        return
    if state.epoch % run.settings["evaluate_after"] == 0:
        train_loss = split_loss(run.model, run.train, run.settings["max_tokens"])[0]
        if state.last_train_loss is not None and train_loss > state.last_train_loss:
            state.learning_rate *= 0.5
        state.last_train_loss = train_loss
        record(run, train_loss, split_loss(run.model, run.valid, run.settings["max_tokens"])[0])


def validate(run: Run) -> None:
    """The fast schedule's validation: keep the best parameters, cut the learning rate after a
    validation without improvement, stop after `patience` of them."""
    state = run.state
    s = run.settings
    state.last_eval_step = state.step
    valid_loss = split_loss(run.model, run.valid, run.settings["max_tokens"])[0]
    if not np.isfinite(valid_loss):
        diverged(run, "validation loss", valid_loss)
    if valid_loss < state.best_loss:
        state.best_loss = valid_loss
        state.best_step = state.step
        state.bad_evals = 0
        run.best = run.model.get_params()
    else:
        state.bad_evals += 1
        state.learning_rate *= s["lr_decay"]
    record(run, state.window_loss(), valid_loss)
    state.reset_window()
    if state.bad_evals >= s["patience"]:
        state.stopped = f"early stop: no improvement in {s['patience']} evaluations"


def record(run: Run, train_loss: float | None, valid_loss: float | None) -> None:
    """One row of the history (history.csv), and its log line."""
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
    valid = (
        "" if valid_loss is None else f"valid loss {_fmt(valid_loss)} (perplexity {_fmt(row['valid_perplexity'])}), "
    )
    log.info(
        f"train {run.name}: step {row['step']:,} epoch {row['epoch']}: train loss {_fmt(train_loss)}, {valid}"
        f"learning rate {row['learning_rate']:g}"
    )


def checkpoint_due(run: Run) -> bool:
    return time.monotonic() - run.last_checkpoint > 60 * run.settings["checkpoint_minutes"]


def save_checkpoint(run: Run) -> None:
    live = run.model.get_params()
    if not all(np.isfinite(v).all() for v in live.values()):
        diverged(run, "a parameter", "not finite")  # never checkpoint a diverged model
    state = asdict(run.state) | {"seconds": run.elapsed()}
    final = "best" if run.schedule.keeps_best(run.state) else "live"
    groups = {"live": live, "best": run.best, "opt": run.model.optimizer_state.values()}
    if run.carried is not None:
        groups["carry"] = {"states": run.carried}  # a resumed run continues a chunked sentence exactly
    path = run.checkpoints.write(run.state.step, groups, run.meta | state | {"model_params": final})
    run.last_checkpoint = time.monotonic()
    log.info(f"checkpoint {path}")


def diverged(run: Run, what: str, value) -> None:
    newest = run.checkpoints.paths()[:1]
    raise RnnlmError(
        f"train {run.name}: {what} is {value} at step {run.state.step} (learning rate "
        f"{run.state.learning_rate:g}); stopped. Last good checkpoint: {newest[0] if newest else 'none'}"
    )


def _fmt(x) -> str:
    return "-" if x is None else f"{x:.4f}"
