"""What ``FCNetClassifier`` and ``FCNetRegressor`` share: options, the training loop, stopping, pickling.

Training runs in float64 through ``fcnet.train.Trainer`` with the loss
L = Σ_i w_i L_i / Σ_i w_i per mini-batch (w: ``sample_weight``, 1 by default), so that integer
weights train as repeated rows in the same batch (not with ``batchnorm``, whose batch mean and
variance count each row once, weight 0 included).  Stopping follows MLPClassifier's rule: after ``n_iter_no_change``
+ 1 epochs in a row in which the training loss (or, with ``early_stopping``, the validation
score) did not improve by ``tol``, or after ``max_iter`` epochs with a ``ConvergenceWarning``.
``solver='lbfgs'`` minimises the same loss over all rows at once with SciPy's L-BFGS-B, as
MLPClassifier's ``_fit_lbfgs`` does.
"""

from __future__ import annotations

import contextlib
import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import scipy.optimize
import scipy.sparse as sp
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

import fcnet
from fcnet import backend, nn
from fcnet.errors import ConfigError, DivergenceError
from fcnet.nn.losses import regularization
from fcnet.nn.module import Module
from fcnet.tensor import Tensor
from fcnet.train.callbacks import Callback, LRScheduler
from fcnet.train.options import coerce, resolve, validate
from fcnet.train.recipe import OPTIMIZERS, make_schedule
from fcnet.train.trainer import Trainer

# estimator parameter = ``fcnet train`` option of the same name
SHARED = ("hidden", "activation", "negative_slope", "init", "init_std", "batchnorm", "dropout", "optimizer",
          "lr", "momentum", "rho", "eps", "weight_decay", "l2", "l1", "schedule", "step_size", "gamma",
          "warmup", "clip_norm", "clip_value", "standardize", "tensorboard")

ACCEPT: dict[str, Any] = {"accept_sparse": ["csr", "csc"], "dtype": [np.float64, np.float32]}


# fcnet's parameter → scikit-learn's name for it (MLPClassifier's meaning); the latter wins when given
_SKLEARN_NAMES = {"hidden": "hidden_layer_sizes", "lr": "learning_rate_init", "optimizer": "solver",
                  "rho": "beta_2", "eps": "epsilon"}
# solver → fcnet's optimizer (lbfgs: none; it trains full-batch with SciPy's L-BFGS-B, not with an fcnet optimizer)
_SOLVERS: dict[str, str | None] = {"adam": "adam", "sgd": "momentum", "lbfgs": None}
_LEARNING_RATES = ("constant", "invscaling", "adaptive")
# fcnet options that have no meaning for a deterministic full-batch L-BFGS-B run, with their neutral value
_LBFGS_OFF: dict[str, Any] = {"dropout": 0.0, "batchnorm": False, "weight_decay": 0.0, "schedule": "none",
                              "warmup": 0.0, "clip_norm": None, "clip_value": None, "tensorboard": None}
# option key → the parameter that sets it, for messages
_LABELS = {"nesterov": "nesterovs_momentum", "learning_rate": "learning_rate", "solver": "solver"}
_SKLEARN_ACTIVATIONS = {"logistic": "sigmoid", "identity": "leaky_relu"}  # identity: slope 1, f(x) = x


def _from_sklearn(name: str, value: Any) -> Any:
    """A scikit-learn parameter value as fcnet's option value (``coerce`` checks it next)."""
    if name == "hidden_layer_sizes" and isinstance(value, int | np.integer) and not isinstance(value, bool):
        return (int(value),)
    if name == "hidden_layer_sizes" and isinstance(value, np.ndarray):  # array-like, as MLPClassifier takes it
        return tuple(value.tolist()) if value.ndim == 1 else value
    if name == "solver":
        if not isinstance(value, str) or value not in _SOLVERS:
            raise ConfigError(f"solver must be 'adam', 'sgd' or 'lbfgs' (or None: fcnet's optimizer=), got {value!r}")
        return _SOLVERS[value]
    return value


def _stochastic(est: Any) -> bool:
    """``partial_fit`` exists for the stochastic solvers only, as in MLPClassifier (``hasattr`` says so)."""
    if est.solver == "lbfgs":
        raise AttributeError("partial_fit is only available for stochastic optimizers. lbfgs is not stochastic.")
    return True


def _is_auto(value: Any) -> bool:
    return isinstance(value, str) and value == "auto"


def _dense(X: Any) -> np.ndarray:
    """The engine multiplies dense arrays: a sparse matrix (accepted as MLPClassifier does) is densified."""
    return X.toarray() if sp.issparse(X) else X


def _silent(msg: str) -> None:
    """Drop the trainer's own per-epoch line (a module-level function, so that estimators stay picklable)."""


class WeightedLoss(Module):
    """L = Σ_i w_i L_i / Σ_i w_i over a batch whose targets carry the weight w_i as their last column.

    ``per_sample`` maps (scores, targets without the weight column) to the N losses L_i.  With
    ``weighted`` False (a fit whose weights are all equal, to ``unit``) the targets come without the
    weight column and the loss is the plain mean (1/N) Σ_i L_i, as it is then for every batch; the
    penalty's Σ_i w_i is then N · ``unit``.
    """

    def __init__(self, per_sample: Callable[[Tensor, np.ndarray], Tensor], alpha: float = 0.0,
                 weights: list[Any] | None = None) -> None:
        super().__init__()
        self.per_sample = per_sample
        self.weighted = True
        self.unit = 1.0  # the common weight of a fit whose weights are all equal
        self.alpha = float(alpha)
        self.penalised = list(weights or [])

    def forward(self, scores: Tensor, packed: Any) -> Tensor:
        """The weighted mean of the per-sample losses (their plain mean when all weights are equal),
        plus MLPClassifier's L2 penalty (α / (2 Σ_i w_i)) Σ_l ‖W_l‖² when ``alpha`` > 0.
        """
        packed = np.asarray(packed)
        if not self.weighted:
            return self._penalty(self._mean(scores, packed), len(packed) * getattr(self, "unit", 1.0))
        w = packed[:, -1]
        if w[0] > 0 and (w == w[0]).all():  # the common case, in fewer gates: (1/N) Σ_i L_i
            return self._penalty(self._mean(scores, packed[:, :-1]), float(w.sum()))
        total = float(w.sum())
        losses = self.per_sample(scores, packed[:, :-1])
        loss = (losses * Tensor(w.astype(scores.dtype), _raw=True)).sum() / (total if total > 0 else 1.0)
        return self._penalty(loss, total)

    def _penalty(self, loss: Tensor, total: float) -> Tensor:
        if not self.alpha or not self.penalised:
            return loss
        squares = sum(((w * w).sum() for w in self.penalised[1:]), (self.penalised[0] * self.penalised[0]).sum())
        return loss + squares * (0.5 * self.alpha / (total if total > 0 else 1.0))

    def _mean(self, scores: Tensor, t: np.ndarray) -> Tensor:
        mean = getattr(self.per_sample, "mean", None)
        return mean(scores, t) if mean is not None else self.per_sample(scores, t).mean()


def weighted_stats(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean μ = Σ w x / Σ w and deviation σ (1 where σ < 1e-12: constant columns stay 0)."""
    mean = np.average(x, axis=0, weights=w)
    std = np.sqrt(np.average((x - mean) ** 2, axis=0, weights=w))
    return mean, np.where(std < 1e-12, 1.0, std)


def _threads(work: int) -> contextlib.AbstractContextManager[Any]:
    """One BLAS thread for small matrices (``work`` = rows × widest layer): there, waking and syncing
    threads costs more than it saves, and on a busy machine it costs much more.

    The ``ThreadpoolController`` (which scans the loaded libraries, milliseconds) is made once per
    process and reused by every fit and prediction.
    """
    global _controller
    if work > _SMALL:
        return contextlib.nullcontext()
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")


# options a warm_start fit takes anew (the others describe the fitted net, its loss and optimizer)
_WARM_LIVE = frozenset({"epochs", "batch_size", "time_budget", "lr", "alpha", "l2", "l1", "clip_norm", "clip_value",
                        "seed", "tensorboard", "learning_rate", "power_t", "max_fun", "schedule", "step_size",
                        "gamma", "warmup", "partial_lr"})
_SMALL = 1 << 18
_LR = 1e-3  # the default ε₀ at a constant rate: MLPClassifier's
_controller: Any = None


class _SklearnStop(Callback):
    """Records the fitted attributes per epoch and applies MLPClassifier's stopping rule."""

    def __init__(self, est: FCNetBase, n_train: int, val: tuple[np.ndarray, np.ndarray, np.ndarray] | None,
                 stop: bool) -> None:
        self.est, self.n_train, self.val, self.stop = est, n_train, val, stop
        self.converged = False

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        est = self.est
        loss = float(logs["loss"])
        est.n_iter_ += 1
        est.t_ += self.n_train
        est.loss_curve_.append(loss)
        est.loss_ = loss
        if est.verbose:
            print(f"Iteration {est.n_iter_}, loss = {loss:.8f}", flush=True)
        tol = float(est.tol)
        if self.val is not None:
            score = est._val_score(*self.val)
            logs["val_score"] = score
            est.validation_scores_.append(score)
            if est.verbose:
                print(f"Validation score: {score:f}", flush=True)
            improved = score >= est.best_validation_score_ + tol
            if score > est.best_validation_score_:
                est.best_validation_score_ = score
                est._best_state = trainer.model.state_dict()
            what = "Validation score"
        else:
            improved = loss <= est.best_loss_ - tol
            est.best_loss_ = min(est.best_loss_, loss)
            what = "Training loss"
        est._no_improvement = 0 if improved else est._no_improvement + 1
        schedule, opt = est._opts.get("learning_rate", "constant"), trainer.optimizer
        if schedule == "invscaling":  # MLPClassifier's iteration_ends(t_): ε = ε₀ / (t + 1)^power_t
            opt.lr = float(est._opts["lr"]) / (est.t_ + 1) ** est._opts["power_t"]
        if est._no_improvement > est.n_iter_no_change:
            msg = f"{what} did not improve more than tol={tol:f} for {est.n_iter_no_change} consecutive epochs."
            if schedule == "adaptive" and opt.lr > 1e-6:  # MLPClassifier's trigger_stopping: ε ← ε / 5, go on
                opt.lr = opt.lr / 5.0
                est._no_improvement = 0
                if est.verbose:
                    print(f"{msg} Setting learning rate to {opt.lr:f}", flush=True)
            elif self.stop:
                self.converged = trainer.stop_training = True
                if est.verbose:
                    tail = " Learning rate too small." if schedule == "adaptive" else ""
                    print(f"{msg}{tail} Stopping.", flush=True)


class FCNetBase(BaseEstimator):
    """Shared fitting, prediction and pickling; subclasses say how targets map to outputs."""

    _options: tuple[str, ...] = SHARED
    _is_classifier = False
    _lr_cosine = 1e-3  # the default ε₀ under the default cosine schedule

    # --- options -------------------------------------------------------------------------
    def _resolved(self) -> dict[str, Any]:
        """``fcnet train``'s options from the parameters, each one checked by ``coerce``."""
        opts = resolve({})
        solver = self.solver
        if solver is not None:
            _from_sklearn("solver", solver)  # checks the value
        for name in self._options:
            value, label = getattr(self, name), name
            alias = _SKLEARN_NAMES.get(name)
            if alias is not None and getattr(self, alias) is not None and not (alias == "solver" and solver == "lbfgs"):
                value, label = _from_sklearn(alias, getattr(self, alias)), alias  # scikit-learn's name, given, wins
            if name == "activation" and isinstance(value, str) and value in _SKLEARN_ACTIVATIONS:
                value = _SKLEARN_ACTIVATIONS[value]
            if name == "schedule" and value is None:  # the default: a cosine where nothing else sets the rate
                own = solver == "lbfgs" or (solver == "sgd" and self.learning_rate != "constant")
                value = "none" if own else "cosine"
            if name == "lr" and value is None:  # the default ε₀ depends on the schedule: set below
                continue
            if value is None and opts[name] is not None:
                raise ConfigError(f"parameter {name!r} cannot be None (default: {opts[name]!r})")
            opts[name] = coerce(name, value, label=label)
        given = self.lr is not None or self.learning_rate_init is not None
        if not given:  # measured per estimator: benchmarks/RESULTS.md
            opts["lr"] = self._lr_cosine if opts["schedule"] == "cosine" else _LR
        # Adam's (and AdaGrad's) δ outside the root, as scikit-learn and PyTorch place it, whatever the solver: with
        # the lecture's δ = 1e-5 inside, small gradients move as if δ were √1e-5 ≈ 3e-3, and the regressor's fit
        # stalls (California housing R² 0.59 against 0.67 outside, benchmarks/RESULTS.md)
        opts["eps_inside"] = False
        if self.solver == "sgd":  # scikit-learn's SGD form: v ← μ v + g, θ ← θ − ε v
            opts["momentum_form"] = "pytorch"
        if self.beta_1 is not None and opts["optimizer"] in ("adam", "adamw"):
            opts["momentum"] = coerce("momentum", self.beta_1, label="beta_1")
        if self.activation == "identity":  # max(x, 1·x) = x exactly, in every export format too
            opts["negative_slope"] = 1.0
        alpha = self.alpha
        if not isinstance(alpha, int | float | np.number) or isinstance(alpha, bool) or not math.isfinite(alpha) \
                or alpha < 0:
            raise ConfigError(f"alpha must be a number >= 0, got {alpha!r}")
        if not isinstance(self.shuffle, bool | np.bool_):
            raise ConfigError(f"shuffle must be True or False, got {self.shuffle!r}")
        opts["epochs"] = self._max_iter()
        # MLPClassifier's 'auto' is min(200, n_samples); fit caps every batch size at the sample count
        opts["batch_size"] = coerce("batch_size", 200 if _is_auto(self.batch_size) else self.batch_size,
                                    label="batch_size")
        for name in ("tol", "validation_fraction"):
            value = getattr(self, name)
            if not isinstance(value, int | float | np.number) or not math.isfinite(value) or value < 0:
                raise ConfigError(f"{name} must be a number >= 0, got {value!r}")
        if self.early_stopping and not 0.0 < float(self.validation_fraction) < 1.0:
            raise ConfigError(f"validation_fraction must be in (0, 1), got {self.validation_fraction}")
        if not isinstance(self.n_iter_no_change, int | np.integer) or self.n_iter_no_change < 1:
            raise ConfigError(f"n_iter_no_change must be an int >= 1, got {self.n_iter_no_change!r}")
        if opts["warmup"] and opts["warmup"] >= opts["epochs"]:  # validate's rule, in parameter names
            limit = "max_iter" if self.epochs is None else "epochs"
            raise ConfigError(f"warmup {opts['warmup']:g} must be shorter than {limit} {opts['epochs']}: lower warmup "
                              f"or raise {limit}")
        if opts["batchnorm"] and opts["batch_size"] < 2:  # validate's rule, in parameter names
            raise ValueError(f"batchnorm normalises each mini-batch by its variance: it needs at least 2 samples "
                             f"per batch, got batch_size={opts['batch_size']}; give more samples or set "
                             "batchnorm=False")
        opts = dict(validate(opts))
        opts["partial_lr"] = opts["lr"] if given else _LR  # partial_fit's constant rate under a schedule
        opts["alpha"] = float(alpha)
        opts.update(self._solver_options(opts))
        opts["time_budget"] = coerce("time_budget", self.max_time, label="max_time")  # --time-budget
        rs = self.random_state
        opts["seed"] = (int(rs) if isinstance(rs, int | np.integer)
                        else int(check_random_state(rs).randint(np.iinfo(np.int32).max)))
        return opts

    def _solver_options(self, opts: dict[str, Any]) -> dict[str, Any]:
        """MLPClassifier's solver parameters, checked: ``solver``, ``learning_rate``, ``power_t``,
        ``nesterovs_momentum`` (these three for 'sgd' only, ignored otherwise) and ``max_fun`` ('lbfgs').
        """
        if not isinstance(self.learning_rate, str) or self.learning_rate not in _LEARNING_RATES:
            raise ConfigError("learning_rate must be 'constant', 'invscaling' or 'adaptive', got "
                              f"{self.learning_rate!r}")
        power_t = self.power_t
        if not isinstance(power_t, int | float | np.number) or isinstance(power_t, bool) \
                or not math.isfinite(power_t) or power_t < 0:
            raise ConfigError(f"power_t must be a number >= 0, got {power_t!r}")
        if not isinstance(self.nesterovs_momentum, bool | np.bool_):
            raise ConfigError(f"nesterovs_momentum must be True or False, got {self.nesterovs_momentum!r}")
        max_fun = self.max_fun
        if not isinstance(max_fun, int | np.integer) or isinstance(max_fun, bool) or max_fun < 1:
            raise ConfigError(f"max_fun must be an int >= 1, got {max_fun!r}")
        sgd = self.solver == "sgd"
        out = {"solver": self.solver, "nesterov": sgd and bool(self.nesterovs_momentum),
               "learning_rate": self.learning_rate if sgd else "constant", "power_t": float(power_t),
               "max_fun": int(max_fun)}
        if out["learning_rate"] != "constant" and (opts["schedule"] != "none" or opts["warmup"]):
            raise ConfigError(f"learning_rate={self.learning_rate!r} sets the learning rate per epoch itself: set "
                              f"schedule='none' and warmup=0 (now {opts['schedule']!r}, {opts['warmup']:g}) or "
                              "learning_rate='constant'")
        if self.solver == "lbfgs":
            given = {k: opts[k] for k, off in _LBFGS_OFF.items() if opts[k] != off}
            if self.max_time is not None:
                given["max_time"] = self.max_time
            for key, value in given.items():
                raise ConfigError(f"solver='lbfgs' minimises the full-batch loss with SciPy's L-BFGS-B, where {key}="
                                  f"{value!r} has no meaning: set {key}={_LBFGS_OFF.get(key)!r} or use solver='adam' "
                                  "or 'sgd'")
        return out

    def _max_iter(self) -> int:
        """``epochs`` (fcnet's name) when given, else ``max_iter``."""
        value = self.max_iter if self.epochs is None else self.epochs
        name = "max_iter" if self.epochs is None else "epochs"
        if not isinstance(value, int | np.integer) or isinstance(value, bool) or value < 1:
            raise ConfigError(f"{name} must be an int >= 1, got {value!r}")
        return int(value)

    # --- data ----------------------------------------------------------------------------
    def _check_X(self, X: Any, reset: bool = False) -> np.ndarray:
        return _dense(validate_data(self, X, reset=reset, **ACCEPT))

    def _inputs(self, X: np.ndarray) -> np.ndarray:
        """Float64 model inputs: (x − μ) / σ with the (weighted) training statistics, or x itself."""
        x = np.asarray(X, dtype=np.float64)
        return (x - self.mean_) / self.std_ if self.mean_ is not None else x.copy()

    def _n_val(self, w: np.ndarray) -> int:
        """Rows ``early_stopping`` holds out: the ``validation_fraction`` of the rows of weight > 0 (at least 1)."""
        return max(1, round(int((w > 0).sum()) * float(self.validation_fraction)))

    # --- building ------------------------------------------------------------------------
    def _build(self, opts: dict[str, Any], n_features: int, n_outputs: int) -> Trainer:
        """Model (float64, weights and dropout masks from this fit's own generator), optimizer, trainer."""
        gen = np.random.default_rng([opts["seed"], 1])
        model = nn.FullyConnectedNet(
            n_features, opts["hidden"], n_outputs, activation=opts["activation"], batchnorm=opts["batchnorm"],
            dropout=opts["dropout"], init=opts["init"], std=opts.get("init_std"),
            negative_slope=opts["negative_slope"], dtype=np.float64, rng=gen)
        for m in model.modules():
            if isinstance(m, nn.Dropout):
                m.rng = gen
        opt = OPTIMIZERS[opts["optimizer"]](model.parameters(), opts)
        callbacks: list[Callback] = []  # the learning-rate schedule is laid out per fit call (``_schedule``)
        if opts["tensorboard"]:
            from fcnet.train.tensorboard import TensorBoard  # tensorboardX is an optional extra

            callbacks.append(TensorBoard(opts["tensorboard"]))
        loss = WeightedLoss(self._per_sample_loss(opts), opts.get("alpha", 0.0),
                            [m.weight for m in model.modules() if isinstance(m, nn.Linear)])
        return Trainer(model, opt, loss, l2=opts["l2"], l1=opts["l1"],
                       clip_norm=opts["clip_norm"], clip_value=opts["clip_value"], callbacks=callbacks,
                       seed=opts["seed"], progress=False, log=_silent, time_budget=opts["time_budget"])

    def _start(self, X: np.ndarray, w: np.ndarray, n_outputs: int, opts: dict[str, Any]) -> None:
        """A new net: standardisation statistics, seeded weights, optimizer, trainer, empty curves."""
        self.mean_, self.std_ = weighted_stats(X, w) if opts["standardize"] else (None, None)
        self.n_outputs_ = n_outputs
        self.n_layers_ = len(opts["hidden"]) + 2
        if opts.get("solver") == "lbfgs":  # as MLPClassifier: no per-epoch curves, no stopping scores
            for name in ("loss_curve_", "validation_scores_", "best_validation_score_", "best_loss_"):
                self.__dict__.pop(name, None)
        else:
            self.loss_curve_: list[float] = []
            self.validation_scores_: list[float] | None = [] if self.early_stopping else None
            self.best_validation_score_: float | None = -np.inf if self.early_stopping else None
            self.best_loss_: float | None = None if self.early_stopping else np.inf
        self.n_iter_ = self.t_ = 0
        self._opts = opts
        self._best_state = None
        self._trainer = self._build(opts, X.shape[1], n_outputs)

    def _warm_opts(self) -> dict[str, Any]:
        """The options of a ``warm_start`` fit: the current parameters, applied to the fitted net.

        As MLPClassifier re-reads its parameters on each warm fit, ``max_iter``, ``batch_size``,
        ``max_time``, the learning rate and its schedule (``schedule``, ``warmup``, ``step_size``,
        ``gamma``: laid out anew over this fit), ``alpha``, ``l2``, ``l1`` and clipping take their new
        values; the net, its loss and its optimizer stay those fitted, so a change to them is refused.
        """
        new, old = self._resolved(), self._opts
        for key, value in new.items():
            if key == "solver" and {value, old.get(key)} <= {None, "adam"} and new["optimizer"] == old["optimizer"]:
                continue  # solver='adam' names the same Adam as none given with optimizer='adam'
            if key not in _WARM_LIVE and value != old.get(key):
                label = next((s for f, s in _SKLEARN_NAMES.items() if f == key and getattr(self, s) is not None),
                             _LABELS.get(key, key))
                raise ValueError(f"warm_start continues the fitted net: {label} cannot change "
                                 f"({old.get(key)!r} -> {value!r}); set warm_start=False to train a new net")
        trainer = self._trainer
        if new["lr"] != old["lr"]:
            trainer.optimizer.lr = new["lr"]
        trainer.loss_fn.alpha = new["alpha"]
        trainer.l2, trainer.l1 = new["l2"], new["l1"]
        trainer.clip_norm, trainer.clip_value = new["clip_norm"], new["clip_value"]
        self._opts = {**new, "seed": old["seed"], "tensorboard": old["tensorboard"]}
        return self._opts

    # --- training ------------------------------------------------------------------------
    def _fit(self, X: Any, y: Any, sample_weight: Any, incremental: bool, classes: Any = None) -> FCNetBase:
        if incremental and getattr(self, "_opts", {}).get("solver") == "lbfgs" and hasattr(self, "_trainer"):
            raise ValueError(f"this net was fitted with solver='lbfgs', which has no partial_fit (solver is now "
                             f"{self.solver!r}): call fit() to train a new net with it")
        if incremental and self.early_stopping:  # MLPClassifier's error, before any state changes
            raise ValueError("partial_fit does not support early_stopping=True: set early_stopping=False (each call "
                             "trains one epoch; hold out validation data yourself)")
        first = not hasattr(self, "_trainer") or (not incremental and not self.warm_start)
        X, y = self._check_Xy(X, y, reset=first)
        w = (np.ones(len(X)) if sample_weight is None
             else _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True))
        if first:
            opts = self._resolved()
            t = self._targets(y, reset=True, classes=classes)
            self._start(X, w, self._n_outputs(t), opts)
        else:
            opts = self._opts if incremental else self._warm_opts()
            t = self._targets(y, reset=False)
        t = self._prepare(t.reshape(len(t), -1).astype(np.float64), w, first)
        x = self._inputs(X)
        # equal weights (none given, the common case) train as none: no weight column, no weight arithmetic
        uniform = bool(len(w)) and w[0] > 0 and bool((w == w[0]).all())
        packed = t if uniform else np.concatenate([t, w[:, None]], axis=1)
        self._trainer.loss_fn.weighted = not uniform
        self._trainer.loss_fn.unit = float(w[0]) if uniform else 1.0  # alpha's Σ w_i is N w_0, not N
        self._trainer.shuffle = bool(self.shuffle)
        if opts.get("solver") == "lbfgs":
            return self._fit_lbfgs(x, packed, opts)
        if not incremental:  # as MLPClassifier's new optimizer: each fit starts at ε₀, whatever the last one ended at
            self._trainer.optimizer.lr = opts["lr"]
        val = None
        es = self.early_stopping and not incremental
        if es:
            # held out from the rows that weigh (w > 0): a zero weight is a removed row, never a validation one
            kept = np.flatnonzero(w > 0)
            n_val = self._n_val(w)
            if len(kept) - n_val < 1:
                raise ValueError(f"early_stopping holds out {n_val} of {len(kept)} samples (of weight > 0): none "
                                 "would be left to train on; give more data or a smaller validation_fraction")
            order = kept[np.random.default_rng([opts["seed"], 2]).permutation(len(kept))]
            vi, ti = order[:n_val], np.concatenate([order[n_val:], np.flatnonzero(w <= 0)])
            val = (x[vi], self._score_targets(y, vi), w[vi])
            x, packed = x[ti], packed[ti]
            self.validation_scores_ = self.validation_scores_ if self.validation_scores_ is not None else []
            if self.best_validation_score_ is None:  # early stopping switched on in a warm fit: no best yet
                self.best_validation_score_ = -np.inf
                self._best_state = None
        elif self.best_loss_ is None:
            self.best_loss_ = np.inf
        if opts["batchnorm"] and min(len(x), opts["batch_size"]) < 2:
            raise ValueError(f"batchnorm normalises each mini-batch by its variance: it needs at least 2 samples "
                             f"per batch, got n_samples={len(x)} to train on and batch_size={opts['batch_size']}; "
                             "give more samples or set batchnorm=False")
        trainer = self._trainer
        stop = _SklearnStop(self, len(x), val, stop=not incremental)
        if first or not hasattr(self, "_no_improvement"):  # as MLPClassifier: kept by partial_fit and warm fits
            self._no_improvement = 0
        self.n_iter_ = 0  # as MLPClassifier's: the epochs of this call (t_ and loss_curve_ go on)
        budget = opts["time_budget"] is not None and not incremental  # partial_fit: one epoch, whatever the budget
        epochs = 1 if incremental else None if budget else opts["epochs"]
        batch = min(opts["batch_size"], len(x))
        trainer.time_budget = opts["time_budget"] if budget else None
        if not incremental:
            trainer._time_before = 0.0  # max_time is each fit's own budget
        schedule = self._schedule(opts, math.ceil(len(x) / batch), incremental)
        trainer.callbacks[:0] = schedule
        trainer.callbacks.append(stop)
        try:
            with _threads(batch * max(x.shape[1], *opts["hidden"], self.n_outputs_)):
                trainer.fit(x, packed, batch_size=batch, epochs=epochs, verbose=0)
        except DivergenceError as exc:  # the trainer's advice names fcnet train's flags: say it in parameters
            # ε₀, the parameter to lower (a schedule's ε of the moment is below it); partial_fit's own constant ε
            lr = float(trainer.optimizer.lr if incremental else opts["lr"])
            raise DivergenceError(f"training diverged in epoch {self.n_iter_ + 1} (the loss or the weights became "
                                  f"NaN or infinite); try a lower learning_rate_init (now {lr:g}, e.g. {lr / 10:g}) "
                                  "or clip_norm=5") from exc
        finally:
            for cb in (*schedule, stop):
                trainer.callbacks.remove(cb)
        best = getattr(self, "_best_state", None)
        if es and best is not None:  # as MLPClassifier: the best weights of all fits so far, this one's or before
            trainer.model.load_state_dict(best)
        if not incremental and not stop.converged and not budget:
            warnings.warn(f"Stochastic Optimizer: Maximum iterations ({epochs}) reached and the optimization "
                          "hasn't converged yet.", ConvergenceWarning, stacklevel=3)
        return self

    def _schedule(self, opts: dict[str, Any], steps: int, incremental: bool) -> list[Callback]:
        """This call's learning-rate schedule (``schedule``, ``warmup``), laid out per step over the
        ``max_iter`` epochs of ``steps`` steps from ε₀ = ``learning_rate_init``.

        Each ``fit`` starts it anew, a ``warm_start`` fit too (MLPClassifier's warm fit starts a new optimizer
        at ``learning_rate_init``; fcnet keeps the optimizer's state and starts the rate anew);
        ``partial_fit`` has no length to lay it over and trains at a constant ε: the ε₀ given at the last
        ``fit``, else MLPClassifier's 1e-3.
        """
        if opts["schedule"] == "none" and not opts["warmup"]:
            return []
        optimizer = self._trainer.optimizer
        if incremental:
            optimizer.lr = opts.get("partial_lr", opts["lr"])
            return []
        optimizer.lr = opts["lr"]
        return [LRScheduler(make_schedule(opts, optimizer, max(steps, 1)), per="step")]

    def _fit_lbfgs(self, x: np.ndarray, packed: np.ndarray, opts: dict[str, Any]) -> FCNetBase:
        """MLPClassifier's ``_fit_lbfgs``: ``scipy.optimize.minimize(method="L-BFGS-B", jac=True)`` over the
        flattened ``coefs_`` then ``intercepts_`` (float64), the loss (with ``alpha``'s penalty and the
        sample weights) and its gradient from fcnet's autograd, on all rows at once.

        ``n_iter_`` = min(iterations, ``max_iter``), ``loss_`` the final loss; a run that ends on
        ``max_iter`` or ``max_fun`` (SciPy's status ≠ 0) warns with ``ConvergenceWarning``.
        """
        trainer = self._trainer
        model, loss_fn = trainer.model, trainer.loss_fn
        linears = self._linears()
        params = [m.weight for m in linears] + [m.bias for m in linears]
        if len(params) != len(list(model.parameters())):
            raise ValueError("solver='lbfgs' trains the weights and biases of the linear layers only: set "
                             "batchnorm=False")
        sizes = [p.data.size for p in params]
        cuts = np.cumsum([0, *sizes])
        inputs = fcnet.Tensor(x, _raw=True)

        def unpack(theta: np.ndarray) -> None:
            for p, a, b in zip(params, cuts[:-1], cuts[1:], strict=True):
                shape = p.data.shape
                # a weight is (fan_out, fan_in); MLPClassifier packs coefs_, its transpose (fan_in, fan_out)
                p.data[...] = theta[a:b].reshape(shape[::-1]).T if len(shape) == 2 else theta[a:b]

        def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
            unpack(theta)
            for p in params:
                p.grad = None
            loss = loss_fn(model(inputs), packed)
            if trainer.l2 or trainer.l1:
                loss = loss + regularization(model, trainer.l2, trainer.l1)
            loss.backward()
            grad = np.concatenate([(p.grad.T if p.grad.ndim == 2 else p.grad).ravel() for p in params])
            return float(loss.data), grad

        done = [0]

        def report(intermediate_result: Any) -> None:  # SciPy passes the OptimizeResult under this name only
            done[0] += 1
            print(f"Iteration {done[0]}, loss = {float(intermediate_result.fun):.8f}", flush=True)

        theta0 = np.concatenate([(p.data.T if p.data.ndim == 2 else p.data).ravel() for p in params])
        max_iter = int(opts["epochs"])
        model.train()
        with _threads(len(x) * max(x.shape[1], *opts["hidden"], self.n_outputs_)), \
                np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            res = scipy.optimize.minimize(loss_grad, theta0, method="L-BFGS-B", jac=True,
                                          callback=report if self.verbose else None,
                                          options={"maxfun": opts["max_fun"], "maxiter": max_iter,
                                                   "gtol": float(self.tol)})
        unpack(res.x)
        self.n_iter_ = min(int(res.nit), max_iter)
        self.loss_ = float(res.fun)
        if res.status != 0:  # scikit-learn's _check_optimize_result
            msg = f"lbfgs failed to converge after {self.n_iter_} iteration(s) (status={res.status}):\n{res.message}\n"
            if self.n_iter_ == max_iter:
                msg += f"\nIncrease the number of iterations to improve the convergence (max_iter={max_iter})."
            warnings.warn(msg, ConvergenceWarning, stacklevel=3)
        return self

    # --- prediction ----------------------------------------------------------------------
    def _scores(self, X: Any) -> np.ndarray:
        """The net's outputs s = f(x) (N, C) in evaluation mode, float64, computed without a graph.

        Each row's scores are computed from that row alone (float64 rounding of ~1e-16 aside),
        whatever rows it is batched with.
        """
        check_is_fitted(self)
        x = self._inputs(self._check_X(X, reset=False))
        with _threads(len(x) * max(x.shape[1], *self._opts["hidden"], self.n_outputs_)):
            return self._forward(x)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        """Scores of already standardised inputs (also the validation score's, during fit)."""
        model = self._trainer.model
        was = model.training
        model.eval()
        with fcnet.no_grad():
            out = backend.to_numpy(model(fcnet.Tensor(x, _raw=True)).data)
        model.train(was)
        return np.asarray(out, dtype=np.float64)

    def _prepare(self, t: np.ndarray, w: np.ndarray, first: bool) -> np.ndarray:
        """Targets as the loss sees them (the regressor standardises them)."""
        return t

    @property
    def model_(self) -> nn.FullyConnectedNet:
        """The trained ``fcnet.nn.FullyConnectedNet`` (float64; inputs standardised with ``mean_``, ``std_``)."""
        check_is_fitted(self)
        return self._trainer.model

    def _linears(self) -> list[nn.Linear]:
        return [m for m in self.model_.modules() if isinstance(m, nn.Linear)]

    @property
    def coefs_(self) -> list[np.ndarray]:
        """Weight matrices as MLPClassifier has them: entry i is (fan_in, fan_out) of layer i (W_i transposed)."""
        return [np.array(m.weight.data.T) for m in self._linears()]

    @property
    def intercepts_(self) -> list[np.ndarray]:
        """Bias vectors b_i of the layers, entry i has length fan_out of layer i."""
        return [np.array(m.bias.data) for m in self._linears()]

    def prediction_steps(self) -> list[Any]:
        """The prediction path as ``fcnet.export`` steps: standardisation, layers, output function.

        A classifier ends in softmax (sigmoid for multilabel targets); a regressor's target scaling
        y = f(x) σ_y + μ_y is folded into its last linear layer.
        """
        from fcnet.data.dataset import Preprocess
        from fcnet.export import prediction_path
        from fcnet.export.path import Step

        check_is_fitted(self)
        pre = Preprocess(mean=self.mean_, std=self.std_) if self.mean_ is not None else None
        steps = prediction_path(self.model_, pre, softmax=False)
        if self._is_classifier:
            steps.append(Step("sigmoid" if self._multilabel else "softmax"))
        else:
            last = [s for s in steps if s.kind == "linear"][-1]
            last.arrays["weight"] = (last.arrays["weight"] * self.y_std_[:, None]).astype(np.float32)
            last.arrays["bias"] = (last.arrays["bias"] * self.y_std_ + self.y_mean_).astype(np.float32)
        return steps

    def to_onnx(self, path: str | Path) -> Path:
        """Write the prediction path (``prediction_steps``) as ONNX: input ``x``, output ``probabilities``
        (classifier) or ``scores`` (regressor).
        """
        from fcnet.export import export_onnx

        return export_onnx(self.prediction_steps(), path)

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
        trainer = self._build({**self._opts, "tensorboard": None}, int(self.n_features_in_), int(self.n_outputs_))
        types = tstate.get("callback_types") or []
        if "LRScheduler" in types:  # pickled before the schedule was laid out per fit call: it kept one
            keep = [j for j, name in enumerate(types) if name != "LRScheduler"]
            tstate = {**tstate, "callback_types": [types[j] for j in keep],
                      "callbacks": [tstate["callbacks"][j] for j in keep]}
        trainer.load_state_dict(arrays, tstate)
        self._trainer = trainer
