"""Callbacks: early stopping, checkpointing, learning-rate schedules, gradient monitoring.

A callback may define ``on_train_begin(trainer)``, ``on_batch_end(trainer, step)``, ``on_train_end(trainer)``,
``on_epoch_end(trainer, epoch, logs)`` (``logs`` may be extended; set
``trainer.stop_training = True`` to stop) and ``state_dict`` / ``load_state_dict`` for
exact resume.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fcnet.optim.schedules import LRSchedule, TimeBudgetLR
from fcnet.train import io
from fcnet.train.history import History
from fcnet.train.monitor import grad_norms, gradient_warnings

if TYPE_CHECKING:
    from fcnet.train.trainer import Trainer

__all__ = ["CSVLogger", "Callback", "Checkpoint", "EarlyStopping", "GradientMonitor", "LRScheduler",
           "LambdaCallback", "ModelCheckpoint", "ReduceLROnPlateau"]


class Callback:
    """Base class: every hook does nothing."""

    def on_train_begin(self, trainer: Trainer) -> None:
        """Called once before the first epoch (also on resume)."""

    def on_batch_end(self, trainer: Trainer, step: int) -> None:
        """Called after each optimizer step."""

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        """Called after each epoch with its metrics (epochs count from 1)."""

    def on_train_end(self, trainer: Trainer) -> None:
        """Called once when a ``fit`` call ends (its epochs done, or stopped)."""

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state for checkpoints."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore ``state_dict``."""

    def state_arrays(self) -> dict[str, Any]:
        """Arrays for checkpoints (saved as safetensors beside the model's), e.g. the best weights."""
        return {}

    def load_state_arrays(self, arrays: dict[str, Any]) -> None:
        """Restore ``state_arrays``."""


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    Not in the lecture; motivated by slide 146 (validation error turns up late in training).

    With ``restore_best=True`` the weights of the best epoch are put back when it stops training.
    Keras's ``restore_best_weights=True`` puts them back when ``fit`` ends, stopped early or not (as
    Keras 3 does).  ``mode``: 'min', 'max' or 'auto' (max for a metric named ``*acc*``).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 restore_best: bool = True, *, restore_best_weights: bool | None = None, mode: str = "auto") -> None:
        self.monitor, self.patience, self.min_delta = monitor, patience, abs(min_delta)
        self.restore_at_end = bool(restore_best_weights)
        self.restore_best = restore_best if restore_best_weights is None else bool(restore_best_weights)
        self.mode = _mode(monitor, mode)
        self.best = -math.inf if self.mode == "max" else math.inf
        self.wait = 0
        self.best_epoch = 0
        self.best_state: dict[str, Any] | None = None
        self._resumed = False  # state loaded from a checkpoint since the last fit

    def on_train_begin(self, trainer: Trainer) -> None:
        if self.wait >= self.patience:
            if self._resumed:  # a run resumed after it stopped early stays stopped (a larger
                trainer.stop_training = True  # --early-stopping patience lets it continue)
            else:  # a new fit after one it stopped (Keras): it trains, and stops again after `patience`
                self.wait = 0  # epochs without beating the best so far
        self._resumed = False

    def on_train_end(self, trainer: Trainer) -> None:
        if self.restore_at_end and self.best_state is not None:
            trainer.model.load_state_dict(self.best_state)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        value = logs.get(self.monitor)
        if value is None:
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which is not among the metrics "
                             f"{sorted(logs)}; give validation data or monitor 'loss'")
        better = value > self.best + self.min_delta if self.mode == "max" else value < self.best - self.min_delta
        if better:
            self.best, self.wait, self.best_epoch = float(value), 0, epoch
            if self.restore_best:
                self.best_state = trainer.model.state_dict()
        else:
            self.wait += 1
            if self.wait >= self.patience:
                trainer.stop_training = True
                trainer.log(f"early stopping at epoch {epoch}: {self.monitor} has not improved for "
                            f"{self.patience} epochs (best {self.best:.4g} at epoch {self.best_epoch})")
                if self.best_state is not None:
                    trainer.model.load_state_dict(self.best_state)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "best_epoch": self.best_epoch}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        best = state["best"]  # strict JSON stores the initial ±inf as null
        self.best = (-math.inf if self.mode == "max" else math.inf) if best is None else float(best)
        self.wait, self.best_epoch = state["wait"], state["best_epoch"]
        self._resumed = True

    def state_arrays(self) -> dict[str, Any]:
        """The best epoch's weights, saved in the checkpoint beside the model's (exact resume)."""
        return dict(self.best_state or {})

    def load_state_arrays(self, arrays: dict[str, Any]) -> None:
        self.best_state = dict(arrays) if arrays else None


class LRScheduler(Callback):
    """Advance a learning-rate schedule per epoch (default) or per optimizer step.

    A ``TimeBudgetLR`` is moved to the trainer's ``time_used`` instead of one step on.
    """

    def __init__(self, schedule: LRSchedule, per: str = "epoch") -> None:
        if per not in ("epoch", "step"):
            raise ValueError(f"per must be 'epoch' or 'step', got {per!r}")
        self.schedule, self.per = schedule, per

    def on_batch_end(self, trainer: Trainer, step: int) -> None:
        if self.per == "step":
            self._advance(trainer)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self.per == "epoch":
            self._advance(trainer)

    def _advance(self, trainer: Trainer) -> None:
        if isinstance(self.schedule, TimeBudgetLR):
            self.schedule.seek(trainer.time_used)
        else:
            self.schedule.step()

    def state_dict(self) -> dict[str, Any]:
        return self.schedule.state_dict()

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.schedule.load_state_dict(state)


class GradientMonitor(Callback):
    """Record per-layer weight-gradient norms every ``every`` steps; warn on vanishing/exploding."""

    def __init__(self, every: int = 20) -> None:
        self.every = every
        self._sums: dict[str, float] = {}
        self._count = 0
        self.warned: set[str] = set()

    def on_batch_end(self, trainer: Trainer, step: int) -> None:
        if step % self.every:
            return
        for k, v in grad_norms(trainer.model).items():
            self._sums[k] = self._sums.get(k, 0.0) + v
        self._count += 1

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if not self._count:
            return
        means = {k: v / self._count for k, v in self._sums.items()}
        for k, v in means.items():
            logs[f"grad_norm/{k}"] = v
        for msg in gradient_warnings(means):
            key = msg.split(":")[0]
            if key not in self.warned:
                self.warned.add(key)
                trainer.log(f"warning (epoch {epoch}): {msg}")
        self._sums, self._count = {}, 0


class Checkpoint(Callback):
    """Save everything needed to resume bit-for-bit at the end of every ``every``-th epoch.

    ``directory`` receives ``model.safetensors`` (weights and optimizer state) and
    ``state.json`` (epoch, RNG states, schedules, history); the directory is replaced as a
    whole, so an interrupted save leaves the previous checkpoint intact.
    """

    def __init__(self, directory: str | Path, every: int = 1) -> None:
        self.directory, self.every = Path(directory), every
        self.extra: dict[str, Any] = {}  # recorded in state.json as is (e.g. the data fingerprint)
        self.last_epoch: int | None = None
        self._pending: tuple[int, dict[str, Any], dict[str, Any]] | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if epoch % self.every == 0 or trainer.stop_training:
            self.save(trainer, epoch)
        else:  # keep this epoch's state in memory, so Ctrl-C can still save it (flush)
            self._pending = (epoch, *trainer.state_dict())

    def flush(self) -> int | None:
        """Write the newest epoch-boundary state held in memory (after Ctrl-C); returns its epoch."""
        if self._pending is not None and (self.last_epoch is None or self._pending[0] > self.last_epoch):
            epoch, arrays, state = self._pending
            self._write(arrays, state, epoch)
        self._pending = None
        return self.last_epoch

    def save(self, trainer: Trainer, epoch: int) -> Path:
        """Write the checkpoint of ``trainer`` at the end of ``epoch``."""
        arrays, state = trainer.state_dict()
        return self._write(arrays, state, epoch)

    def _write(self, arrays: dict[str, Any], state: dict[str, Any], epoch: int) -> Path:
        state = {**state, **self.extra}
        state["epoch"] = epoch
        self.directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{self.directory.name}.", dir=self.directory.parent))
        os.chmod(tmp, 0o777 & ~io.umask())  # mkdtemp makes it 0700: give it a plain mkdir's mode
        io.save_arrays(tmp / "model.safetensors", arrays)
        io.write_json(tmp / "state.json", state)
        io.replace_dir(tmp, self.directory)
        self.last_epoch = epoch
        return self.directory

    @staticmethod
    def load(directory: str | Path) -> tuple[dict[str, Any], dict[str, Any]]:
        """(arrays, state) of a checkpoint directory."""
        directory = Path(directory)
        if not (directory / "state.json").is_file() and Path(str(directory) + ".old").is_dir():
            directory = Path(str(directory) + ".old")  # a save was interrupted mid-swap
        if not (directory / "state.json").is_file():
            raise io.ModelFileError(f"no checkpoint in {directory}: nothing to resume")
        try:
            state = json.loads((directory / "state.json").read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise io.ModelFileError(f"{directory / 'state.json'} is corrupted ({exc})") from None
        check_state(directory / "state.json", state)
        return io.load_arrays(directory / "model.safetensors"), state


def check_state(path: Path, state: Any) -> None:
    """Refuse a hand-edited or damaged ``state.json`` in one line naming the file and the field."""
    import numpy as np

    def bad(field: str, want: str, got: Any) -> io.ModelFileError:
        shown = repr(got)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return io.ModelFileError(f"{path}: field {field!r} must be {want}, got {shown}; restore the file or "
                                 "start a new run")

    def count(v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    def generator(v: Any) -> bool:
        try:
            np.random.default_rng().bit_generator.state = v
        except (TypeError, ValueError, KeyError, OverflowError):
            return False
        return isinstance(v, dict) and v.get("bit_generator") == "PCG64"

    if not isinstance(state, dict):
        raise io.ModelFileError(f"{path} must hold a JSON object, got {type(state).__name__}; restore the file "
                                "or start a new run")
    for key in ("epoch", "optimizer", "rng", "history"):
        if key not in state:
            raise io.ModelFileError(f"{path}: field {key!r} is missing; restore the file or start a new run")
    if not count(state["epoch"]):
        raise bad("epoch", "an integer ≥ 0", state["epoch"])
    history = state["history"]
    if not isinstance(history, list) or not all(isinstance(r, dict) for r in history):
        raise bad("history", "a list of per-epoch objects", history)
    if len(history) != state["epoch"]:
        raise bad("epoch", f"the number of epochs in its history ({len(history)})", state["epoch"])
    for i, row in enumerate(history):
        if row.get("epoch") != i + 1 or not all(v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                                                for v in row.values()):
            raise bad(f"history[{i}]", f"epoch {i + 1}'s metrics (numbers)", row)
    if "step_count" in state and not count(state["step_count"]):
        raise bad("step_count", "an integer ≥ 0", state["step_count"])
    o = state["optimizer"]
    if not isinstance(o, dict) or not isinstance(o.get("type"), str) or not isinstance(o.get("hyper"), dict):
        raise bad("optimizer", "an object with type, steps and hyper", o)
    if not count(o.get("steps")):
        raise bad("optimizer.steps", "an integer ≥ 0", o.get("steps"))
    if "step_count" in state and state["step_count"] != o["steps"]:  # one optimizer step per trainer step
        raise bad("step_count", f"the optimizer's step count ({o['steps']})", state["step_count"])
    for k, v in o["hyper"].items():
        items = v if isinstance(v, list) else [v]
        if not all(isinstance(x, str | bool) or (isinstance(x, int | float) and math.isfinite(x)) for x in items):
            raise bad(f"optimizer.hyper.{k}", "a finite number", v)
    if not generator(state["rng"]):
        raise bad("rng", "a PCG64 generator state", state["rng"])
    for key in ("dropout_rngs", "callbacks", "callback_types"):
        if key in state and not isinstance(state[key], list):
            raise bad(key, "a list", state[key])
    for i, g in enumerate(state.get("dropout_rngs", [])):
        if not generator(g):
            raise bad(f"dropout_rngs[{i}]", "a PCG64 generator state", g)
    for i, c in enumerate(state.get("callbacks", [])):
        if not isinstance(c, dict):
            raise bad(f"callbacks[{i}]", "an object", c)
    if not all(isinstance(t, str) for t in state.get("callback_types", [])):
        raise bad("callback_types", "a list of names", state["callback_types"])


class CSVLogger(Callback):
    """Keep ``path`` (history.csv) equal to the finished epochs: one line appended and flushed per epoch.

    ``tail -f`` follows it during training, and a crash mid-run leaves a valid CSV of every
    finished epoch.  Each epoch is one ``write`` of a whole line, then ``flush`` and ``fsync``.
    When a new metric appears (e.g. the first gradient norms), the file is rewritten atomically
    with the wider header.  Add it last, after the callbacks that add metrics to ``logs``.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._columns: list[str] | None = None

    def on_train_begin(self, trainer: Trainer) -> None:
        # the epochs already done: none, or those a resumed checkpoint brought back
        self._columns = None
        if len(trainer.history):
            self._rewrite(trainer.history)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        columns = trainer.history.columns
        if columns != self._columns or not self.path.is_file():
            self._rewrite(trainer.history)
            return
        with self.path.open("a", newline="") as fh:
            fh.write(History.csv_text([logs], columns))
            fh.flush()
            os.fsync(fh.fileno())

    def _rewrite(self, history: History) -> None:
        history.to_csv(self.path)
        self._columns = history.columns


def _mode(monitor: str, mode: str) -> str:
    if mode not in ("auto", "min", "max"):
        raise ValueError(f"mode must be 'auto', 'min' or 'max', got {mode!r}")
    return mode if mode != "auto" else ("max" if "acc" in monitor else "min")


def _best(state: dict[str, Any], mode: str) -> float:
    """The saved best value; strict JSON stores the initial ±inf (nothing better seen yet) as null."""
    best = state["best"]
    return (-math.inf if mode == "max" else math.inf) if best is None else float(best)


def _metric(logs: dict[str, Any], monitor: str, who: str) -> float:
    value = logs.get(monitor)
    if value is None:
        raise ValueError(f"{who} monitors {monitor!r}, which is not among the metrics {sorted(logs)}; "
                         "give validation data or monitor 'loss'")
    return float(value)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when ``monitor`` has not improved for ``patience`` epochs.

    η ← max(η · factor, min_lr), then ``cooldown`` epochs without watching (Keras's callback).  It
    sets ``optimizer.lr`` directly: do not combine it with a learning-rate schedule.
    """

    def __init__(self, monitor: str = "val_loss", factor: float = 0.1, patience: int = 10, mode: str = "auto",
                 min_delta: float = 1e-4, cooldown: int = 0, min_lr: float = 0.0, verbose: int = 0) -> None:
        if not 0.0 < factor < 1.0:
            raise ValueError(f"factor must be in (0, 1), got {factor}")
        self.monitor, self.factor, self.patience, self.min_delta = monitor, factor, patience, min_delta
        self.cooldown, self.min_lr, self.verbose = cooldown, min_lr, verbose
        self.mode = _mode(monitor, mode)
        self.best = -math.inf if self.mode == "max" else math.inf
        self.wait = self.cooldown_counter = 0

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        value = _metric(logs, self.monitor, "ReduceLROnPlateau")
        better = value > self.best + self.min_delta if self.mode == "max" else value < self.best - self.min_delta
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if better:
            self.best, self.wait = value, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = trainer.optimizer.lr
                new = max(old * self.factor, self.min_lr)
                if new < old:
                    trainer.optimizer.lr = new
                    if self.verbose:
                        trainer.log(f"epoch {epoch}: ReduceLROnPlateau reducing learning rate to {new:.4g}")
                self.cooldown_counter, self.wait = self.cooldown, 0

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait, "cooldown_counter": self.cooldown_counter}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.wait, self.cooldown_counter = _best(state, self.mode), state["wait"], state["cooldown_counter"]


class ModelCheckpoint(Callback):
    """Save the model (``fcnet.train.io.save_model``) after each epoch, or only when ``monitor`` improved.

    ``filepath`` is a directory, formatted with the epoch and the metrics (e.g. ``"ckpt/{epoch:02d}"``);
    with ``save_best_only=True`` it holds the best epoch's weights (``best_epoch``, ``best``).  A model trained
    by its ``fit`` after ``compile`` with names is saved with them, so ``Module.load`` compiles it again (as Keras).
    """

    def __init__(self, filepath: str | Path, monitor: str = "val_loss", save_best_only: bool = False,
                 mode: str = "auto", verbose: int = 0) -> None:
        self.filepath, self.monitor, self.save_best_only, self.verbose = str(filepath), monitor, save_best_only, verbose
        self.mode = _mode(monitor, mode)
        self.best = -math.inf if self.mode == "max" else math.inf
        self.best_epoch: int | None = None

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        path = Path(self.filepath.format(**{**logs, "epoch": epoch}))
        if self.save_best_only:
            value = _metric(logs, self.monitor, "ModelCheckpoint")
            if not (value > self.best if self.mode == "max" else value < self.best):
                return
            self.best, self.best_epoch = value, epoch
        compiled = trainer.model.__dict__.get("_compiled")  # Module.compile's names: Module.load compiles again
        names = {"compile": compiled.config} if compiled is not None and compiled.trainer is trainer else {}
        io.save_model(path, trainer.model, extra={"epoch": epoch, **names})
        if self.verbose:
            trainer.log(f"epoch {epoch}: saved the model to {path}")

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "best_epoch": self.best_epoch} if self.save_best_only else {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.best_epoch = _best(state, self.mode), state["best_epoch"]


class LambdaCallback(Callback):
    """A callback from plain functions (Keras's ``LambdaCallback``), e.g.
    ``LambdaCallback(on_epoch_end=lambda trainer, epoch, logs: print(epoch, logs["loss"]))``.

    ``on_epoch_end`` also takes Keras's two-argument form ``lambda epoch, logs: ...``, called as Keras
    calls it, with the epoch's index from 0 (fcnet's epoch e is index e − 1).  The other hooks take
    fcnet's arguments: ``on_train_begin(trainer)``, ``on_batch_end(trainer, step)``,
    ``on_train_end(trainer)``.
    """

    def __init__(self, on_train_begin: Any = None, on_batch_end: Any = None, on_epoch_end: Any = None,
                 on_train_end: Any = None) -> None:
        self._begin, self._batch, self._epoch, self._end = on_train_begin, on_batch_end, on_epoch_end, on_train_end
        self._keras_epoch = on_epoch_end is not None and _positional(on_epoch_end) == 2

    def on_train_begin(self, trainer: Trainer) -> None:
        if self._begin is not None:
            self._begin(trainer)

    def on_batch_end(self, trainer: Trainer, step: int) -> None:
        if self._batch is not None:
            self._batch(trainer, step)

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        if self._keras_epoch:
            self._epoch(epoch - 1, logs)
        elif self._epoch is not None:
            self._epoch(trainer, epoch, logs)

    def on_train_end(self, trainer: Trainer) -> None:
        if self._end is not None:
            self._end(trainer)


def _positional(fn: Any) -> int | None:
    """How many positional parameters ``fn`` takes (None: any number, or not inspectable)."""
    import inspect

    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return None
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return None
    return sum(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)
