"""Per-fit overhead on small data: one threadpoolctl controller per process, no weight column when
every sample weight is equal (the results stay the same bits)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import threadpoolctl
from sklearn.exceptions import ConvergenceWarning

import fcnet
from fcnet.sklearn import FCNetRegressor, _base
from fcnet.sklearn._estimators import _ClassLoss, _SquaredError


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 4))
    return X, X @ [1.0, -2.0, 0.5, 0.0] + 0.1 * rng.standard_normal(90)


def _fit(X, y, w=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return FCNetRegressor(hidden=(8,), max_iter=6, batch_size=32, random_state=0).fit(X, y, sample_weight=w)


def test_the_threadpool_controller_is_made_once(data, monkeypatch):
    made = []
    real = threadpoolctl.ThreadpoolController

    def counting():
        made.append(1)
        return real()

    monkeypatch.setattr(threadpoolctl, "ThreadpoolController", counting)
    monkeypatch.setattr(threadpoolctl, "threadpool_limits", lambda *a, **k: pytest.fail("a new controller"))
    monkeypatch.setattr(_base, "_controller", None)
    X, y = data
    for _ in range(2):
        _fit(X, y).predict(X)
    assert len(made) == 1


def test_equal_weights_train_without_a_weight_column(data):
    X, y = data
    plain, threes, uneven = _fit(X, y), _fit(X, y, np.full(len(X), 3.0)), _fit(X, y, np.arange(len(X)) % 3)
    assert plain._trainer.loss_fn.weighted is False and threes._trainer.loss_fn.weighted is False
    assert uneven._trainer.loss_fn.weighted is True
    assert plain.loss_curve_ != uneven.loss_curve_


@pytest.mark.parametrize("per_sample", [_SquaredError(), _ClassLoss(False, "cross-entropy", 1.0, 0.1),
                                        _ClassLoss(True, "cross-entropy", 1.0, 0.0)])
def test_the_unweighted_loss_is_the_equal_weight_loss_bit_for_bit(per_sample):
    rng = np.random.default_rng(1)
    s = rng.standard_normal((20, 3))
    t = (rng.integers(0, 3, (20, 1)) if isinstance(per_sample, _ClassLoss) and not per_sample.multilabel
         else rng.integers(0, 2, (20, 3)) if isinstance(per_sample, _ClassLoss) else rng.standard_normal((20, 3)))
    t = t.astype(np.float64)
    out = []
    for weighted in (True, False):
        loss_fn = _base.WeightedLoss(per_sample)
        loss_fn.weighted = weighted
        scores = fcnet.tensor(s, requires_grad=True)
        loss = loss_fn(scores, np.concatenate([t, np.ones((20, 1))], axis=1) if weighted else t)
        loss.backward()
        out.append((loss.numpy(), scores.grad))
    assert np.array_equal(out[0][0], out[1][0]) and np.array_equal(out[0][1], out[1][1])
