"""scikit-learn estimators trained by fcnet's engine: ``FCNetClassifier`` and ``FCNetRegressor``.

The parameters are ``fcnet train``'s options under the same names and defaults (validated in ``fit``
through ``fcnet.train.options.coerce``), plus scikit-learn's ``early_stopping`` /
``validation_fraction`` / ``n_iter_no_change``, ``random_state`` and ``verbose``.  Training is
``fcnet.train.recipe.build`` + ``Trainer``, as for ``fcnet train``:

    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> clf = make_pipeline(StandardScaler(), FCNetClassifier(hidden=(64,), epochs=20, random_state=0))

Pickling (joblib, ``GridSearchCV(n_jobs=2)``) stores the weights, optimizer state and RNG states as
arrays and JSON-able values, never live engine objects; fcnet's own model files stay safetensors.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

import fcnet
from fcnet import backend
from fcnet.data.dataset import Preprocess, split
from fcnet.errors import ConfigError
from fcnet.nn.losses import MSELoss
from fcnet.train.options import coerce, resolve
from fcnet.train.recipe import build
from fcnet.train.trainer import Trainer, predict_proba

__all__ = ["FCNetClassifier", "FCNetRegressor"]

# estimator parameter = ``fcnet train`` option of the same name
_SHARED = ("hidden", "activation", "negative_slope", "init", "init_std", "batchnorm", "dropout", "optimizer",
           "lr", "momentum", "rho", "eps", "weight_decay", "l2", "l1", "batch_size", "epochs", "schedule",
           "step_size", "gamma", "warmup", "clip_norm", "clip_value", "standardize", "tensorboard")


_ACCEPT: dict[str, Any] = {"accept_sparse": ["csr", "csc"], "dtype": [np.float64, np.float32]}


def _dense(X: Any) -> np.ndarray:
    """The engine multiplies dense arrays: a sparse matrix (accepted as MLPClassifier does) is densified."""
    return X.toarray() if sp.issparse(X) else X


def _silent(msg: str) -> None:
    """Drop a log message (a module-level function, so that estimators stay picklable)."""


def _print(msg: str) -> None:
    print(msg, flush=True)


class _FCNetBase(BaseEstimator):
    """Shared fitting, prediction and pickling; subclasses say how targets map to outputs."""

    _options: tuple[str, ...] = _SHARED
    _is_classifier = False

    # --- options -------------------------------------------------------------------------
    def _resolved(self, partial: bool = False) -> dict[str, Any]:
        """``fcnet train``'s options from the parameters, each one checked by ``coerce``."""
        opts = resolve({})
        for name in self._options:
            value = getattr(self, name)
            if value is None and opts[name] is not None:
                raise ConfigError(f"parameter {name!r} cannot be None (default: {opts[name]!r})")
            opts[name] = coerce(name, value)
        es = bool(self.early_stopping) and not partial  # partial_fit sees one batch: no validation split
        if es:
            frac = coerce("val_split", self.validation_fraction)
            if not 0.0 < frac < 1.0:
                raise ConfigError(f"validation_fraction must be in (0, 1), got {frac}")
            patience = coerce("early_stopping", self.n_iter_no_change)
            if patience < 1:
                raise ConfigError(f"n_iter_no_change must be at least 1, got {patience}")
            opts["val_split"], opts["early_stopping"] = frac, patience
        else:
            opts["val_split"], opts["early_stopping"] = 0.0, 0
        opts["monitor"] = False
        rs = self.random_state
        opts["seed"] = (int(rs) if isinstance(rs, int | np.integer)
                        else int(check_random_state(rs).randint(np.iinfo(np.int32).max)))
        return opts

    def _make_trainer(self, opts: dict[str, Any], n_features: int, n_outputs: int, steps: int) -> Trainer:
        model, opt, loss, callbacks = build(opts, n_features, n_outputs, steps)
        if not self._is_classifier:
            loss = MSELoss()
        return Trainer(model, opt, loss, l2=opts["l2"], l1=opts["l1"], clip_norm=opts["clip_norm"],
                       clip_value=opts["clip_value"], callbacks=callbacks, seed=opts["seed"],
                       progress=bool(self.verbose), log=_print if self.verbose else _silent)

    # --- data ----------------------------------------------------------------------------
    def _check_X(self, X: Any, reset: bool = False) -> np.ndarray:
        return _dense(validate_data(self, X, reset=reset, **_ACCEPT))

    def _check_Xy(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, reset=reset, multi_output=not self._is_classifier,
                             y_numeric=not self._is_classifier, **_ACCEPT)
        return _dense(X), y

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        """Float32 model inputs: (x − μ) / σ with the training statistics, or x itself."""
        return Preprocess(mean=self.mean_, std=self.std_).apply(X)

    # --- training ------------------------------------------------------------------------
    def _start(self, X: np.ndarray, n_outputs: int, opts: dict[str, Any]) -> None:
        """A new net: standardisation statistics, seeded weights, optimizer, trainer."""
        pre = Preprocess()
        if opts["standardize"]:
            pre.fit(X)
        self.mean_, self.std_ = pre.mean, pre.std
        self.n_outputs_ = n_outputs
        self.loss_curve_: list[float] = []
        self.validation_scores_: list[float] = []
        self.n_iter_ = 0
        n_train = len(X) - (max(1, round(len(X) * opts["val_split"])) if opts["val_split"] else 0)
        self._opts = opts
        self._steps = max(math.ceil(n_train / opts["batch_size"]), 1)
        self._rng_state = np.random.default_rng(opts["seed"]).bit_generator.state
        with self._own_generator():  # initial weights
            self._trainer = self._make_trainer(opts, X.shape[1], n_outputs, self._steps)

    @contextlib.contextmanager
    def _own_generator(self) -> Iterator[None]:
        """Kept for the call sites: each estimator's model owns its generator (weights, dropout masks),
        so estimators fitted side by side, in threads too, never share one.
        """
        yield  # the model owns its generator (recipe.build seeds it): nothing process-wide to lend

    def _train(self, X: np.ndarray, t: np.ndarray, epochs: int) -> None:
        opts, trainer = self._opts, self._trainer
        x = self._inputs(X)
        val = None
        if opts["val_split"]:
            x, t, xv, tv = split(x, t, opts["val_split"], opts["seed"])
            val = (xv, tv)
        done = len(trainer.history.rows)
        with self._own_generator():
            trainer.fit(x, t, epochs, opts["batch_size"], val)
        rows = trainer.history.rows[done:]
        self.loss_curve_ += [float(r["loss"]) for r in rows]
        key = "val_accuracy" if self._is_classifier else "val_loss"
        self.validation_scores_ += [float(r[key]) for r in rows if key in r]
        self.n_iter_ = trainer.epoch

    def fit(self, X: Any, y: Any) -> _FCNetBase:
        """Train a new net for ``epochs`` epochs (fewer with early stopping); returns self."""
        X, y = self._check_Xy(X, y, reset=True)
        opts = self._resolved()
        t = self._targets(y, reset=True)
        self._start(X, self._n_outputs(t), opts)
        self._train(X, t, opts["epochs"])
        return self

    def _partial_fit(self, X: Any, y: Any, classes: Any = None) -> _FCNetBase:
        first = not hasattr(self, "_trainer")
        X, y = self._check_Xy(X, y, reset=first)
        if first:
            opts = self._resolved(partial=True)
            t = self._targets(y, reset=True, classes=classes)
            self._start(X, self._n_outputs(t), opts)
        else:
            t = self._targets(y, reset=False)
        self._train(X, t, self._trainer.epoch + 1)
        return self

    # --- prediction ----------------------------------------------------------------------
    def _scores(self, X: Any) -> np.ndarray:
        """The net's outputs s = f(x) (N, C) in evaluation mode, computed without a graph."""
        check_is_fitted(self)
        x = self._inputs(self._check_X(X, reset=False))
        model = self._trainer.model
        was = model.training
        model.eval()
        with fcnet.no_grad():
            out = backend.to_numpy(model(fcnet.Tensor(x, _raw=True)).data)
        model.train(was)
        return out

    @property
    def model_(self) -> fcnet.nn.FullyConnectedNet:
        """The trained ``fcnet.nn.FullyConnectedNet`` (inputs standardised with ``mean_``, ``std_``)."""
        check_is_fitted(self)
        return self._trainer.model

    def to_onnx(self, path: str | Path) -> Path:
        """Write the prediction path (standardisation, layers, softmax for a classifier) as ONNX."""
        from fcnet.export import export_onnx, prediction_path

        check_is_fitted(self)
        steps = prediction_path(self._trainer.model, Preprocess(mean=self.mean_, std=self.std_),
                                softmax=self._is_classifier)
        return export_onnx(steps, path)

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "_trainer")

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    # --- pickling: arrays and JSON-able state, no live engine objects ---------------------
    def __getstate__(self) -> dict[str, Any]:
        state = dict(super().__getstate__())
        trainer = state.pop("_trainer", None)
        if trainer is not None:
            state["_trainer_arrays"], state["_trainer_state"] = trainer.state_dict()
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        state = dict(state)
        arrays, tstate = state.pop("_trainer_arrays", None), state.pop("_trainer_state", None)
        super().__setstate__(state)
        if arrays is None:
            return
        opts = {**self._opts, "tensorboard": None}
        rng_state = self._rng_state
        with self._own_generator():  # load_state_dict sets the default generator: keep it inside
            trainer = self._make_trainer(opts, int(self.n_features_in_), int(self.n_outputs_), self._steps)
            trainer.load_state_dict(arrays, tstate)
        self._rng_state = rng_state
        self._trainer = trainer


class FCNetClassifier(ClassifierMixin, _FCNetBase):
    """A fully-connected net classifier: softmax scores p_j = e^(s_j) / Σ_k e^(s_k) of s = f(x).

    Parameters are ``fcnet train``'s options (``fcnet train --help``) with the same names and
    defaults, and: ``early_stopping`` (hold out ``validation_fraction`` of the data and stop after
    ``n_iter_no_change`` epochs without a lower validation loss, keeping the best weights),
    ``random_state`` (an int makes ``fit`` reproducible bit for bit) and ``verbose``
    (progress bars and per-epoch lines).

    Fitted attributes: ``classes_``, ``n_features_in_``, ``feature_names_in_`` (DataFrame input),
    ``loss_curve_`` (training loss per epoch), ``validation_scores_`` (validation accuracy per
    epoch, with early stopping), ``n_iter_``, ``mean_``/``std_`` (standardisation), ``model_``.
    """

    _options = (*_SHARED, "loss", "margin", "label_smoothing")
    _is_classifier = True

    def __init__(self, hidden: tuple[int, ...] = (128,), activation: str = "relu", negative_slope: float = 0.01,
                 init: str = "he", init_std: float | None = None, batchnorm: bool = False, dropout: float = 0.0,
                 loss: str = "cross-entropy", margin: float = 1.0, label_smoothing: float = 0.0,
                 optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.9, rho: float = 0.999,
                 eps: float | None = None, weight_decay: float = 0.0, l2: float = 0.0, l1: float = 0.0,
                 batch_size: int = 128, epochs: int = 10, schedule: str = "none", step_size: int = 5,
                 gamma: float = 0.1, warmup: float = 0.0, clip_norm: float | None = None,
                 clip_value: float | None = None, standardize: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 5, random_state: Any = None,
                 tensorboard: str | None = None, verbose: bool = False) -> None:
        self.hidden, self.activation, self.negative_slope = hidden, activation, negative_slope
        self.init, self.init_std, self.batchnorm, self.dropout = init, init_std, batchnorm, dropout
        self.loss, self.margin, self.label_smoothing = loss, margin, label_smoothing
        self.optimizer, self.lr, self.momentum, self.rho, self.eps = optimizer, lr, momentum, rho, eps
        self.weight_decay, self.l2, self.l1 = weight_decay, l2, l1
        self.batch_size, self.epochs = batch_size, epochs
        self.schedule, self.step_size, self.gamma, self.warmup = schedule, step_size, gamma, warmup
        self.clip_norm, self.clip_value, self.standardize = clip_norm, clip_value, standardize
        self.early_stopping, self.validation_fraction = early_stopping, validation_fraction
        self.n_iter_no_change, self.random_state = n_iter_no_change, random_state
        self.tensorboard, self.verbose = tensorboard, verbose

    def _targets(self, y: Any, reset: bool, classes: Any = None) -> np.ndarray:
        """Class indices 0..C-1 of the labels (strings or integers), in the order of ``classes_``."""
        check_classification_targets(y)
        y = np.asarray(y)
        if reset:
            self.classes_ = np.unique(y if classes is None else np.asarray(classes))
        idx = np.searchsorted(self.classes_, y)
        bad = (idx >= len(self.classes_)) | (self.classes_[np.minimum(idx, len(self.classes_) - 1)] != y)
        if bad.any():
            raise ValueError(f"labels {sorted(set(y[bad].tolist()))[:5]} are not among classes_ "
                             f"{self.classes_.tolist()}; give every class in partial_fit's first call (classes=...)")
        return idx.astype(np.int64)

    def _n_outputs(self, t: np.ndarray) -> int:
        return len(self.classes_)

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> FCNetClassifier:
        """One epoch over (X, y); the first call builds the net and needs ``classes`` (all labels)."""
        if not hasattr(self, "_trainer") and classes is None:
            raise ValueError("the first call to partial_fit needs classes=, the list of all labels")
        return self._partial_fit(X, y, classes)  # type: ignore[return-value]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax probabilities (N, C), columns in the order of ``classes_``."""
        check_is_fitted(self)
        x = self._inputs(self._check_X(X, reset=False))
        return predict_proba(self._trainer.model, x).astype(np.float64)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of ``predict_proba``: log p (N, C)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class label of each row."""
        check_is_fitted(self)
        return self.classes_[self._scores(X).argmax(axis=1)]


class FCNetRegressor(RegressorMixin, _FCNetBase):
    """A fully-connected net regressor: outputs f(x) trained with the mean squared error.

    L = (1/(N K)) Σ_i Σ_k (f(x_i)_k − y_ik)² for K targets (multi-output when ``y`` is (N, K)).
    Parameters as ``FCNetClassifier`` (without the classification losses);
    ``validation_scores_`` holds the validation MSE per epoch.
    """

    def __init__(self, hidden: tuple[int, ...] = (128,), activation: str = "relu", negative_slope: float = 0.01,
                 init: str = "he", init_std: float | None = None, batchnorm: bool = False, dropout: float = 0.0,
                 optimizer: str = "adam", lr: float = 1e-3, momentum: float = 0.9, rho: float = 0.999,
                 eps: float | None = None, weight_decay: float = 0.0, l2: float = 0.0, l1: float = 0.0,
                 batch_size: int = 128, epochs: int = 10, schedule: str = "none", step_size: int = 5,
                 gamma: float = 0.1, warmup: float = 0.0, clip_norm: float | None = None,
                 clip_value: float | None = None, standardize: bool = True, early_stopping: bool = False,
                 validation_fraction: float = 0.1, n_iter_no_change: int = 5, random_state: Any = None,
                 tensorboard: str | None = None, verbose: bool = False) -> None:
        self.hidden, self.activation, self.negative_slope = hidden, activation, negative_slope
        self.init, self.init_std, self.batchnorm, self.dropout = init, init_std, batchnorm, dropout
        self.optimizer, self.lr, self.momentum, self.rho, self.eps = optimizer, lr, momentum, rho, eps
        self.weight_decay, self.l2, self.l1 = weight_decay, l2, l1
        self.batch_size, self.epochs = batch_size, epochs
        self.schedule, self.step_size, self.gamma, self.warmup = schedule, step_size, gamma, warmup
        self.clip_norm, self.clip_value, self.standardize = clip_norm, clip_value, standardize
        self.early_stopping, self.validation_fraction = early_stopping, validation_fraction
        self.n_iter_no_change, self.random_state = n_iter_no_change, random_state
        self.tensorboard, self.verbose = tensorboard, verbose

    def _targets(self, y: Any, reset: bool, classes: Any = None) -> np.ndarray:
        """Targets as float32 (N, K)."""
        y = np.asarray(y, dtype=np.float32)
        if reset:
            self._y_1d = y.ndim == 1
        t = y.reshape(len(y), -1)
        if not reset and t.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {t.shape[1]} targets per row, the regressor was fitted with {self.n_outputs_}")
        return t

    def _n_outputs(self, t: np.ndarray) -> int:
        return int(t.shape[1])

    def partial_fit(self, X: Any, y: Any) -> FCNetRegressor:
        """One epoch over (X, y); the first call builds the net."""
        return self._partial_fit(X, y)  # type: ignore[return-value]

    def predict(self, X: Any) -> np.ndarray:
        """f(x): (N,) for a 1-D target, (N, K) for K targets."""
        out = self._scores(X).astype(np.float64)
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
