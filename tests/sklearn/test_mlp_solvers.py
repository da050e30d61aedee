"""MLPClassifier's solver parameters: ``solver='lbfgs'`` with ``max_fun``, ``learning_rate`` with
``power_t`` and ``nesterovs_momentum`` for 'sgd' — each against scikit-learn's MLP started from
the same weights, where the formulas agree."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV
from sklearn.neural_network import MLPClassifier, MLPRegressor

from fcnet import nn
from fcnet.errors import ConfigError
from fcnet.sklearn import FCNetClassifier, FCNetRegressor
from fcnet.sklearn._base import FCNetBase

# the loss of MLPClassifier: plain cross-entropy on raw inputs (no label smoothing, no standardisation)
PLAIN = {"label_smoothing": 0.0, "standardize": False, "schedule": "none"}


@pytest.fixture
def data():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((90, 4))
    y = (X[:, 0] > 0.3).astype(int) + (X[:, 1] + X[:, 2] > 0).astype(int)  # three classes
    w = rng.uniform(0.2, 2.0, len(X))
    return X, y, w


@pytest.fixture
def initial(monkeypatch):
    """The initial coefs_ and intercepts_ of every net the estimators build (MLPClassifier's layout)."""
    seen = []
    real = FCNetBase._build

    def spy(self, *args, **kw):
        trainer = real(self, *args, **kw)
        lin = [m for m in trainer.model.modules() if isinstance(m, nn.Linear)]
        seen.append(([m.weight.data.T.copy() for m in lin], [m.bias.data.copy() for m in lin]))
        return trainer

    monkeypatch.setattr(FCNetBase, "_build", spy)
    return seen


def _quiet(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


def _warned(est, *args, **kw) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(*args, **kw)
    return [str(c.message) for c in caught if issubclass(c.category, ConvergenceWarning)]


def _twin(start, X, y, sample_weight=None, **kw):
    """MLPClassifier(**kw) trained from the weights ``start`` (set into its warm_start state)."""
    max_iter = kw.pop("max_iter")
    sk = _quiet(MLPClassifier(max_iter=1, **kw), X, y)
    sk.coefs_, sk.intercepts_ = [c.copy() for c in start[0]], [b.copy() for b in start[1]]
    sk.set_params(warm_start=True, max_iter=max_iter)
    sk.t_ = sk.n_iter_ = 0
    if hasattr(sk, "loss_curve_"):  # the stochastic solvers: forget the priming epoch
        sk.loss_curve_, sk.best_loss_, sk._no_improvement_count = [], np.inf, 0
    sk.warnings = _warned(sk, X, y, sample_weight=sample_weight)
    return sk


def _same_weights(ours, theirs, rtol):
    for a, b in zip(ours.coefs_ + ours.intercepts_, theirs.coefs_ + theirs.intercepts_, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol)


# --- solver='lbfgs' ----------------------------------------------------------------------------

@pytest.mark.parametrize("weighted", [False, True])
def test_lbfgs_equals_mlp_classifier_from_the_same_weights(data, initial, weighted):
    X, y, w = data
    sw = w if weighted else None
    kw = {"hidden_layer_sizes": (8,), "solver": "lbfgs", "alpha": 1e-2, "max_iter": 25, "random_state": 0}
    ours = FCNetClassifier(**PLAIN, **kw)
    ours_warned = _warned(ours, X, y, sample_weight=sw)
    theirs = _twin(initial[0], X, y, sample_weight=sw, **kw)
    assert ours.n_iter_ == theirs.n_iter_ == 25
    assert len(ours_warned) == len(theirs.warnings) == 1  # stopped on max_iter: both warn
    assert ours_warned[0].startswith("lbfgs failed to converge after 25 iteration(s) (status=1)")
    assert ours.loss_ == pytest.approx(theirs.loss_, rel=1e-7)
    _same_weights(ours, theirs, rtol=1e-5)
    assert not np.allclose(ours.coefs_[0], initial[0][0][0])  # it trained


def test_lbfgs_loss_is_the_penalised_weighted_loss_at_the_fitted_point(data):
    """loss_ = Σ w_i L_i / Σ w_i + (α / 2 Σ w_i) Σ_l ‖W_l‖² at the returned weights, as MLPClassifier's."""
    X, y, w = data
    ours = _quiet(FCNetClassifier(hidden_layer_sizes=(6,), solver="lbfgs", alpha=0.5, max_iter=10, random_state=1,
                                  **PLAIN), X, y, sample_weight=w)
    h = np.maximum(X @ ours.coefs_[0] + ours.intercepts_[0], 0)
    s = h @ ours.coefs_[1] + ours.intercepts_[1]
    logp = s - s.max(1, keepdims=True) - np.log(np.exp(s - s.max(1, keepdims=True)).sum(1, keepdims=True))
    ce = -(w * logp[np.arange(len(y)), y]).sum() / w.sum()
    penalty = 0.5 * 0.5 * sum(float((c * c).sum()) for c in ours.coefs_) / w.sum()
    assert ours.loss_ == pytest.approx(ce + penalty, rel=1e-10)
    assert penalty > 1e-3


def test_lbfgs_stops_on_max_fun_or_tol_as_mlp_classifier(data, initial):
    X, y, _ = data
    kw = {"hidden_layer_sizes": (8,), "solver": "lbfgs", "random_state": 0}
    few = FCNetClassifier(max_iter=200, max_fun=4, **PLAIN, **kw)
    caught = _warned(few, X, y)
    sk = _twin(initial[-1], X, y, max_iter=200, max_fun=4, **kw)
    assert len(caught) == len(sk.warnings) == 1 and few.n_iter_ == sk.n_iter_ < 200
    assert "(status=1)" in caught[0] and "max_iter" not in caught[0]  # max_fun, not max_iter, stopped it
    loose = FCNetClassifier(max_iter=200, tol=0.5, **PLAIN, **kw)  # gtol = tol: converges at once, no warning
    assert _warned(loose, X, y) == []
    sk = _twin(initial[-1], X, y, max_iter=200, tol=0.5, **kw)
    assert sk.warnings == [] and loose.n_iter_ == sk.n_iter_ < 200


def test_lbfgs_has_mlp_classifiers_attributes_and_no_partial_fit(data):
    X, y, _ = data
    clf = _quiet(FCNetClassifier(hidden=(5,), solver="lbfgs", max_iter=5, random_state=0), X, y)
    sk = _quiet(MLPClassifier(hidden_layer_sizes=(5,), solver="lbfgs", max_iter=5, random_state=0), X, y)
    for name in ("loss_curve_", "best_loss_", "validation_scores_", "partial_fit"):
        assert hasattr(clf, name) is hasattr(sk, name) is False, name
    assert clf.t_ == sk.t_ == 0 and isinstance(clf.loss_, float)
    with pytest.raises(AttributeError, match="has no attribute 'partial_fit'") as info:
        clf.partial_fit(X, y)
    assert "partial_fit is only available for stochastic optimizers" in str(info.value.__cause__)
    assert hasattr(FCNetRegressor(solver="lbfgs"), "partial_fit") is False
    assert hasattr(FCNetRegressor(solver="sgd"), "partial_fit") and hasattr(FCNetClassifier(), "partial_fit")
    # a cold refit with another solver has its curves again, and the reverse drops them
    clf.set_params(solver="adam")
    assert hasattr(_quiet(clf, X, y), "loss_curve_")
    assert not hasattr(_quiet(clf.set_params(solver="lbfgs"), X, y), "loss_curve_")


@pytest.mark.parametrize("cls", [FCNetClassifier, FCNetRegressor])
def test_partial_fit_after_an_lbfgs_fit_and_set_params_solver_sgd_is_refused(data, cls):
    """set_params(solver='sgd') makes partial_fit available on a net fitted by L-BFGS-B; partial_fit would run
    a whole L-BFGS-B fit again (n_iter_ = max_iter, t_ = 0), not one SGD epoch: it says so instead."""
    X, y, _ = data
    est = _quiet(cls(hidden=(5,), solver="lbfgs", max_iter=5, random_state=0), X, y)
    before = [c.copy() for c in est.coefs_]
    est.set_params(solver="sgd")
    with pytest.raises(ValueError, match=r"fitted with solver='lbfgs'.*fit\(\)") as err:
        est.partial_fit(X, y)
    assert "\n" not in str(err.value)
    for a, b in zip(before, est.coefs_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert hasattr(_quiet(est, X, y), "loss_curve_")  # a cold fit with 'sgd' trains it anew
    est.partial_fit(X, y)


def test_lbfgs_regressor_and_warm_start_continue_from_the_fitted_weights(data):
    X, _, _ = data
    t = X @ [1.0, -2.0, 0.5, 0.3] + np.sin(X[:, 0])
    reg = _quiet(FCNetRegressor(hidden=(8,), solver="lbfgs", max_iter=5, warm_start=True, random_state=0), X, t)
    first = reg.loss_
    _quiet(reg, X, t)
    assert reg.loss_ < first and reg.n_iter_ == 5  # n_iter_ counts this fit's iterations, as MLPRegressor's
    fresh = _quiet(FCNetRegressor(hidden=(8,), solver="lbfgs", max_iter=5, random_state=0), X, t)
    assert fresh.loss_ == pytest.approx(first, rel=1e-12)
    assert reg.score(X, t) > fresh.score(X, t)


@pytest.mark.parametrize("solver", ["lbfgs", "sgd"])
def test_regressor_loss_and_alpha_equal_mlp_regressors_from_the_same_weights(data, initial, solver):
    """MLPRegressor's loss is ½ (1/N) Σ_i (f(x_i) − y_i)² + (α / 2N) Σ_l ‖W_l‖²: the same ``alpha`` gives the
    same fitted weights and ``loss_``, and the same ``learning_rate_init`` the same SGD steps."""
    X, _, w = data
    t = X @ [1.0, -2.0, 0.5, 0.3] + np.sin(X[:, 0])
    kw = {"hidden_layer_sizes": (8,), "solver": solver, "alpha": 1.0, "max_iter": 20, "tol": 0.0,
          "random_state": 0, "learning_rate_init": 0.01, "momentum": 0.0, "batch_size": 30, "shuffle": False}
    ours = _quiet(FCNetRegressor(standardize=False, schedule="none", **kw), X, t, sample_weight=w)  # a constant ε
    sk = _quiet(MLPRegressor(**{**kw, "max_iter": 1}), X, t)
    sk.coefs_, sk.intercepts_ = [c.copy() for c in initial[0][0]], [b.copy() for b in initial[0][1]]
    sk.set_params(warm_start=True, max_iter=20)
    sk.t_ = sk.n_iter_ = 0
    if solver == "sgd":
        sk.loss_curve_, sk.best_loss_, sk._no_improvement_count = [], np.inf, 0
    _quiet(sk, X, t, sample_weight=w)
    assert ours.loss_ == pytest.approx(sk.loss_, rel=1e-9)
    _same_weights(ours, sk, rtol=1e-8)


@pytest.mark.parametrize("bad", [{"dropout": 0.2}, {"batchnorm": True}, {"weight_decay": 0.1},
                                 {"schedule": "cosine"}, {"clip_norm": 5.0}, {"max_time": 1.0}])
def test_lbfgs_refuses_stochastic_options_naming_them(data, bad):
    X, y, _ = data
    (key, value), = bad.items()
    with pytest.raises(ConfigError, match=rf"^solver='lbfgs' minimises the full-batch loss .* {key}={value!r}"):
        FCNetClassifier(solver="lbfgs", **bad).fit(X, y)


# --- solver='sgd': nesterovs_momentum, learning_rate, power_t --------------------------------

SGD = {"hidden_layer_sizes": (8,), "solver": "sgd", "learning_rate_init": 0.05, "batch_size": 20, "shuffle": False,
       "alpha": 1e-3, "random_state": 0}


@pytest.mark.parametrize("nesterov", [True, False])
def test_sgd_momentum_equals_mlp_classifier_and_defaults_to_nesterov(data, initial, nesterov):
    X, y, _ = data
    kw = {**SGD, "momentum": 0.9, "max_iter": 6, "tol": 0.0}
    ours = _quiet(FCNetClassifier(**PLAIN, **kw, **({} if nesterov else {"nesterovs_momentum": False})), X, y)
    assert ours._opts["nesterov"] is nesterov
    theirs = _twin(initial[0], X, y, nesterovs_momentum=nesterov, **kw)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    _same_weights(ours, theirs, rtol=1e-9)
    other = _twin(initial[0], X, y, nesterovs_momentum=not nesterov, **kw)
    assert not np.allclose(ours.coefs_[0], other.coefs_[0], rtol=1e-6)  # the look-ahead is visible


@pytest.mark.parametrize("power_t", [0.5, 0.25])
def test_invscaling_follows_mlp_classifiers_learning_rates(data, initial, power_t):
    """ε = ε₀ / (t + 1)^power_t after each epoch, t = samples seen (μ = 0: both momentum forms agree)."""
    X, y, _ = data
    kw = {**SGD, "momentum": 0.0, "max_iter": 5, "tol": 0.0, "learning_rate": "invscaling", "power_t": power_t}
    ours = _quiet(FCNetClassifier(**PLAIN, **kw), X, y)
    theirs = _twin(initial[0], X, y, **kw)
    assert ours._trainer.optimizer.lr == theirs._optimizer.learning_rate == 0.05 / (5 * len(X) + 1) ** power_t
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    _same_weights(ours, theirs, rtol=1e-9)
    constant = _quiet(FCNetClassifier(**PLAIN, **{**kw, "learning_rate": "constant"}), X, y)
    assert constant._trainer.optimizer.lr == 0.05 and constant.loss_curve_[1] != ours.loss_curve_[1]


def test_adaptive_divides_by_five_and_stops_when_the_rate_is_tiny_as_mlp_classifier(data, initial):
    """tol so large that no epoch improves after the first: after n_iter_no_change + 1 of them, ε ← ε / 5
    (and the count restarts) until ε ≤ 1e-6, where fit stops without a ConvergenceWarning."""
    X, y, _ = data
    kw = {**SGD, "momentum": 0.0, "max_iter": 100, "tol": 1e9, "n_iter_no_change": 1, "learning_rate": "adaptive"}
    ours = FCNetClassifier(**PLAIN, **kw)
    assert _warned(ours, X, y) == []
    theirs = _twin(initial[0], X, y, **kw)
    divisions = int(np.ceil(np.log(0.05 / 1e-6) / np.log(5)))  # 0.05 / 5^k <= 1e-6
    assert ours.n_iter_ == theirs.n_iter_ == 3 + 2 * divisions  # every 2nd epoch divides, the next trigger stops
    assert ours._trainer.optimizer.lr == theirs._optimizer.learning_rate == pytest.approx(0.05 / 5**divisions)
    np.testing.assert_allclose(ours.loss_curve_, theirs.loss_curve_, rtol=1e-10)
    _same_weights(ours, theirs, rtol=1e-9)
    plain = _quiet(FCNetClassifier(**PLAIN, **{**kw, "learning_rate": "constant"}), X, y)
    assert plain.n_iter_ == 3  # without 'adaptive' the first trigger stops


def test_adaptive_warm_fit_starts_again_at_learning_rate_init(data):
    X, y, _ = data
    kw = {**SGD, "momentum": 0.0, "tol": 1e9, "n_iter_no_change": 1, "learning_rate": "adaptive", "warm_start": True}
    clf = _quiet(FCNetClassifier(**kw, max_iter=4), X, y)
    sk = _quiet(MLPClassifier(**kw, max_iter=4), X, y)
    assert clf._trainer.optimizer.lr == sk._optimizer.learning_rate == pytest.approx(0.01)  # divided in epoch 3
    clf.set_params(max_iter=1)
    sk.set_params(max_iter=1)
    rates = []
    for _ in range(2):  # a new optimizer at ε₀ on each fit, the count of epochs without improvement kept
        _quiet(clf, X, y)
        _quiet(sk, X, y)
        rates.append((clf._trainer.optimizer.lr, sk._optimizer.learning_rate))
    assert rates == [(pytest.approx(0.01), pytest.approx(0.01)), (0.05, 0.05)]


def test_adaptive_partial_fit_counts_epochs_without_improvement_across_calls_as_mlp_classifier(data):
    """partial_fit trains one epoch per call; MLPClassifier keeps the count of epochs without improvement
    from call to call, so 'adaptive' divides ε by 5 after n_iter_no_change + 1 calls without improvement."""
    X, y, _ = data
    kw = {"momentum": 0.0, "tol": 1e9, "n_iter_no_change": 1, "learning_rate": "adaptive", "solver": "sgd",
          "learning_rate_init": 0.05, "random_state": 0}
    ours, theirs = FCNetClassifier(hidden=(5,), **kw), MLPClassifier(hidden_layer_sizes=(5,), **kw)
    rates = []
    for _ in range(6):
        ours.partial_fit(X, y, classes=[0, 1, 2])
        theirs.partial_fit(X, y, classes=[0, 1, 2])
        rates.append((ours._trainer.optimizer.lr, theirs._optimizer.learning_rate))
    assert [a for a, _ in rates] == pytest.approx([b for _, b in rates])
    assert rates[-1][0] == pytest.approx(0.05 / 25)  # divided after calls 3 and 5


@pytest.mark.parametrize("solver", ["adam", None])
def test_sgd_parameters_are_ignored_by_other_solvers(data, solver):
    X, y, _ = data
    kw = {"hidden": (6,), "max_iter": 4, "random_state": 0, "solver": solver, "optimizer": "momentum"}
    base = _quiet(FCNetClassifier(**kw), X, y)
    other = _quiet(FCNetClassifier(learning_rate="invscaling", power_t=2.0, nesterovs_momentum=False, **kw), X, y)
    assert base.loss_curve_ == other.loss_curve_ and not base._opts["nesterov"]


def test_new_parameters_have_mlp_classifiers_defaults_and_grid_search(data):
    X, y, _ = data
    ours, theirs = FCNetClassifier().get_params(), MLPClassifier().get_params()
    for name in ("learning_rate", "power_t", "nesterovs_momentum", "max_fun"):
        assert ours[name] == theirs[name] == FCNetRegressor().get_params()[name], name
    est = FCNetClassifier(hidden=(4,), max_iter=3, random_state=0, solver="sgd")
    assert clone(est.set_params(learning_rate="adaptive", max_fun=10)).get_params() == est.get_params()
    grid = GridSearchCV(est, {"solver": ["sgd", "lbfgs"], "learning_rate": ["constant", "invscaling"]}, cv=2)
    _quiet(grid, X, y)
    assert len(grid.cv_results_["params"]) == 4 and grid.best_estimator_.solver in ("sgd", "lbfgs")


def test_pickled_sgd_estimator_keeps_nesterov_and_its_learning_rate(data):
    X, y, _ = data
    clf = _quiet(FCNetClassifier(hidden=(4,), solver="sgd", learning_rate="invscaling", max_iter=3, random_state=0),
                 X, y)
    back = pickle.loads(pickle.dumps(clf))
    assert back._trainer.optimizer.hyper == clf._trainer.optimizer.hyper
    assert back._trainer.optimizer.hyper["nesterov"] is True and back._trainer.optimizer.lr < 0.001
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))
    back.partial_fit(X, y)
    clf.partial_fit(X, y)
    np.testing.assert_array_equal(back.predict_proba(X), clf.predict_proba(X))


@pytest.mark.parametrize("bad,match", [
    ({"solver": "newton"}, r"^solver must be 'adam', 'sgd' or 'lbfgs' \(or None: fcnet's optimizer=\), got 'newton'$"),
    ({"learning_rate": "cosine"}, r"^learning_rate must be 'constant', 'invscaling' or 'adaptive', got 'cosine'$"),
    ({"power_t": -1.0}, r"^power_t must be a number >= 0, got -1.0$"),
    ({"nesterovs_momentum": "yes"}, r"^nesterovs_momentum must be True or False, got 'yes'$"),
    ({"max_fun": 0}, r"^max_fun must be an int >= 1, got 0$"),
    ({"solver": "sgd", "learning_rate": "invscaling", "schedule": "cosine"},
     r"^learning_rate='invscaling' sets the learning rate per epoch itself: set schedule='none'"),
])
def test_bad_solver_parameters_are_one_line_value_errors(data, bad, match):
    X, _, _ = data
    with pytest.raises(ValueError, match=match) as info:
        FCNetRegressor(**bad).fit(X, X[:, 0])
    assert "\n" not in str(info.value)


def test_verbose_prints_one_line_per_lbfgs_iteration_and_the_adaptive_rate(data, capsys):
    X, y, _ = data
    clf = _quiet(FCNetClassifier(hidden=(4,), solver="lbfgs", max_iter=6, verbose=True, random_state=0), X, y)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split(",")[0] for line in lines] == [f"Iteration {k}" for k in range(1, clf.n_iter_ + 1)]
    assert float(lines[-1].rsplit("= ", 1)[1]) == pytest.approx(clf.loss_, rel=1e-7)
    _quiet(FCNetClassifier(**{**SGD, "momentum": 0.0, "tol": 1e9, "n_iter_no_change": 1, "learning_rate": "adaptive"},
                           max_iter=3, verbose=True), X, y)
    assert "consecutive epochs. Setting learning rate to 0.010000" in capsys.readouterr().out
