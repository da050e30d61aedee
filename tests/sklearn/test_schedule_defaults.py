"""The estimators' learning-rate schedule: by default a cosine from ε₀ laid out over each ``fit``'s
``max_iter`` epochs, started anew by every ``fit`` (``warm_start`` too), none in ``partial_fit``,
and none where the solver sets the rate itself (docs/sklearn-names.md)."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.exceptions import ConvergenceWarning

from fcnet.optim.optimizer import Optimizer
from fcnet.sklearn import FCNetClassifier, FCNetRegressor

N, BATCH = 120, 50  # 3 steps an epoch: 50, 50, 20


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(n_samples=N, n_features=6, n_informative=4, n_classes=3, random_state=0)
    return X, y, X @ np.linspace(-1, 1, 6)


@pytest.fixture
def rates(monkeypatch):
    """The learning rate of every optimizer step taken while the test runs."""
    seen: list[float] = []
    step = Optimizer.step

    def record(self):
        seen.append(float(self.lr))
        return step(self)

    monkeypatch.setattr(Optimizer, "step", record)
    return seen


def _cosine(lr0: float, epochs: int) -> list[float]:
    total = epochs * math.ceil(N / BATCH)
    return [lr0 * (1 + math.cos(math.pi * t / total)) / 2 for t in range(total)]


def _quiet(est, *args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(*args, **kw)


@pytest.mark.parametrize("cls,lr0", [(FCNetClassifier, 2e-3), (FCNetRegressor, 1e-3)])
def test_default_fit_follows_a_cosine_from_the_estimators_lr0(data, rates, cls, lr0):
    X, y, t = data
    est = _quiet(cls(hidden=(5,), max_iter=4, tol=0.0, batch_size=BATCH, random_state=0), X,
                 y if cls is FCNetClassifier else t)
    assert est.n_iter_ == 4
    assert est._opts["schedule"] == "cosine" and est._opts["lr"] == lr0
    np.testing.assert_allclose(rates, _cosine(lr0, 4), rtol=1e-12, atol=0)


def test_warm_start_fit_starts_the_cosine_again_from_the_new_rate(data, rates):
    X, y, _ = data
    clf = _quiet(FCNetClassifier(hidden=(5,), max_iter=3, tol=0.0, batch_size=BATCH, warm_start=True,
                                 random_state=0), X, y)
    assert rates == pytest.approx(_cosine(2e-3, 3), rel=1e-12)
    assert clf._trainer.optimizer.lr < 1e-4  # the first fit ended near the cosine's end
    before = [w.copy() for w in clf.coefs_]
    rates.clear()
    _quiet(clf.set_params(max_iter=2, learning_rate_init=0.01), X, y)
    assert clf.n_iter_ == 2 and len(clf.loss_curve_) == 5
    assert rates == pytest.approx(_cosine(0.01, 2), rel=1e-12)
    assert all(not np.array_equal(a, b) for a, b in zip(before, clf.coefs_, strict=True))


def test_partial_fit_trains_at_a_constant_rate(data, rates):
    X, y, _ = data
    classes = np.unique(y)
    clf = _quiet(FCNetClassifier(hidden=(5,), max_iter=2, tol=0.0, batch_size=BATCH, random_state=0), X, y)
    rates.clear()
    clf.partial_fit(X, y)
    clf.set_params(learning_rate_init=0.05)  # as MLPClassifier: partial_fit goes on with the fitted optimizer
    clf.partial_fit(X, y)
    assert rates == [1e-3] * 6  # MLPClassifier's rate when none was given
    rates.clear()
    _quiet(clf.set_params(warm_start=True, max_iter=1), X, y)  # a fit takes the new ε₀, and partial_fit then too
    clf.partial_fit(X, y)
    assert rates[3:] == [0.05] * 3
    given = FCNetClassifier(hidden=(5,), lr=0.02, batch_size=BATCH, random_state=0)
    rates.clear()
    given.partial_fit(X, y, classes=classes)
    assert rates == [0.02] * 3


def test_warm_fit_at_a_constant_rate_after_a_cosine_starts_at_lr0(data, rates):
    X, y, t = data
    for cls, target, lr0 in ((FCNetClassifier, y, 2e-3), (FCNetRegressor, t, 1e-3)):
        est = _quiet(cls(hidden=(5,), max_iter=2, tol=0.0, batch_size=BATCH, warm_start=True, random_state=0),
                     X, target)
        assert est._trainer.optimizer.lr < 1e-4
        before = [w.copy() for w in est.coefs_]
        rates.clear()
        _quiet(est.set_params(schedule="none"), X, target)  # the cosine's end, ~0, is not this fit's rate
        assert rates == [1e-3] * 6
        assert all(not np.array_equal(a, b) for a, b in zip(before, est.coefs_, strict=True))
        rates.clear()
        _quiet(est.set_params(schedule="step", step_size=1, gamma=0.5, lr=0.01), X, target)
        assert rates == pytest.approx([0.01] * 3 + [0.005] * 3, rel=1e-12)


def test_warmup_then_the_default_cosine(data, rates):
    X, y, _ = data
    _quiet(FCNetClassifier(hidden=(5,), max_iter=4, tol=0.0, batch_size=BATCH, warmup=1, random_state=0), X, y)
    warm, total = 3, 12  # one epoch of 3 steps, then the cosine over the other 9
    expected = [2e-3 * (s + 1) / warm for s in range(warm)]
    expected += [2e-3 * (1 + math.cos(math.pi * s / (total - warm))) / 2 for s in range(total - warm)]
    assert rates == pytest.approx(expected, rel=1e-12)


def test_early_stopping_lays_the_cosine_over_the_training_rows_only(data, rates):
    X, y, _ = data
    # 120 rows, 12 held out: 108 train in 2 batches of 54 (all 120 would take 3)
    _quiet(FCNetClassifier(hidden=(5,), max_iter=3, tol=0.0, batch_size=54, early_stopping=True, random_state=0), X, y)
    total = 3 * 2
    assert rates == pytest.approx([2e-3 * (1 + math.cos(math.pi * s / total)) / 2 for s in range(total)], rel=1e-12)


def test_explicit_schedule_none_is_mlp_classifiers_constant_rate(data, rates):
    X, y, _ = data
    _quiet(FCNetClassifier(hidden=(5,), max_iter=2, tol=0.0, batch_size=BATCH, schedule="none", random_state=0), X, y)
    assert rates == [1e-3] * 6


_SOLVERS = [None, "adam", "sgd", "lbfgs"]
_RATES = ["constant", "invscaling", "adaptive"]


@pytest.mark.parametrize("cls", [FCNetClassifier, FCNetRegressor])
@pytest.mark.parametrize("solver,learning_rate,given", list(itertools.product(_SOLVERS, _RATES, [None, 0.03])))
def test_default_schedule_and_rate_over_every_solver(data, cls, solver, learning_rate, given):
    """The cosine applies unless the solver sets the rate itself (lbfgs; sgd's invscaling/adaptive)."""
    X, y, t = data
    est = _quiet(cls(hidden=(3,), max_iter=1, solver=solver, learning_rate=learning_rate, learning_rate_init=given,
                     random_state=0), X, y if cls is FCNetClassifier else t)
    own = solver == "lbfgs" or (solver == "sgd" and learning_rate != "constant")
    assert est._opts["schedule"] == ("none" if own else "cosine")
    if solver != "lbfgs":
        default = cls._lr_cosine if not own else 1e-3
        assert est._opts["lr"] == (given if given is not None else default)


def test_warm_fit_has_its_own_time_budget(data):
    X, y, _ = data
    # n_iter_no_change is never reached: each fit runs until its budget is used
    clf = FCNetClassifier(hidden=(5,), max_time=0.2, n_iter_no_change=10**9, warm_start=True,
                          random_state=0).fit(X, y)
    first = len(clf.loss_curve_)
    assert clf._trainer.time_used >= 0.2
    clf.fit(X, y)
    assert first >= 1 and clf.n_iter_ >= 1  # the first fit's seconds do not count against the second
    assert len(clf.loss_curve_) == first + clf.n_iter_


def test_pickle_from_before_the_per_fit_schedule_still_loads(data):
    X, y, _ = data
    clf = _quiet(FCNetClassifier(hidden=(5,), max_iter=2, random_state=0), X, y)
    state = clf.__getstate__()
    saved = dict(state["_trainer_state"])
    # what an estimator pickled with its schedule among the trainer's callbacks carried
    saved["callbacks"] = [{"t": 6, "base_lr": 2e-3}, *saved["callbacks"]]
    saved["callback_types"] = ["LRScheduler", *saved["callback_types"]]
    old = FCNetClassifier.__new__(FCNetClassifier)
    old.__setstate__({**state, "_trainer_state": saved})
    assert np.array_equal(old.predict_proba(X), clf.predict_proba(X))
