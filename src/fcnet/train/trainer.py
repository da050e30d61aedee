"""``Trainer``: mini-batch training with callbacks, history, progress bars and exact resume."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from tqdm.auto import tqdm

import fcnet
from fcnet import backend
from fcnet.data.loader import batches
from fcnet.errors import DataError, DivergenceError, ModelFileError
from fcnet.nn.layers import Dropout
from fcnet.nn.losses import CrossEntropyLoss, regularization
from fcnet.nn.module import Module
from fcnet.optim.clip import clip_grad_norm, clip_grad_value
from fcnet.optim.optimizer import Optimizer
from fcnet.train.callbacks import Callback, Checkpoint
from fcnet.train.history import History

__all__ = ["Trainer", "fit"]


class Trainer:
    """Trains ``model`` with ``optimizer`` on mini-batches: L = (1/N) Σ L_i + λ R(W).

    Args:
        model: the network (a ``Module``).
        optimizer: an ``fcnet.optim`` optimizer over ``model.parameters()``.
        loss: a loss module (``CrossEntropyLoss()`` by default).
        l2, l1: regularisation strengths λ on the weight matrices.
        clip_norm, clip_value: gradient clipping (slide 88), off when None.
        callbacks: ``Callback`` objects (early stopping, checkpoint, schedules, monitor).
        seed: seeds the shuffling generator (dropout masks come from the model's own generator).
        progress: show tqdm progress bars and a line per epoch.  ``progress=False`` without ``log``
            prints nothing at all (Keras's ``verbose=0``); ``fit(verbose=2)`` then prints one line per epoch.
        log: where messages go (``print`` to stderr by default, nothing with ``progress=False``).
        augment: called on each training mini-batch as ``augment(x_batch, rng)`` with the
            shuffling generator, returns the batch to train on (e.g. ``fcnet.data.ImageAugment``);
            evaluation never sees it.
        time_budget: stop training once ``time_used`` reaches this many seconds (None: no limit).
            ``time_used`` is the wall time spent in ``fit`` (training, validation, callbacks),
            summed over calls and resumes; where the run stops then depends on the machine's
            speed, so a time-budgeted run is not bit-reproducible across machines or loads.
    """

    def __init__(self, model: Module, optimizer: Optimizer, loss: Module | None = None, *,
                 l2: float = 0.0, l1: float = 0.0, clip_norm: float | None = None,
                 clip_value: float | None = None, callbacks: Sequence[Callback] = (), seed: int = 0,
                 progress: bool = True, log: Callable[[str], None] | None = None,
                 time_budget: float | None = None,
                 augment: Callable[[Any, np.random.Generator], Any] | None = None) -> None:
        self.model, self.optimizer = model, optimizer
        self.loss_fn = loss if loss is not None else CrossEntropyLoss()
        self.l2, self.l1, self.clip_norm, self.clip_value = l2, l1, clip_norm, clip_value
        self.callbacks = list(callbacks)
        self.rng = np.random.default_rng(seed)
        self.shuffle = True  # False: mini-batches in the data's order (scikit-learn's shuffle=False)
        self.progress = progress
        self._log = log or (_stderr if progress else _quiet)
        self.history = History()
        self.epoch = 0  # completed epochs
        self.step_count = 0
        self.stop_training = False
        self.log_epochs = True  # one line per epoch (False: only warnings and notes, e.g. --quiet)
        self.params = model.parameters()
        self.device = backend.device_of(self.params[0].data)
        self.sync_every = 50  # GPU: steps between host synchronisations of loss and accuracy
        if time_budget is not None and not time_budget > 0:
            raise ValueError(f"time_budget must be positive seconds, got {time_budget}")
        self.time_budget = time_budget
        self.augment = augment
        self._time_before = 0.0  # seconds of fit before the current call (and before a resume)
        self._fit_start: float | None = None
        self.clock: Callable[[], float] = time.perf_counter  # seconds; replaceable (tests, simulated time)

    @property
    def time_used(self) -> float:
        """Seconds spent in ``fit`` so far, across calls and resumes."""
        if self._fit_start is None:
            return self._time_before
        return self._time_before + (self.clock() - self._fit_start)

    def _budget_spent(self) -> bool:
        return self.time_budget is not None and self.time_used >= self.time_budget

    def log(self, msg: str) -> None:
        """Report a message (above the progress bar), flushed at once.

        A stream redirected to a file is block-buffered: without the flush, ``tail -f`` of the
        log would show nothing until training ends.
        """
        if self.progress:
            tqdm.write(msg, file=sys.stderr)
        else:
            self._log(msg)
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()

    # --- one epoch ---------------------------------------------------------------------------
    def train_epoch(self, x: np.ndarray, y: np.ndarray, batch_size: int, desc: str = "") -> dict[str, float]:
        """One pass over (x, y) in shuffled mini-batches; returns mean loss and accuracy.

        On the CPU the loss is checked after every step; on a GPU, loss and accuracy stay on
        the device and are synchronised every ``sync_every`` steps (no per-step round trip).
        """
        self.model.train()
        xp = backend.xp_of(self.params[0].data)
        on_host = xp is np
        x, y = backend.to_device(x, self.device), backend.to_device(y, self.device)
        n = len(y)
        t0 = time.perf_counter()
        bar = (tqdm(total=n, desc=desc, unit="samples", leave=False, mininterval=0.5, file=sys.stderr)
               if self.progress else None)
        # batch norm cannot normalise one sample (no variance): a last batch of one is left out of
        # this epoch, as DataLoader(drop_last=True) would; the shuffle puts it elsewhere next epoch
        drop_last = n > batch_size and n % batch_size == 1 and self._has_batchnorm()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # divergence is reported once, below
            loss_sum, correct, seen = self._epoch_steps(x, y, batch_size, drop_last, bar, on_host, t0)
        if bar is not None:
            bar.close()
        total = float(loss_sum)
        if not math.isfinite(total):
            self._diverged(total)
        if not self._weights_finite():  # the last step of the epoch may break the weights, the loss after it
            self._diverged(float("nan"), "the weights became NaN or infinite")
        secs = time.perf_counter() - t0
        acc = int(correct) / max(seen, 1) if y.ndim == 1 else float("nan")
        return {"loss": total / max(seen, 1), "accuracy": acc, "time": secs,
                "samples_per_s": seen / secs if secs > 0 else float("nan")}

    def _has_batchnorm(self) -> bool:
        from fcnet.nn.layers import BatchNorm1d

        return any(isinstance(m, BatchNorm1d) for m in self.model.modules())

    def _weights_finite(self) -> bool:
        xp = backend.xp_of(self.params[0].data)
        return all(bool(xp.isfinite(p.data).all()) for p in self.params)

    def _epoch_steps(self, x: Any, y: Any, batch_size: int, drop_last: bool, bar: Any, on_host: bool,
                     t0: float) -> tuple[Any, Any, int]:
        model, opt, loss_fn = self.model, self.optimizer, self.loss_fn
        n = len(y)
        loss_sum: Any = 0.0
        correct: Any = 0
        seen = 0
        for i, (xb, yb) in enumerate(batches(x, y, batch_size, self.rng if self.shuffle else None, drop_last,
                                                  reuse=True)):
            if self.augment is not None:  # drawn from the shuffling generator: a checkpoint resumes the draws
                xb = self.augment(xb, self.rng)
            opt.zero_grad()
            scores = model(fcnet.Tensor(xb, _raw=True))
            loss = loss_fn(scores, yb)
            if self.l2 or self.l1:
                loss = loss + regularization(model, self.l2, self.l1)
            loss.backward()
            if self.clip_value:
                clip_grad_value(self.params, self.clip_value)
            if self.clip_norm:
                clip_grad_norm(self.params, self.clip_norm)
            b = len(yb)
            if on_host:
                value = float(loss.data)
                if not math.isfinite(value):
                    self._diverged(value)
                loss_sum += value * b
            else:
                loss_sum = loss_sum + loss.data * b
                if (i + 1) % self.sync_every == 0 and not math.isfinite(float(loss_sum)):
                    self._diverged(float(loss_sum))
            opt.step()
            self.step_count += 1
            if yb.ndim == 1:  # class indices; regression targets (N, K) have no accuracy
                correct = correct + (scores.data.argmax(axis=1) == yb).sum()
            seen += b
            for cb in self.callbacks:
                cb.on_batch_end(self, self.step_count)
            if self.time_budget is not None and self._budget_spent():
                self.stop_training = True  # the budget ends the epoch here, after a whole step
                break
            if bar is not None:
                bar.update(b)
                if bar.n == n or seen % (20 * batch_size) < b:
                    bar.set_postfix(loss=f"{float(loss_sum) / seen:.4f}", acc=f"{int(correct) / seen:.3f}",
                                    rate=f"{seen / (time.perf_counter() - t0):.0f}/s", refresh=False)
        return loss_sum, correct, seen

    def _diverged(self, value: float, what: str | None = None) -> None:
        ckpt = next((cb for cb in self.callbacks if isinstance(cb, Checkpoint)), None)
        last = (f"the last good checkpoint (epoch {ckpt.last_epoch}) is {ckpt.directory}"
                if ckpt is not None and ckpt.last_epoch is not None else "no checkpoint was saved yet")
        raise DivergenceError(
            f"training diverged in epoch {self.epoch + 1} ({what or f'loss {value}'}); {last}; "
            "try a lower learning rate (e.g. --lr divided by 10) or gradient clipping (--clip-norm 5)"
        )

    # --- fit -------------------------------------------------------------------------------
    def fit(self, x: np.ndarray, y: np.ndarray, epochs: int | None, batch_size: int | None = 128,
            validation_data: tuple[np.ndarray, np.ndarray] | None = None, *, validation_split: float = 0.0,
            verbose: int | str | None = None, initial_epoch: int | None = None,
            callbacks: Sequence[Callback] = (), shuffle: bool | None = None) -> History:
        """Train as Keras's ``Model.fit`` does; returns the ``History`` of every epoch so far.

        A second ``fit`` continues from the weights, optimizer state and epoch count where the first
        stopped, like Keras: ``initial_epoch=None`` trains ``epochs`` more epochs (epochs
        ``self.epoch + 1 … self.epoch + epochs``); ``initial_epoch=k`` (Keras's meaning) numbers the
        epochs from k and trains until epoch ``epochs`` — resuming a checkpoint saved after epoch k of
        a 30-epoch run is ``fit(x, y, 30, initial_epoch=k)``.

        An ``initial_epoch`` below the epochs done drops the history rows after it (those epochs
        are trained again).  ``verbose='auto'`` (Keras's default) is 1.

        ``validation_split`` holds out the last fraction of (x, y) (taken before shuffling, as
        Keras does: the first ⌊N (1 − split)⌋ rows train, the other rows validate) unless
        ``validation_data`` is given.  ``verbose``: 0 silent, 1 a progress bar
        (on a terminal) and one line per epoch, 2 one line per epoch; None: the trainer's
        ``progress`` setting.  ``callbacks`` are added for this call only.  ``shuffle`` (Keras's):
        False trains this call's mini-batches in the data's order; None: the trainer's ``shuffle``.
        ``batch_size=None`` is Keras's default, 32.  Ctrl-C stops at once;
        the last checkpoint (saved at an epoch boundary) resumes exactly.

        With a ``time_budget``, training also stops when the budget is used up, within the
        epoch; ``epochs=None`` trains until then.
        """
        if epochs is None and self.time_budget is None:
            raise ValueError("epochs=None trains until the time budget is used: give epochs or time_budget")
        if batch_size is None:
            batch_size = 32
        if not isinstance(batch_size, int | np.integer) or isinstance(batch_size, bool) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
        last: int | None
        if initial_epoch is not None:
            if not 0 <= initial_epoch <= (initial_epoch if epochs is None else epochs):
                raise ValueError(f"initial_epoch must be in [0, epochs={epochs}], got {initial_epoch}")
            self.epoch, last = int(initial_epoch), None if epochs is None else int(epochs)
            # epochs after initial_epoch are trained again under their numbers: their old rows go
            self.history = History([r for r in self.history.rows if r.get("epoch", 0) <= self.epoch])
        elif epochs is None:
            last = None
        else:
            if epochs <= 0:
                raise ValueError(f"epochs must be positive, got {epochs}")
            last = self.epoch + int(epochs)
        if len(x) != len(y):
            raise DataError(f"x has {len(x)} rows but y has {len(y)} labels: give one label per row")
        if validation_data is not None and len(validation_data[0]) != len(validation_data[1]):
            raise DataError(f"validation x has {len(validation_data[0])} rows but y has "
                            f"{len(validation_data[1])} labels: give one label per row")
        if not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {validation_split}")
        if validation_split and validation_data is None:
            # Keras's split: the first ⌊N (1 − split)⌋ rows train, the rest validate
            n_val = len(y) - math.floor(len(y) * (1.0 - validation_split))
            if n_val < 1 or n_val >= len(y):
                raise ValueError(f"validation_split={validation_split} of {len(y)} samples leaves "
                                 f"{n_val} for validation: give a split that holds out at least 1 and keeps 1")
            x, y, validation_data = x[:-n_val], y[:-n_val], (x[-n_val:], y[-n_val:])
        progress, log = self.progress, self._log
        if verbose == "auto":  # Keras's default
            verbose = 1
        if verbose is not None:
            if verbose not in (0, 1, 2):
                raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
            self.progress = verbose == 1 and sys.stderr is not None and sys.stderr.isatty()
            if verbose == 0:
                self._log = _quiet
            elif self._log is _quiet:
                self._log = _stderr
        extra = [cb for cb in callbacks if cb not in self.callbacks]
        self.callbacks.extend(extra)
        shuffled = self.shuffle
        if shuffle is not None:
            self.shuffle = bool(shuffle)
        try:
            self._fit(x, y, last, int(batch_size), validation_data)
        finally:
            for cb in extra:
                self.callbacks.remove(cb)
            self.progress, self._log, self.shuffle = progress, log, shuffled
        return self.history

    def _fit(self, x: np.ndarray, y: np.ndarray, epochs: int | None, batch_size: int,
             validation_data: tuple[np.ndarray, np.ndarray] | None) -> None:
        self.stop_training = False  # before the callbacks: a resumed early stop may set it again
        for cb in self.callbacks:
            cb.on_train_begin(self)
        x, y = backend.to_device(x, self.device), backend.to_device(y, self.device)  # moved once, kept there
        if validation_data is not None:
            validation_data = (backend.to_device(validation_data[0], self.device), validation_data[1])
        if self.time_budget is not None and self.device == "cpu":
            from fcnet import kernels

            kernels.warm_up(self.params[0].dtype)  # compiling (or loading) the kernels is set-up, not training
        self._fit_start = self.clock()
        try:
            self._fit_epochs(x, y, epochs, batch_size, validation_data)
        finally:
            self._time_before, self._fit_start = self.time_used, None
        for cb in self.callbacks:
            cb.on_train_end(self)

    def _fit_epochs(self, x: Any, y: Any, epochs: int | None, batch_size: int,
                    validation_data: tuple[Any, Any] | None) -> None:
        while (epochs is None or self.epoch < epochs) and not self.stop_training and not self._budget_spent():
            e = self.epoch + 1
            logs: dict[str, Any] = {"epoch": e, "lr": self.optimizer.lr}
            desc = f"epoch {e}/{epochs}" if epochs is not None else f"epoch {e}"
            if self.time_budget is not None:
                desc += f" ({self.time_used:.0f}/{self.time_budget:g} s)"
            logs.update(self.train_epoch(x, y, batch_size, desc=desc))
            if validation_data is not None:
                v = self.evaluate(*validation_data, batch_size=max(batch_size, 1024))
                logs["val_loss"], logs["val_accuracy"] = v["loss"], v["accuracy"]
            if self.time_budget is not None:
                logs["time_used"] = self.time_used
            self.epoch = e
            self.history.append(logs)  # the same dict: callbacks may still add metrics to it
            for cb in self.callbacks:
                cb.on_epoch_end(self, e, logs)
            if self._log is _quiet and not self.progress:
                continue
            keys = ("loss", "accuracy", "val_loss", "val_accuracy")
            shown = [f"{k} {logs[k]:.4f}" for k in keys if k in logs and not math.isnan(logs[k])]  # NaN: regression
            msg = (f"epoch {e}/{epochs}: " if epochs is not None else f"epoch {e}: ") + ", ".join(shown)
            if self.time_budget is not None:
                msg += f" ({logs['time']:.1f} s; {self.time_used:.1f} of {self.time_budget:g} s used)"
            else:
                msg += f" ({logs['time']:.1f} s)"
            if self.log_epochs:
                self.log(msg)

    # --- evaluation ------------------------------------------------------------------------
    def predict_proba(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Softmax probabilities (N, C) in evaluation mode."""
        return predict_proba(self.model, x, batch_size)

    def predict(self, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
        """Predicted class indices (N,)."""
        return self.predict_proba(x, batch_size).argmax(axis=1)

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 1024, predictions: bool = False) -> Any:
        """Mean loss and accuracy in evaluation mode (and the predictions, if asked)."""
        return evaluate(self.model, self.loss_fn, x, y, batch_size, predictions)

    # --- state -----------------------------------------------------------------------------
    def state_dict(self) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """(arrays, JSON state) capturing model, optimizer, RNGs, callbacks and history."""
        arrays = {f"model.{k}": v for k, v in self.model.state_dict().items()}
        osd = self.optimizer.state_dict()
        arrays.update({f"optim.{k}": v for k, v in osd["state"].items()})
        for j, (cb, _) in enumerate(self._stateful_callbacks()):
            arrays.update({f"callback.{j}.{k}": v for k, v in cb.state_arrays().items()})
        dropout_rngs = [m.rng.bit_generator.state for m in self.model.modules()
                        if isinstance(m, Dropout) and m.rng is not None]
        state = {
            "epoch": self.epoch, "step_count": self.step_count, "time_used": self.time_used,
            "optimizer": {"type": osd["type"], "steps": osd["steps"], "hyper": osd["hyper"]},
            "rng": self.rng.bit_generator.state,
            "dropout_rngs": dropout_rngs,
            "callbacks": [cb.state_dict() for cb in self.callbacks],
            "callback_types": [type(cb).__name__ for cb in self.callbacks],
            "history": [dict(r) for r in self.history.rows],
        }
        return arrays, state

    def load_state_dict(self, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        """Restore what ``state_dict`` returned, all or nothing.

        Everything is checked before anything changes: a checkpoint whose model, optimizer,
        dropout generators or callbacks do not match this trainer's raises a one-line
        ``ModelFileError`` and leaves the trainer as it was (no half-restored run).
        """
        self._check_state(arrays, state)
        self.model.load_state_dict({k[6:]: v for k, v in arrays.items() if k.startswith("model.")})
        o = state["optimizer"]
        hyper = dict(o["hyper"])
        if "betas" in hyper:
            hyper["betas"] = tuple(hyper["betas"])
        self.optimizer.load_state_dict({"type": o["type"], "steps": o["steps"], "hyper": hyper,
                                        "state": {k[6:]: v for k, v in arrays.items() if k.startswith("optim.")}})
        self.rng.bit_generator.state = state["rng"]
        for m, s in zip(self._dropout_modules(), state.get("dropout_rngs", []), strict=True):
            m.rng.bit_generator.state = s
        for j, ((cb, _), (_, s)) in enumerate(zip(self._stateful_callbacks(), _saved_callbacks(state), strict=True)):
            cb.load_state_dict(s)
            prefix = f"callback.{j}."
            cb.load_state_arrays({k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)})
        # strict JSON stores NaN (e.g. no accuracy for regression targets) as null
        self.history = History([{k: math.nan if v is None else v for k, v in r.items()}
                                for r in state.get("history", [])])
        self.epoch = int(state["epoch"])
        self.step_count = int(state.get("step_count", 0))
        self._time_before = float(state.get("time_used", 0.0))

    def _dropout_modules(self) -> list[Dropout]:
        return [m for m in self.model.modules() if isinstance(m, Dropout) and m.rng is not None]

    def _check_state(self, arrays: dict[str, np.ndarray], state: dict[str, Any]) -> None:
        """Raise ModelFileError (one line) unless the checkpoint fits this trainer in every part."""

        def refuse(what: str) -> None:
            raise ModelFileError(f"the checkpoint does not fit this run: {what}; resume with the options it "
                                 "was saved with (the run's config.toml)")

        missing = [k for k in ("epoch", "optimizer", "rng") if k not in state]
        if missing:
            refuse(f"its state has no {', '.join(missing)} (corrupted, or written by another program)")
        own = {k: tuple(v.shape) for k, v in self.model.state_dict().items()}
        saved = {k[6:]: tuple(v.shape) for k, v in arrays.items() if k.startswith("model.")}
        if own != saved:
            diff = sorted(set(own) ^ set(saved)) or [k for k in own if own[k] != saved[k]]
            refuse(f"the model differs ({', '.join(diff[:3])}; its shape is set by hidden, batchnorm and dropout)")
        kind = type(self.optimizer).__name__
        if state["optimizer"].get("type", kind) != kind:
            refuse(f"it was saved with optimizer {state['optimizer']['type']}, this run uses {kind}")
        shapes = [tuple(p.shape) for p in self.params]
        for k, v in arrays.items():
            if k.startswith("optim."):
                i = int(k[6:].split(".", 1)[0])
                if i >= len(shapes) or tuple(v.shape) != shapes[i]:
                    refuse(f"optimizer state {k[6:]!r} does not fit parameter {i}")
        n_drop, s_drop = len(self._dropout_modules()), len(state.get("dropout_rngs", []))
        if n_drop != s_drop:
            refuse(f"it holds {s_drop} dropout generators, this model has {n_drop}")
        # callbacks with state (early stopping, schedules) must match one to one, in order; those
        # without (checkpoint, CSV log, gradient monitor) have nothing to restore and may differ
        own_names = [name for _, name in self._stateful_callbacks()]
        saved_names = [name for name, _ in _saved_callbacks(state)]
        if saved_names != own_names and (len(saved_names) != len(own_names) or "?" not in saved_names):
            refuse(f"it was saved with the callbacks [{', '.join(saved_names)}], this run has "
                   f"[{', '.join(own_names)}]")

    def _stateful_callbacks(self) -> list[tuple[Callback, str]]:
        return [(cb, type(cb).__name__) for cb in self.callbacks if cb.state_dict()]


def _saved_callbacks(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(type name, state) of the checkpoint's callbacks that have state ("?": a name not recorded)."""
    states = state.get("callbacks", [])
    names = state.get("callback_types") or ["?"] * len(states)
    return [(name, s) for name, s in zip(names, states, strict=False) if s]


def _quiet(msg: str) -> None:
    """``verbose=0``: no per-epoch lines."""


def _stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def predict_proba(model: Module, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Softmax probabilities of ``model`` (evaluation mode, no graph)."""
    from fcnet.functional import softmax

    was = model.training
    model.eval()
    xp = backend.xp_of(model.parameters()[0].data)
    out = []
    with fcnet.no_grad():
        for xb, _ in batches(x, np.zeros(len(x)), batch_size):
            out.append(backend.to_numpy(softmax(model(fcnet.Tensor(xp.asarray(xb), _raw=True)), axis=1).data))
    model.train(was)
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def evaluate(model: Module, loss_fn: Module, x: np.ndarray, y: np.ndarray, batch_size: int = 1024,
             predictions: bool = False) -> Any:
    """Mean loss and accuracy of ``model`` on (x, y) in evaluation mode.

    With ``predictions=True`` returns ``(metrics, predicted classes)`` from the same pass.
    """
    was = model.training
    model.eval()
    xp = backend.xp_of(model.parameters()[0].data)
    total = 0.0
    preds = []
    with fcnet.no_grad(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # NaN: reported by callers
        for xb, yb in batches(x, y, batch_size):
            scores = model(fcnet.Tensor(xp.asarray(xb), _raw=True))
            total += float(loss_fn(scores, yb).data) * len(yb)
            preds.append(backend.to_numpy(scores.data.argmax(axis=1)))
    model.train(was)
    pred = np.concatenate(preds) if preds else np.zeros(0, np.int64)
    n = max(len(y), 1)
    acc = int((pred == np.asarray(y)).sum()) / n if np.ndim(y) == 1 else float("nan")  # NaN: regression targets
    metrics = {"loss": total / n, "accuracy": acc}
    return (metrics, pred) if predictions else metrics


def fit(model: Module, x: np.ndarray, y: np.ndarray, *, optimizer: Optimizer, epochs: int,
        batch_size: int = 128, validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        validation_split: float = 0.0, verbose: int | None = None, **kwargs: Any) -> History:
    """Keras-style one call: ``Trainer(model, optimizer, **kwargs).fit(...)``."""
    return Trainer(model, optimizer, **kwargs).fit(x, y, epochs, batch_size, validation_data,
                                                   validation_split=validation_split, verbose=verbose)
