"""MLPClassifier's parameter names (docs/sklearn-names.md): each maps to fcnet's option with the
same meaning, wins over fcnet's name when given, and round-trips through get_params/clone."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

import fcnet.train.trainer as trainer_module
from fcnet.errors import ConfigError
from fcnet.sklearn import FCNetClassifier, FCNetRegressor


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 5))
    return X, (X[:, 0] + X[:, 1] > 0).astype(int), X @ [1.0, -2.0, 0.5, 0.0, 0.3]


def _fit(est, X, y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, y)


@pytest.mark.parametrize("given,options", [
    ({"hidden_layer_sizes": (7, 5)}, {"hidden": [7, 5]}),
    ({"hidden_layer_sizes": 9, "hidden": (3,)}, {"hidden": [9]}),  # an int is one layer; it wins over hidden
    ({"hidden_layer_sizes": np.array([7, 5])}, {"hidden": [7, 5]}),  # array-like, as MLPClassifier takes it
    ({"hidden_layer_sizes": [6]}, {"hidden": [6]}),
    ({"learning_rate_init": 0.02, "lr": 0.5}, {"lr": 0.02}),
    ({"activation": "logistic"}, {"activation": "sigmoid"}),
    ({"activation": "identity"}, {"activation": "leaky_relu", "negative_slope": 1.0}),
    ({"solver": "adam", "beta_1": 0.8, "beta_2": 0.99, "epsilon": 1e-8},
     {"optimizer": "adam", "momentum": 0.8, "rho": 0.99, "eps": 1e-8, "eps_inside": False}),
    ({"solver": "sgd", "momentum": 0.5, "beta_1": 0.1},  # beta_1: Adam's only
     {"optimizer": "momentum", "momentum": 0.5, "momentum_form": "pytorch", "nesterov": True}),
    ({"solver": "sgd", "nesterovs_momentum": False}, {"optimizer": "momentum", "nesterov": False}),
    ({"optimizer": "momentum"}, {"optimizer": "momentum", "momentum_form": "lecture", "nesterov": False}),
    ({"alpha": 1e-3}, {"alpha": 1e-3}),
    ({}, {"hidden": [100], "init": "glorot", "lr": 2e-3, "schedule": "cosine", "optimizer": "adam", "momentum": 0.9,
          "rho": 0.999, "eps": None, "eps_inside": False, "momentum_form": "lecture", "alpha": 0.0, "nesterov": False,
          "solver": None}),
    # the default ε₀ is the one whose mean over the fit is MLPClassifier's 1e-3: 2e-3 under the cosine only
    ({"schedule": "none"}, {"schedule": "none", "lr": 1e-3}),
    ({"schedule": "step"}, {"schedule": "step", "lr": 1e-3}),
    ({"learning_rate_init": 0.01}, {"schedule": "cosine", "lr": 0.01}),
    ({"lr": 0.01}, {"schedule": "cosine", "lr": 0.01}),
    # solvers that set the rate themselves keep no schedule (and MLPClassifier's 1e-3)
    ({"solver": "sgd", "learning_rate": "adaptive"}, {"schedule": "none", "lr": 1e-3}),
    ({"solver": "sgd", "learning_rate": "invscaling"}, {"schedule": "none", "lr": 1e-3}),
    ({"solver": "sgd"}, {"schedule": "cosine", "lr": 2e-3}),
    ({"solver": "adam", "learning_rate": "adaptive"}, {"schedule": "cosine", "lr": 2e-3}),  # an sgd-only parameter
    ({"solver": "lbfgs"}, {"schedule": "none", "solver": "lbfgs"}),
])
def test_sklearn_names_map_to_fcnet_options(data, given, options):
    X, y, _ = data
    est = _fit(FCNetClassifier(max_iter=1, random_state=0, **given), X, y)
    assert {k: est._opts[k] for k in options} == options
    assert est.get_params()["hidden_layer_sizes"] is given.get("hidden_layer_sizes")


def test_identity_activation_is_affine(data):
    X, _, t = data
    reg = _fit(FCNetRegressor(hidden_layer_sizes=(8,), activation="identity", max_iter=5, random_state=0), X, t)
    a, b = X[:10], X[10:20]
    np.testing.assert_allclose(reg.predict(0.3 * a + 0.7 * b), 0.3 * reg.predict(a) + 0.7 * reg.predict(b),
                               rtol=1e-10, atol=1e-10)


def test_alpha_is_mlp_classifiers_l2_penalty(data):
    """One full-batch SGD step: L = (1/N) Σ L_i + (α / 2N) Σ_l ‖W_l‖², biases not penalised."""
    X, _, t = data
    n, lr, alpha = len(X), 0.1, 0.5
    kw = {"hidden_layer_sizes": (6,), "solver": "sgd", "momentum": 0.0, "learning_rate_init": lr, "batch_size": n,
          "max_iter": 1, "random_state": 0}
    plain, pen = _fit(FCNetRegressor(**kw), X, t), _fit(FCNetRegressor(alpha=alpha, **kw), X, t)
    # θ' = θ0 − ε (g + (α/N) W0): W0 from the difference of the two steps, then the loss difference
    w0 = [(p - q) * n / (lr * alpha) for p, q in zip(plain.coefs_, pen.coefs_, strict=True)]
    penalty = 0.5 * alpha / n * sum(float((w * w).sum()) for w in w0)
    assert pen.loss_ - plain.loss_ == pytest.approx(penalty, rel=1e-6)
    assert all(np.array_equal(a, b) for a, b in zip(plain.intercepts_, pen.intercepts_, strict=True))
    assert penalty > 1e-3


def test_shuffle_false_trains_batches_in_order(data, monkeypatch):
    X, y, _ = data
    seen = []
    real = trainer_module.batches

    def recording(x, yy, batch_size, rng=None, *args, **kw):
        seen.append(rng)
        return real(x, yy, batch_size, rng, *args, **kw)

    monkeypatch.setattr(trainer_module, "batches", recording)
    _fit(FCNetClassifier(hidden=(4,), max_iter=2, batch_size=16, shuffle=False, random_state=0), X, y)
    assert seen == [None, None]
    _fit(FCNetClassifier(hidden=(4,), max_iter=1, batch_size=16, random_state=0), X, y)
    assert isinstance(seen[-1], np.random.Generator)


@pytest.mark.parametrize("bad,match", [({"solver": "lbfgs-b"}, "solver must be 'adam', 'sgd' or 'lbfgs'"),
                                       ({"alpha": -1.0}, "alpha must be a number >= 0"),
                                       ({"shuffle": "yes"}, "shuffle must be True or False"),
                                       ({"hidden_layer_sizes": (0,)}, "hidden_layer_sizes"),
                                       ({"learning_rate_init": -1.0}, "learning_rate_init")])
def test_bad_sklearn_values_name_the_parameter(data, bad, match):
    X, y, _ = data
    with pytest.raises(ConfigError, match=match):
        FCNetClassifier(**bad).fit(X, y)


def test_get_params_set_params_clone_and_grid_search_with_sklearn_names(data):
    X, y, _ = data
    est = FCNetClassifier().set_params(hidden_layer_sizes=(5,), solver="sgd", alpha=1e-4, shuffle=False,
                                       learning_rate_init=0.05, max_iter=3)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and twin.get_params()["solver"] == "sgd"
    grid = GridSearchCV(FCNetClassifier(max_iter=3, random_state=0), {"hidden_layer_sizes": [(4,), (8,)]}, cv=2)
    _fit(grid, X, y)
    assert grid.best_estimator_.coefs_[0].shape[1] in (4, 8)


def test_binary_n_outputs_is_the_width_of_predict_proba(data):
    X, y, _ = data
    clf = _fit(FCNetClassifier(hidden=(4,), max_iter=2, random_state=0), X, y)
    # two softmax outputs (scikit-learn's MLP has one logistic unit): n_outputs_ says what the net has
    assert clf.n_outputs_ == clf.predict_proba(X).shape[1] == clf.coefs_[-1].shape[1] == 2


def test_batch_size_auto_as_mlp_and_errors_name_the_parameter(data):
    X, y, _ = data
    auto = _fit(FCNetClassifier(batch_size="auto", max_iter=3, random_state=0), X, y)  # min(200, n_samples)
    plain = _fit(FCNetClassifier(batch_size=200, max_iter=3, random_state=0), X, y)
    assert auto.loss_curve_ == plain.loss_curve_ and auto.get_params()["batch_size"] == "auto"
    with pytest.raises(ConfigError, match=r"^batch_size must be an integer ≥ 1, got 0"):
        _fit(FCNetClassifier(batch_size=0, max_iter=1), X, y)


def test_warmup_longer_than_max_iter_is_named_in_parameters(data):
    X, y, _ = data
    with pytest.raises(ConfigError, match=r"^warmup 5 must be shorter than max_iter 3: lower warmup or raise max_iter"):
        FCNetClassifier(warmup=5, max_iter=3).fit(X, y)
    with pytest.raises(ConfigError, match=r"^warmup 5 must be shorter than epochs 3"):
        FCNetClassifier(warmup=5, epochs=3).fit(X, y)
