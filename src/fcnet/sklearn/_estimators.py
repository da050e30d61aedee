"""``FCNetClassifier`` (softmax, or sigmoid outputs for multilabel targets) and ``FCNetRegressor``."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.metrics import accuracy_score, r2_score
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from fcnet import functional as F
from fcnet.nn.losses import BCEWithLogitsLoss
from fcnet.sklearn._base import ACCEPT, SHARED, FCNetBase, _dense, _stochastic, weighted_stats

__all__ = ["FCNetClassifier", "FCNetRegressor"]

_PARAMS_DOC = """
    Parameters are ``fcnet train``'s options (``fcnet train --help``) under the same names, and
    MLPClassifier's where the meaning is the same.  Three defaults differ from ``fcnet train``'s and are
    MLPClassifier's (``docs/sklearn-names.md``): one hidden layer of 100 units, ``init='glorot'``
    (W ~ U(-a, a), a = √(6/(N_in + N_out)); the biases start at 0) and Adam's δ outside the square root,
    θ ← θ − ε m̂ / (√v̂ + δ), as scikit-learn and PyTorch place it.

    - ``schedule`` (None): the learning rate's schedule within each ``fit``, laid out per step over its
      ``max_iter`` epochs from ε₀ = ``learning_rate_init``.  None is 'cosine', ε_t = ε₀ (1 + cos(π t / T)) / 2
      at step t of the T steps of ``max_iter`` epochs
      (the decayed rate lets the training loss settle, so ``fit`` stops sooner; against a constant rate it
      scored higher on diabetes and California housing and level, within 0.001, on digits and breast_cancer:
      ``benchmarks/RESULTS.md``), except for ``solver='lbfgs'`` and
      ``learning_rate`` 'invscaling' or 'adaptive', which set the rate themselves: there it is 'none'.
      'none' trains at the constant ε₀, as MLPClassifier does; 'step' multiplies ε by ``gamma`` every
      ``step_size`` epochs.  Each ``fit`` starts the schedule anew from its ε₀, a ``warm_start`` fit too
      (MLPClassifier's warm fit starts a new optimizer at ``learning_rate_init``; fcnet keeps the optimizer's
      state, Adam's moments, and starts the rate anew), which may then change the schedule and ε₀;
      under a schedule (or ``warmup``), ``partial_fit`` trains at a constant rate.
    - ``learning_rate_init`` / ``lr`` (None): unset, ε₀ = 1e-3 (MLPClassifier's), but 2e-3 for the
      classifier under the default cosine: the cosine's mean rate over all ``max_iter`` epochs, ε₀ / 2, is
      then 1e-3 (a fit that stops earlier on ``tol`` averages more), and it scored higher on digits and
      breast_cancer; the regressor scored higher at 1e-3 on diabetes and level on California housing
      (``benchmarks/RESULTS.md``).  Under a schedule, ``partial_fit`` trains at the ε₀ given at the last
      ``fit`` (or at the first ``partial_fit``), else at 1e-3.

    - ``max_iter`` (200): the most epochs one ``fit`` trains (``epochs``, fcnet's name, overrides it when
      given); reaching it without converging warns with ``ConvergenceWarning``.  As in MLPClassifier, the
      count of epochs without improvement goes on into a ``warm_start`` fit and ``partial_fit``: a warm fit
      after a converged one trains one epoch and stops.
    - ``tol`` (1e-4), ``n_iter_no_change`` (10): ``fit`` stops once the training loss (with
      ``early_stopping``: the validation score) has not improved by ``tol`` for ``n_iter_no_change`` + 1
      epochs in a row.
    - ``early_stopping`` (False), ``validation_fraction`` (0.1): hold out that fraction of the rows of
      weight > 0, score it each epoch (accuracy / R²) and keep the weights of the best epoch.
    - ``batch_size`` (200, capped at the number of samples; MLPClassifier's 'auto' is the same),
      ``warm_start`` (a second ``fit`` continues from the fitted weights, with the new ``max_iter``,
      learning rate and ``alpha``; the net cannot change), ``random_state`` (an int makes ``fit``
      reproducible bit for bit; each fit draws from its own generator), ``verbose`` (MLPClassifier's
      lines on stdout: ``Iteration k, loss = ...``).
    - ``max_time`` (None): seconds, ``fcnet train --time-budget``: ``fit`` trains until this budget is used,
      the learning-rate schedule laid out over ``max_iter`` epochs running on the fraction of it used
      (``max_iter`` then sets the schedule's proportions, not a limit); not reproducible bit for bit.

    - scikit-learn's names, parameters too (``docs/sklearn-names.md``); each one, when given (not None),
      wins over fcnet's name for the same option: ``hidden_layer_sizes`` (``hidden``; an int is one
      layer), ``learning_rate_init`` (``lr``), ``solver`` ('adam': Adam; 'sgd':
      momentum SGD v ← μ v + g, θ ← θ − ε (g + μ v) with ``nesterovs_momentum`` (True), else θ ← θ − ε v,
      μ = ``momentum``; 'lbfgs': SciPy's L-BFGS-B on the full-batch loss, at most ``max_fun`` (15000)
      evaluations and ``max_iter`` iterations, gtol = ``tol``; no ``loss_curve_``, no ``partial_fit``),
      ``beta_1``/``beta_2`` (Adam's β₁, β₂: ``momentum``/``rho``), ``epsilon`` (``eps``); ``activation``
      also takes 'logistic' (sigmoid) and 'identity' (f(x) = x); ``alpha`` (0): MLPClassifier's L2 penalty,
      L + (α / 2N) Σ_l ‖W_l‖² per mini-batch of N samples; ``shuffle`` (True): False trains the
      mini-batches in the data's order.
    - ``learning_rate`` ('constant'), ``power_t`` (0.5), solver 'sgd' only: 'invscaling' sets
      ε = ε₀ / (t_ + 1)^power_t after each epoch; 'adaptive' divides ε by 5 where ``fit`` would stop on
      ``n_iter_no_change``, and stops only once ε ≤ 1e-6.

    Fitted attributes: ``loss_``, ``loss_curve_``, ``best_loss_`` (None with early stopping),
    ``validation_scores_``, ``best_validation_score_`` (None without), ``coefs_``, ``intercepts_``,
    ``n_layers_``, ``n_outputs_``, ``out_activation_``, ``n_iter_`` (the epochs of the last ``fit`` or
    ``partial_fit`` call, as MLPClassifier's, while ``t_`` and ``loss_curve_`` go on), ``t_`` (training samples
    seen), ``n_features_in_``, ``feature_names_in_`` (DataFrame input), ``mean_``/``std_`` (input
    standardisation), ``model_`` (the ``fcnet.nn.FullyConnectedNet``).
"""


def _init(self: Any, params: dict[str, Any]) -> None:
    for k, v in params.items():
        if k not in ("self", "__class__"):
            setattr(self, k, v)


class FCNetClassifier(ClassifierMixin, FCNetBase):
    __doc__ = ("""A fully-connected net classifier: softmax scores p_j = e^(s_j) / Σ_k e^(s_k) of s = f(x).

    ``label_smoothing`` defaults to 0.1 here (``fcnet train``: 0): on small tabular data such as
    scikit-learn's digits it generalises better (``benchmarks/RESULTS.md``).

    Multilabel targets (an indicator matrix (N, K)) train K sigmoid outputs p_k = σ(s_k) with the
    binary cross-entropy; ``predict`` then returns the indicator matrix p_k > 0.5.
""" + _PARAMS_DOC)

    _options = (*SHARED, "loss", "margin", "label_smoothing")
    _is_classifier = True
    _lr_cosine = 2e-3  # the cosine's mean rate over max_iter epochs, ε₀ / 2, is then MLPClassifier's 1e-3

    def __init__(self, hidden: tuple[int, ...] = (100,), activation: str = "relu", negative_slope: float = 0.01,
                 init: str = "glorot", init_std: float | None = None, batchnorm: bool = False, dropout: float = 0.0,
                 loss: str = "cross-entropy", margin: float = 1.0, label_smoothing: float = 0.1,
                 optimizer: str = "adam", lr: float | None = None, momentum: float = 0.9, rho: float = 0.999,
                 eps: float | None = None, weight_decay: float = 0.0, l2: float = 0.0, l1: float = 0.0,
                 batch_size: int = 200, max_iter: int = 200, epochs: int | None = None, tol: float = 1e-4,
                 n_iter_no_change: int = 10, schedule: str | None = None, step_size: int = 5, gamma: float = 0.1,
                 warmup: float = 0.0, clip_norm: float | None = None, clip_value: float | None = None,
                 standardize: bool = True, early_stopping: bool = False, validation_fraction: float = 0.1,
                 warm_start: bool = False, random_state: Any = None, tensorboard: str | None = None,
                 verbose: bool = False, max_time: float | None = None,
                 hidden_layer_sizes: int | tuple[int, ...] | None = None, alpha: float = 0.0,
                 learning_rate_init: float | None = None, solver: str | None = None, beta_1: float | None = None,
                 beta_2: float | None = None, epsilon: float | None = None, shuffle: bool = True,
                 learning_rate: str = "constant", power_t: float = 0.5, nesterovs_momentum: bool = True,
                 max_fun: int = 15000) -> None:
        _init(self, locals())

    # --- targets -------------------------------------------------------------------------
    def _check_Xy(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, reset=reset, multi_output=True, **ACCEPT)
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return _dense(X), y

    def _targets(self, y: Any, reset: bool, classes: Any = None) -> np.ndarray:
        """Class indices 0..C-1 (in the order of ``classes_``), or the 0/1 indicator matrix (multilabel)."""
        check_classification_targets(y)
        y = np.asarray(y)
        kind = type_of_target(y)
        if reset and kind != "multilabel-indicator" and y.ndim != 1:
            raise ValueError(f"y must be 1-D class labels or a 0/1 indicator matrix (multilabel), got {kind} targets "
                             f"of shape {y.shape}; fit one classifier per column (MultiOutputClassifier)")
        if reset:
            self._multilabel = kind == "multilabel-indicator"
            if self._multilabel:
                self.classes_ = np.arange(y.shape[1])
            else:
                self.classes_ = np.unique(y if classes is None else np.asarray(classes))
            self.out_activation_ = "logistic" if self._multilabel else "softmax"
        if self._multilabel:
            if kind != "multilabel-indicator" or y.shape[1] != len(self.classes_):
                raise ValueError(f"y must be a 0/1 indicator matrix with {len(self.classes_)} columns, as in the "
                                 f"first fit, got {kind} of shape {y.shape}")
            return y.astype(np.float64)
        if kind == "multilabel-indicator" or y.ndim != 1:
            raise ValueError(f"y must be 1-D class labels, as in the first fit, got {kind} of shape {y.shape}")
        idx = np.searchsorted(self.classes_, y)
        bad = (idx >= len(self.classes_)) | (self.classes_[np.minimum(idx, len(self.classes_) - 1)] != y)
        if bad.any():
            raise ValueError(f"labels {sorted(set(y[bad].tolist()))[:5]} are not among classes_ "
                             f"{self.classes_.tolist()}; give every class in partial_fit's first call (classes=...)")
        return idx.astype(np.int64)

    def _n_outputs(self, t: np.ndarray) -> int:
        return len(self.classes_)

    def _per_sample_loss(self, opts: dict[str, Any]) -> Any:
        if self._multilabel and opts["loss"] != "cross-entropy":
            raise ValueError(f"loss={opts['loss']!r} scores one class per row; multilabel targets train sigmoid "
                             "outputs with the binary cross-entropy: use loss='cross-entropy'")
        return _sample_loss(bool(self._multilabel), opts["loss"], opts["margin"], opts["label_smoothing"])

    def _score_targets(self, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.asarray(y)[rows]

    def _val_score(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
        return float(accuracy_score(y, self._decide(self._forward(x)), sample_weight=w))

    # --- fitting -------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> FCNetClassifier:
        """Train up to ``max_iter`` epochs (a new net, or the fitted one with ``warm_start``); returns self."""
        return self._fit(X, y, sample_weight, incremental=False)  # type: ignore[return-value]

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None, classes: Any = None) -> FCNetClassifier:
        """One epoch over (X, y); the first call builds the net and needs ``classes`` (all labels)."""
        if not hasattr(self, "_trainer") and classes is None and type_of_target(y) != "multilabel-indicator":
            raise ValueError("the first call to partial_fit needs classes=, the list of all labels")
        return self._fit(X, y, sample_weight, incremental=True, classes=classes)  # type: ignore[return-value]

    # --- prediction ----------------------------------------------------------------------
    def _decide(self, scores: np.ndarray) -> np.ndarray:
        if self._multilabel:
            return (scores > 0).astype(np.int64)
        return self.classes_[scores.argmax(axis=1)]

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probabilities (N, C), columns in the order of ``classes_``: softmax, or σ per label (multilabel)."""
        s = self._scores(X)
        if self._multilabel:
            return 1.0 / (1.0 + np.exp(-s))
        e = np.exp(s - s.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of ``predict_proba``: log p (N, C)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class label of each row (multilabel: the indicator matrix σ(s) > 0.5)."""
        return self._decide(self._scores(X))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags


def _sample_loss(multilabel: bool, kind: str, margin: float, label_smoothing: float) -> Any:
    """The per-sample loss L_i(scores, targets) of a classifier (a picklable callable)."""
    return _ClassLoss(multilabel, kind, margin, label_smoothing)


class _ClassLoss:
    def __init__(self, multilabel: bool, kind: str, margin: float, label_smoothing: float) -> None:
        self.multilabel, self.kind, self.margin, self.label_smoothing = multilabel, kind, margin, label_smoothing

    def mean(self, scores: Any, t: np.ndarray) -> Any:
        """(1/N) Σ_i L_i as one fused gate where there is one."""
        if self.multilabel:
            return BCEWithLogitsLoss()(scores, t.astype(scores.dtype))
        idx = t[:, 0].astype(np.int64)
        if self.kind == "hinge":
            return F.multiclass_hinge(scores, idx, self.margin)
        return F.cross_entropy(scores, idx, "mean", self.label_smoothing)

    def __call__(self, scores: Any, t: np.ndarray) -> Any:
        if self.multilabel:  # L_i = (1/K) Σ_k BCE(s_ik, t_ik)
            return BCEWithLogitsLoss("none")(scores, t.astype(scores.dtype)).mean(axis=1)
        idx = t[:, 0].astype(np.int64)
        if self.kind == "hinge":
            return F.multiclass_hinge(scores, idx, self.margin, "none")
        return F.cross_entropy(scores, idx, "none", self.label_smoothing)


class _SquaredError:
    """L_i = (1/2K) Σ_k (f(x_i)_k − y_ik)², MLPRegressor's squared loss (its ``alpha`` and step sizes mean the same)."""

    def __call__(self, scores: Any, t: np.ndarray) -> Any:
        from fcnet.tensor import Tensor

        d = scores - Tensor(t.astype(scores.dtype), _raw=True)
        return (d * d).mean(axis=1) * 0.5

    def mean(self, scores: Any, t: np.ndarray) -> Any:
        """(1/(2 N K)) Σ_i Σ_k (f(x_i)_k − y_ik)²."""
        return F.mse_loss(scores, t.astype(scores.dtype)) * 0.5


class FCNetRegressor(RegressorMixin, FCNetBase):
    __doc__ = ("""A fully-connected net regressor: outputs f(x) trained with the squared error.

    L = (1/(2 N K)) Σ_i Σ_k (f(x_i)_k − z_ik)² (MLPRegressor's squared loss, with its ½) for K targets
    (multi-output when ``y`` is (N, K)), where, with ``standardize`` (the default), z = (y − μ_y) / σ_y
    are the targets standardised with their (weighted) training mean and deviation (``y_mean_``,
    ``y_std_``) and ``predict`` returns f(x) σ_y + μ_y; ``loss_``/``loss_curve_`` are in those standardised units.
    ``validation_scores_`` holds the validation R² per epoch.
""" + _PARAMS_DOC.replace("MLPClassifier", "MLPRegressor"))

    def __init__(self, hidden: tuple[int, ...] = (100,), activation: str = "relu", negative_slope: float = 0.01,
                 init: str = "glorot", init_std: float | None = None, batchnorm: bool = False, dropout: float = 0.0,
                 optimizer: str = "adam", lr: float | None = None, momentum: float = 0.9, rho: float = 0.999,
                 eps: float | None = None, weight_decay: float = 0.0, l2: float = 0.0, l1: float = 0.0,
                 batch_size: int = 200, max_iter: int = 200, epochs: int | None = None, tol: float = 1e-4,
                 n_iter_no_change: int = 10, schedule: str | None = None, step_size: int = 5, gamma: float = 0.1,
                 warmup: float = 0.0, clip_norm: float | None = None, clip_value: float | None = None,
                 standardize: bool = True, early_stopping: bool = False, validation_fraction: float = 0.1,
                 warm_start: bool = False, random_state: Any = None, tensorboard: str | None = None,
                 verbose: bool = False, max_time: float | None = None,
                 hidden_layer_sizes: int | tuple[int, ...] | None = None, alpha: float = 0.0,
                 learning_rate_init: float | None = None, solver: str | None = None, beta_1: float | None = None,
                 beta_2: float | None = None, epsilon: float | None = None, shuffle: bool = True,
                 learning_rate: str = "constant", power_t: float = 0.5, nesterovs_momentum: bool = True,
                 max_fun: int = 15000) -> None:
        _init(self, locals())

    def _check_Xy(self, X: Any, y: Any, reset: bool) -> tuple[np.ndarray, np.ndarray]:
        X, y = validate_data(self, X, y, reset=reset, multi_output=True, y_numeric=True, **ACCEPT)
        return _dense(X), y

    def _targets(self, y: Any, reset: bool, classes: Any = None) -> np.ndarray:
        """Targets (N, K) as float64, standardised with the training statistics when ``standardize``."""
        y = np.asarray(y, dtype=np.float64)
        t = y.reshape(len(y), -1)
        if reset:
            self._y_1d = y.ndim == 1
            self.out_activation_ = "identity"
            self.y_mean_, self.y_std_ = np.zeros(t.shape[1]), np.ones(t.shape[1])
        elif t.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {t.shape[1]} targets per row, the regressor was fitted with {self.n_outputs_}")
        return t

    def _prepare(self, t: np.ndarray, w: np.ndarray, first: bool) -> np.ndarray:
        """The standardised targets z = (y − μ_y) / σ_y, the statistics taken (weighted) in the first fit."""
        if first and self._opts["standardize"]:
            self.y_mean_, self.y_std_ = weighted_stats(t, w)
        return (t - self.y_mean_) / self.y_std_

    def _n_outputs(self, t: np.ndarray) -> int:
        return int(t.shape[1])

    def _per_sample_loss(self, opts: dict[str, Any]) -> Any:
        return _SquaredError()

    def _score_targets(self, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.float64)[rows]

    def _val_score(self, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> float:
        pred = self._forward(x) * self.y_std_ + self.y_mean_
        return float(r2_score(y.reshape(len(y), -1), pred, sample_weight=w))

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> FCNetRegressor:
        """Train up to ``max_iter`` epochs (a new net, or the fitted one with ``warm_start``); returns self."""
        return self._fit(X, y, sample_weight, incremental=False)  # type: ignore[return-value]

    @available_if(_stochastic)
    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> FCNetRegressor:
        """One epoch over (X, y); the first call builds the net."""
        return self._fit(X, y, sample_weight, incremental=True)  # type: ignore[return-value]

    def predict(self, X: Any) -> np.ndarray:
        """f(x) σ_y + μ_y: (N,) for a 1-D target, (N, K) for K targets."""
        check_is_fitted(self)
        out = self._scores(X) * self.y_std_ + self.y_mean_
        return out.ravel() if self._y_1d else out

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
