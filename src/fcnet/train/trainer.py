"""``Trainer``: mini-batch training with callbacks, history, progress bars and exact resume."""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

import fcnet
from fcnet import backend
from fcnet.data.loader import batches
from fcnet.errors import DataError, DivergenceError, ModelFileError
from fcnet.nn.layers import Dropout, Linear
from fcnet.nn.losses import BCEWithLogitsLoss, CrossEntropyLoss, check_weightable, regularization, weighted_loss
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
        # this fit call's row weights (training, validation), validation batch size and frequency
        self._weights: np.ndarray | None = None
        self._val_weights: np.ndarray | None = None
        self._val_batch: int | None = None
        self._val_freq = 1

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
            from tqdm.auto import tqdm  # only with progress bars: `--quiet` and the other commands skip its import

            tqdm.write(msg, file=sys.stderr)
        else:
            self._log(msg)
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()

    # --- one epoch ---------------------------------------------------------------------------
    def train_epoch(self, x: np.ndarray, y: np.ndarray, batch_size: int, desc: str = "",
                    sample_weight: np.ndarray | None = None) -> dict[str, float]:
        """One pass over (x, y) in shuffled mini-batches; returns mean loss and accuracy.

        With ``sample_weight`` (N,) each batch's loss is (1/B) Σ_i w_i L_i (``weighted_loss``) and the
        accuracy Σ w_i [ŷ_i = y_i] / Σ w_i, as Keras weighs its metrics.  On the CPU the loss is checked
        after every step; on a GPU, loss and accuracy stay on the device and are synchronised every
        ``sync_every`` steps (no per-step round trip).
        """
        self.model.train()
        xp = backend.xp_of(self.params[0].data)
        on_host = xp is np
        x, y = backend.to_device(x, self.device), backend.to_device(y, self.device)
        w = None if sample_weight is None else backend.to_device(sample_weight, self.device)
        n = len(y)
        t0 = time.perf_counter()
        bar = None
        if self.progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=n, desc=desc, unit="samples", leave=False, mininterval=0.5, file=sys.stderr)
        # batch norm cannot normalise one sample (no variance): a last batch of one is left out of
        # this epoch, as DataLoader(drop_last=True) would; the shuffle puts it elsewhere next epoch
        drop_last = n > batch_size and n % batch_size == 1 and self._has_batchnorm()
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # divergence is reported once, below
            loss_sum, correct, seen, weight = self._epoch_steps(x, y, w, batch_size, drop_last, bar, on_host, t0)
        if bar is not None:
            bar.close()
        total = float(loss_sum)
        if not math.isfinite(total):
            self._diverged(total)
        if not self._weights_finite():  # the last step of the epoch may break the weights, the loss after it
            self._diverged(float("nan"), "the weights became NaN or infinite")
        secs = time.perf_counter() - t0
        if y.ndim != 1 and not _binary(self.loss_fn, y):  # regression targets (N, K) have no accuracy
            acc = float("nan")
        elif w is None:
            acc = int(correct) / max(seen, 1)
        else:
            acc = float(correct) / float(weight) if float(weight) > 0 else float("nan")
        return {"loss": total / max(seen, 1), "accuracy": acc, "time": secs,
                "samples_per_s": seen / secs if secs > 0 else float("nan")}

    def _has_batchnorm(self) -> bool:
        from fcnet.nn.layers import BatchNorm1d

        return any(isinstance(m, BatchNorm1d) for m in self.model.modules())

    def _weights_finite(self) -> bool:
        xp = backend.xp_of(self.params[0].data)
        return all(bool(xp.isfinite(p.data).all()) for p in self.params)

    def _epoch_steps(self, x: Any, y: Any, w: Any, batch_size: int, drop_last: bool, bar: Any, on_host: bool,
                     t0: float) -> tuple[Any, Any, int, Any]:
        model, opt, loss_fn = self.model, self.optimizer, self.loss_fn
        n = len(y)
        loss_sum: Any = 0.0
        correct: Any = 0
        weight: Any = 0.0  # Σ w over the rows seen (weighted accuracy)
        seen = 0
        binary = _binary(loss_fn, y)
        for i, (xb, yb, wb) in enumerate(_batches(x, y, w, batch_size, self.rng if self.shuffle else None,
                                                  drop_last)):
            if self.augment is not None:  # drawn from the shuffling generator: a checkpoint resumes the draws
                xb = self.augment(xb, self.rng)
            opt.zero_grad()
            scores = model(fcnet.Tensor(xb, _raw=True))
            loss = loss_fn(scores, yb) if wb is None else weighted_loss(loss_fn, scores, yb, wb)
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
            if yb.ndim == 1 or binary:  # class indices, one 0/1 output; regression targets have no accuracy
                hit = scores.data.argmax(axis=1) == yb if not binary else (scores.data[:, 0] > 0) == (yb[:, 0] > 0.5)
                correct = correct + (hit.sum() if wb is None else (wb * hit).sum())
            if wb is not None:
                weight = weight + wb.sum()
            seen += b
            for cb in self.callbacks:
                cb.on_batch_end(self, self.step_count)
            if self.time_budget is not None and self._budget_spent():
                self.stop_training = True  # the budget ends the epoch here, after a whole step
                break
            if bar is not None:
                bar.update(b)
                if bar.n == n or seen % (20 * batch_size) < b:
                    shown = float(correct) / (seen if wb is None else max(float(weight), 1e-300))
                    bar.set_postfix(loss=f"{float(loss_sum) / seen:.4f}", acc=f"{shown:.3f}",
                                    rate=f"{seen / (time.perf_counter() - t0):.0f}/s", refresh=False)
        return loss_sum, correct, seen, weight

    def _diverged(self, value: float, what: str | None = None) -> None:
        ckpt = next((cb for cb in self.callbacks if isinstance(cb, Checkpoint)), None)
        last = (f"the last good checkpoint (epoch {ckpt.last_epoch}) is {ckpt.directory}"
                if ckpt is not None and ckpt.last_epoch is not None else "no checkpoint was saved yet")
        raise DivergenceError(
            f"training diverged in epoch {self.epoch + 1} ({what or f'loss {value}'}); {last}; "
            "try a lower learning rate (e.g. --lr divided by 10) or gradient clipping (--clip-norm 5)"
        )

    # --- fit -------------------------------------------------------------------------------
    def fit(self, x: np.ndarray, y: np.ndarray, batch_size: int | None = None, epochs: int | None = 1,
            verbose: int | str | None = None, callbacks: Sequence[Callback] | None = None,
            validation_split: float = 0.0, validation_data: tuple[Any, ...] | None = None,
            shuffle: bool | None = None, class_weight: Mapping[int, float] | None = None,
            sample_weight: np.ndarray | None = None, initial_epoch: int | None = None,
            steps_per_epoch: None = None, validation_steps: None = None,
            validation_batch_size: int | None = None, validation_freq: int = 1) -> History:
        """Train as Keras 3's ``Model.fit`` does, its arguments in its order; returns the ``History`` so far.

        ``fit(x, y, 32, 10)`` is 10 epochs of mini-batches of 32, as in Keras (until this change the third
        argument was ``epochs``).  Defaults are Keras's: ``batch_size=None`` is 32, ``epochs=1``.

        A second ``fit`` continues from the weights, optimizer state and epoch count where the first
        stopped, like Keras: ``initial_epoch=None`` (fcnet's default, where Keras's is 0) trains ``epochs``
        more epochs (epochs ``self.epoch + 1 … self.epoch + epochs``; on a new trainer that is Keras's 0);
        ``initial_epoch=k`` (Keras's meaning) numbers the epochs from k and trains until epoch ``epochs`` —
        resuming a checkpoint saved after epoch k of a 30-epoch run is ``fit(x, y, epochs=30,
        initial_epoch=k)``.  An ``initial_epoch`` below the epochs done drops the history rows after it
        (those epochs are trained again).

        Weights: the loss of a batch of B rows is (1/B) Σ_i w_i L_i (Keras's ``sum_over_batch_size``),
        w_i = ``sample_weight[i]`` (shape (N,)) × ``class_weight[y_i]`` (a class missing from the dict
        weighs 1, as in Keras; y_i is round(y_i) for (N, 1) targets and the argmax of one-hot rows); the
        reported loss and accuracy are weighted the same way.  Keras 3 refuses ``class_weight`` with
        ``sample_weight``; here they multiply, as in tf.keras 2 and scikit-learn.
        ``class_weight`` weighs training rows only; ``validation_data`` may be ``(x, y)`` or
        ``(x, y, sample_weight)``, and ``validation_split`` splits ``sample_weight`` with the rows.

        ``validation_split`` holds out the last fraction of (x, y) (taken before shuffling, as
        Keras does: the first ⌊N (1 − split)⌋ rows train, the other rows validate) unless
        ``validation_data`` is given; it is evaluated in batches of ``validation_batch_size``
        (None: max(batch_size, 1024)) after every ``validation_freq``-th epoch (epoch e with
        e % validation_freq == 0, as Keras).  ``verbose``: 0 silent, 1 (and Keras's ``'auto'``) a progress
        bar (on a terminal) and one line per epoch, 2 one line per epoch; None (fcnet's default): the
        trainer's ``progress`` setting, which is 1 unless ``Trainer(progress=False)``.  ``callbacks``
        are added for this call only.  ``shuffle``: False trains this call's mini-batches in the data's
        order; None (fcnet's default): the trainer's ``shuffle``, True unless changed.
        ``steps_per_epoch`` and ``validation_steps`` are Keras's for data sets without a length: fcnet
        takes arrays and trains whole epochs, so they must stay None.  Ctrl-C stops at once; the last
        checkpoint (saved at an epoch boundary) resumes exactly.

        With a ``time_budget``, training also stops when the budget is used up, within the
        epoch; ``epochs=None`` trains until then.
        """
        if steps_per_epoch is not None or validation_steps is not None:
            raise ValueError("steps_per_epoch and validation_steps are for data sets without a length; fcnet "
                             "trains whole epochs over arrays: leave them None (choose batch_size instead)")
        if epochs is None and self.time_budget is None:
            raise ValueError("epochs=None trains until the time budget is used: give epochs or time_budget")
        if epochs is not None and (not isinstance(epochs, int | np.integer) or isinstance(epochs, bool)):
            raise ValueError(f"epochs must be a whole number of epochs, got {epochs!r} (Keras's order is "
                             "fit(x, y, batch_size, epochs))")
        batch_size = _positive_int(32 if batch_size is None else batch_size, "batch_size")
        validation_batch_size = _positive_int(max(batch_size, 1024) if validation_batch_size is None
                                              else validation_batch_size, "validation_batch_size")
        validation_freq = _positive_int(validation_freq, "validation_freq")
        if verbose == "auto":  # Keras's default
            verbose = 1
        if verbose is not None and verbose not in (0, 1, 2):
            raise ValueError(f"verbose must be 0, 1, 2 or 'auto', got {verbose!r}")
        last: int | None
        if initial_epoch is not None:
            if not isinstance(initial_epoch, int | np.integer) or isinstance(initial_epoch, bool) \
                    or not 0 <= initial_epoch <= (initial_epoch if epochs is None else epochs):
                raise ValueError(f"initial_epoch must be a whole number in [0, epochs={epochs}], got {initial_epoch!r}")
        elif epochs is None:
            last = None
        elif epochs <= 0:
            raise ValueError(f"epochs must be positive, got {epochs}")
        if len(x) != len(y):
            raise DataError(f"x has {len(x)} rows but y has {len(y)} labels: give one label per row")
        weights = None if sample_weight is None else _sample_weight(sample_weight, len(y), "sample_weight")
        val_weights = None
        if validation_data is not None:
            if not isinstance(validation_data, tuple | list) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, y_val, sample_weight)")
            if len(validation_data[0]) != len(validation_data[1]):
                raise DataError(f"validation x has {len(validation_data[0])} rows but y has "
                                f"{len(validation_data[1])} labels: give one label per row")
            if len(validation_data) == 3 and validation_data[2] is not None:
                val_weights = _sample_weight(validation_data[2], len(validation_data[1]), "validation sample_weight")
            validation_data = (validation_data[0], validation_data[1])
        if not isinstance(validation_split, int | float | np.integer | np.floating) \
                or isinstance(validation_split, bool) or not 0.0 <= validation_split < 1.0:
            raise ValueError(f"validation_split must be a number in [0, 1), got {validation_split!r}")
        if validation_split and validation_data is None:
            # Keras's split: the first ⌊N (1 − split)⌋ rows train, the rest validate (their weights with them)
            n_val = len(y) - math.floor(len(y) * (1.0 - validation_split))
            if n_val < 1 or n_val >= len(y):
                raise ValueError(f"validation_split={validation_split} of {len(y)} samples leaves "
                                 f"{n_val} for validation: give a split that holds out at least 1 and keeps 1")
            x, y, validation_data = x[:-n_val], y[:-n_val], (x[-n_val:], y[-n_val:])
            if weights is not None:
                weights, val_weights = weights[:-n_val], weights[-n_val:]
        if class_weight is not None:
            per_class = _class_weights(class_weight, y, self._n_outputs())
            weights = per_class if weights is None else weights * per_class
        if weights is not None or val_weights is not None:
            check_weightable(self.loss_fn)
        extra = [cb for cb in (callbacks or ()) if cb not in self.callbacks]
        if validation_freq > 1 and validation_data is not None:
            watching = [cb for cb in [*self.callbacks, *extra] if str(getattr(cb, "monitor", "")).startswith("val_")]
            if watching:
                raise ValueError(f"validation_freq={validation_freq} leaves the validation metrics out of most "
                                 f"epochs, and {type(watching[0]).__name__} monitors {watching[0].monitor!r}: "
                                 "use validation_freq=1 or monitor 'loss'")
        if initial_epoch is not None:
            self.epoch, last = int(initial_epoch), None if epochs is None else int(epochs)
            # epochs after initial_epoch are trained again under their numbers: their old rows go
            self.history = History([r for r in self.history.rows if r.get("epoch", 0) <= self.epoch])
        elif epochs is not None:
            last = self.epoch + int(epochs)
        progress, log = self.progress, self._log
        if verbose is not None:
            self.progress = verbose == 1 and sys.stderr is not None and sys.stderr.isatty()
            if verbose == 0:
                self._log = _quiet
            elif self._log is _quiet:
                self._log = _stderr
        self.callbacks.extend(extra)
        shuffled = self.shuffle
        if shuffle is not None:
            self.shuffle = bool(shuffle)
        self._weights, self._val_weights = weights, val_weights
        self._val_batch, self._val_freq = validation_batch_size, validation_freq
        try:
            self._fit(x, y, last, batch_size, validation_data)
        finally:
            for cb in extra:
                self.callbacks.remove(cb)
            self.progress, self._log, self.shuffle = progress, log, shuffled
            self._weights = self._val_weights = None
            self._val_batch, self._val_freq = None, 1
        return self.history

    def _n_outputs(self) -> int | None:
        """The model's number of outputs (classes): the last ``Linear``'s width, None without one."""
        linears = [m for m in self.model.modules() if isinstance(m, Linear)]
        return linears[-1].out_features if linears else None

    def _fit(self, x: np.ndarray, y: np.ndarray, epochs: int | None, batch_size: int,
             validation_data: tuple[np.ndarray, np.ndarray] | None) -> None:
        self.stop_training = False  # before the callbacks: a resumed early stop may set it again
        for cb in self.callbacks:
            cb.on_train_begin(self)
        x, y = backend.to_device(x, self.device), backend.to_device(y, self.device)  # moved once, kept there
        if self._weights is not None:
            self._weights = backend.to_device(self._weights, self.device)
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
            logs.update(self.train_epoch(x, y, batch_size, desc=desc, sample_weight=self._weights))
            if validation_data is not None and e % self._val_freq == 0:
                v = self.evaluate(*validation_data, batch_size=self._val_batch or max(batch_size, 1024),
                                  sample_weight=self._val_weights)
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

    def evaluate(self, x: np.ndarray, y: np.ndarray, batch_size: int = 1024, predictions: bool = False, *,
                 sample_weight: np.ndarray | None = None) -> Any:
        """Mean loss and accuracy in evaluation mode (and the predictions, if asked); weighted as in ``fit``."""
        if sample_weight is not None:
            sample_weight = _sample_weight(sample_weight, len(y), "sample_weight")
        return evaluate(self.model, self.loss_fn, x, y, batch_size, predictions, sample_weight=sample_weight)

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


def outputs(model: Module, x: Any, batch_size: int, transform: Callable[[Any], Any] | None = None) -> list[np.ndarray]:
    """``model``'s outputs (``transform``-ed) for consecutive batches of x, in evaluation mode, without a graph."""
    params = model.parameters()
    xp = backend.xp_of(params[0].data) if params else np
    was = model.training
    model.eval()
    out = []
    try:
        with fcnet.no_grad():
            for i in range(0, len(x), int(batch_size)):
                s = model(fcnet.Tensor(xp.asarray(x[i:i + int(batch_size)]), _raw=True))
                out.append(backend.to_numpy((s if transform is None else transform(s)).data))
    finally:
        model.train(was)
    return out


def predict_proba(model: Module, x: np.ndarray, batch_size: int = 1024) -> np.ndarray:
    """Softmax probabilities of ``model`` (evaluation mode, no graph)."""
    from fcnet.functional import softmax

    out = outputs(model, x, batch_size, lambda s: softmax(s, axis=1))
    return np.concatenate(out) if out else np.zeros((0, 0), np.float32)


def evaluate(model: Module, loss_fn: Module, x: np.ndarray, y: np.ndarray, batch_size: int = 1024,
             predictions: bool = False, *, sample_weight: np.ndarray | None = None) -> Any:
    """Mean loss and accuracy of ``model`` on (x, y) in evaluation mode.

    With ``sample_weight`` w: loss (1/N) Σ_i w_i L_i and accuracy Σ_i w_i [ŷ_i = y_i] / Σ_i w_i, as Keras.
    With ``predictions=True`` returns ``(metrics, predicted classes)`` from the same pass.
    """
    was = model.training
    model.eval()
    xp = backend.xp_of(model.parameters()[0].data)
    total = 0.0
    preds = []
    binary = _binary(loss_fn, np.asarray(y))
    with fcnet.no_grad(), np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # NaN: reported by callers
        for k, (xb, yb) in enumerate(batches(x, y, batch_size)):
            scores = model(fcnet.Tensor(xp.asarray(xb), _raw=True))
            if sample_weight is None:
                loss = loss_fn(scores, yb)
            else:
                loss = weighted_loss(loss_fn, scores, yb, sample_weight[k * batch_size:k * batch_size + len(yb)])
            total += float(loss.data) * len(yb)
            preds.append(backend.to_numpy(scores.data[:, 0] > 0 if binary else scores.data.argmax(axis=1)))
    model.train(was)
    pred = np.concatenate(preds) if preds else np.zeros(0, np.int64)
    n = max(len(y), 1)
    truth = np.asarray(y)[:, 0] > 0.5 if binary else np.asarray(y)
    if np.ndim(y) != 1 and not binary:  # NaN: regression targets
        acc = float("nan")
    elif sample_weight is None:
        acc = int((pred == truth).sum()) / n
    else:
        w = np.asarray(sample_weight, np.float64)
        acc = float((w * (pred == truth)).sum() / w.sum()) if w.sum() > 0 else float("nan")
    metrics = {"loss": total / n, "accuracy": acc}
    return (metrics, pred) if predictions else metrics


def _binary(loss_fn: Module, y: Any) -> bool:
    """One 0/1 output under ``BCEWithLogitsLoss``: its accuracy is Keras's binary one, [s > 0] = [t > 0.5]."""
    return isinstance(loss_fn, BCEWithLogitsLoss) and y.ndim == 2 and y.shape[1] == 1


def _batches(x: Any, y: Any, w: Any, batch_size: int, rng: np.random.Generator | None,
             drop_last: bool) -> Iterator[tuple[Any, Any, Any]]:
    """(x, y, w) mini-batches (w None without weights); with weights, the same batches as without them."""
    if w is None:
        for xb, yb in batches(x, y, batch_size, rng, drop_last, reuse=True):
            yield xb, yb, None
        return
    rows = backend.xp_of(x).arange(len(y))  # the rows of each batch pick its labels and weights
    for xb, rb in batches(x, rows, batch_size, rng, drop_last, reuse=True):
        yield xb, y[rb], w[rb]


def _positive_int(value: Any, name: str) -> int:
    if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _sample_weight(w: Any, n: int, name: str) -> np.ndarray:
    """One finite, non-negative weight per row, as float64 (N,); (N, 1) is taken as (N,), as Keras does."""
    arr = backend.to_numpy(w)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},), one weight per row, got {arr.shape}")
    if arr.dtype.kind not in "biuf":
        raise ValueError(f"{name} must be numbers, got dtype {arr.dtype}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all() or (arr < 0).any():
        raise ValueError(f"{name} must be finite and >= 0, got values from {arr.min()} to {arr.max()}: "
                         "give non-negative weights (0 leaves a row out)")
    return arr


def _class_weights(class_weight: Any, y: Any, n_classes: int | None) -> np.ndarray:
    """w_i = class_weight[y_i] (1 for a class the dict leaves out, as Keras), float64 (N,).

    As Keras: a (N, 1) target (a sigmoid unit's 0/1 labels) gives the class round(y_i), a (N, C)
    target (one-hot) the class argmax_c y_ic.
    """
    if not isinstance(class_weight, Mapping):
        raise ValueError(f"class_weight must be a dict {{class index: weight}}, got {type(class_weight).__name__}")
    y = np.asarray(backend.to_numpy(y))
    if y.ndim == 2 and y.dtype.kind in "iuf" and len(y):
        y = np.round(y[:, 0]) if y.shape[1] == 1 else y.argmax(axis=1)
    if y.ndim != 1 or y.dtype.kind not in "iuf":
        raise ValueError(f"class_weight needs class-index labels y of shape (N,), got {y.dtype} {y.shape}: "
                         "for other targets give sample_weight")
    if y.dtype.kind == "f":  # labels read as floats (0.0, 1.0, ...) are class indices, as Keras takes them
        odd = y[~np.isfinite(y) | (y != np.round(y))]
        if len(odd):
            raise ValueError(f"class_weight needs class-index labels: y has {odd[0]:g}, not a whole number; give "
                             "integer class indices, or sample_weight for other targets")
        y = y.astype(np.int64)
    table = np.ones(max([int(y.max()) + 1 if len(y) else 0, n_classes or 0]), np.float64)
    for k, v in class_weight.items():
        if not isinstance(k, int | np.integer) or isinstance(k, bool) or k < 0 or k >= len(table):
            raise ValueError(f"class_weight key {k!r} is not a class index: the keys must be integers in "
                             f"[0, {len(table) - 1}]")
        if not isinstance(v, int | float | np.integer | np.floating) or not math.isfinite(v) or v < 0:
            raise ValueError(f"class_weight[{k}] must be a finite number >= 0, got {v!r}")
        table[int(k)] = float(v)
    return table[y]


def fit(model: Module, x: np.ndarray, y: np.ndarray, *, optimizer: Optimizer, epochs: int = 1,
        batch_size: int = 128, validation_data: tuple[Any, ...] | None = None,
        validation_split: float = 0.0, verbose: int | str | None = None, sample_weight: np.ndarray | None = None,
        class_weight: Mapping[int, float] | None = None, **kwargs: Any) -> History:
    """Keras-style one call: ``Trainer(model, optimizer, **kwargs).fit(...)``.

    Its arguments after ``y`` are keywords only, so it never depended on ``fit``'s positional order;
    ``batch_size`` keeps its default of 128 here (``Trainer.fit``'s is Keras's 32).
    """
    return Trainer(model, optimizer, **kwargs).fit(x, y, batch_size=batch_size, epochs=epochs,
                                                   validation_data=validation_data,
                                                   validation_split=validation_split, verbose=verbose,
                                                   sample_weight=sample_weight, class_weight=class_weight)
