"""The MLPClassifier / MLPRegressor contract: stopping, ConvergenceWarning, sample_weight, warm_start,
fitted attributes, verbose output, multilabel targets (binary cross-entropy vs PyTorch)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning

from fcnet.nn.losses import BCEWithLogitsLoss
from fcnet.sklearn import FCNetClassifier, FCNetRegressor
from fcnet.tensor import Tensor


@pytest.fixture(scope="module")
def blobs():
    X, y = make_classification(n_samples=300, n_features=8, n_informative=5, n_classes=3, random_state=0)
    return X, y


def _relu_forward(est, X):
    """MLPClassifier's forward pass from coefs_ / intercepts_ (and the input standardisation)."""
    a = (X - est.mean_) / est.std_
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_, strict=True)):
        a = a @ W + b
        if i < len(est.coefs_) - 1:
            a = np.maximum(a, 0)
    return a


def test_stops_on_training_loss_and_records_mlp_attributes(blobs):
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # converging is not warned about
        clf = FCNetClassifier(hidden=(16,), tol=1e-2, n_iter_no_change=3, random_state=0).fit(X, y)
    n = clf.n_iter_
    assert 4 <= n < 200
    assert len(clf.loss_curve_) == n and clf.loss_ == clf.loss_curve_[-1]
    assert clf.best_loss_ == min(clf.loss_curve_)
    # MLPClassifier's rule: the last n_iter_no_change + 1 epochs each failed to beat the best loss before
    # them by tol, and the epoch before them did beat it (or the run would have stopped earlier)
    curve = clf.loss_curve_
    assert all(curve[i] > min(curve[:i]) - 1e-2 for i in range(n - 4, n))
    assert curve[n - 5] <= min(curve[:n - 5]) - 1e-2
    assert clf.t_ == n * len(X)
    assert clf.validation_scores_ is None and clf.best_validation_score_ is None
    assert clf.n_layers_ == 3 and clf.n_outputs_ == 3 and clf.out_activation_ == "softmax"
    assert [W.shape for W in clf.coefs_] == [(8, 16), (16, 3)]
    assert [b.shape for b in clf.intercepts_] == [(16,), (3,)]
    np.testing.assert_allclose(_relu_forward(clf, X), clf._scores(X), rtol=1e-12, atol=1e-12)


def test_max_iter_reached_warns_convergence_and_epochs_is_an_alias(blobs):
    X, y = blobs
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\)"):
        a = FCNetClassifier(hidden=(8,), max_iter=3, random_state=0).fit(X, y)
    with pytest.warns(ConvergenceWarning, match=r"Maximum iterations \(3\)"):
        b = FCNetClassifier(hidden=(8,), max_iter=50, epochs=3, random_state=0).fit(X, y)
    assert a.n_iter_ == b.n_iter_ == 3
    assert a.loss_curve_ == b.loss_curve_


@pytest.mark.parametrize("cls", [FCNetClassifier, FCNetRegressor])
def test_integer_sample_weight_equals_repeated_rows_and_zero_equals_removed(cls, blobs):
    X, y = blobs
    X, y = X[:120], y[:120]
    w = np.random.default_rng(0).integers(0, 4, len(X))
    kw = {"hidden": (16,), "max_iter": 30, "random_state": 0}  # one full batch: weighting is then exact
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        weighted = cls(**kw).fit(X, y, sample_weight=w)
        repeated = cls(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
        plain = cls(**kw).fit(X, y)
    method = "predict_proba" if cls is FCNetClassifier else "predict"
    np.testing.assert_allclose(getattr(weighted, method)(X), getattr(repeated, method)(X), rtol=1e-7, atol=1e-9)
    assert not np.allclose(getattr(weighted, method)(X), getattr(plain, method)(X), rtol=1e-3)
    # partial_fit takes the weights too, in MLPClassifier's argument order (X, y, sample_weight, classes)
    extra = {"classes": np.unique(y)} if cls is FCNetClassifier else {}
    inc = cls(**kw).partial_fit(X, y, w, **extra)
    rep = cls(**kw).partial_fit(np.repeat(X, w, axis=0), np.repeat(y, w), **extra)
    np.testing.assert_allclose(getattr(inc, method)(X), getattr(rep, method)(X), rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("solver", ["lbfgs", "adam"])
def test_equal_sample_weights_of_two_are_repeated_rows_under_alpha(solver, blobs):
    """alpha's penalty is (α / 2 Σ w_i) Σ ‖W‖², as MLPClassifier's: weights all 2 are every row twice, which
    halves the penalty's share against no weights (the common weight is not dropped with the weight column)."""
    X, y = blobs
    X, y = X[:100], y[:100]
    kw = {"hidden": (8,), "alpha": 1.0, "solver": solver, "max_iter": 15, "tol": 0.0, "batch_size": 1000,
          "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        twice = FCNetClassifier(**kw).fit(X, y, sample_weight=np.full(len(y), 2.0))
        repeated = FCNetClassifier(**kw).fit(np.repeat(X, 2, axis=0), np.repeat(y, 2))
        plain = FCNetClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(twice.predict_proba(X), repeated.predict_proba(X), rtol=1e-7, atol=1e-9)
    assert twice.loss_ == pytest.approx(repeated.loss_, rel=1e-9)
    assert not np.allclose(twice.predict_proba(X), plain.predict_proba(X), rtol=1e-3)


@pytest.mark.parametrize("cls", [FCNetClassifier, FCNetRegressor])
def test_partial_fit_refuses_early_stopping_as_mlp(cls, blobs):
    """MLPClassifier's partial_fit raises ValueError with early_stopping=True (one epoch has nothing to stop)."""
    from sklearn.neural_network import MLPClassifier

    X, y = blobs
    extra = {"classes": np.unique(y)} if cls is FCNetClassifier else {}
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True"):
        MLPClassifier(early_stopping=True).partial_fit(X, y, classes=np.unique(y))
    est = cls(hidden=(4,), early_stopping=True, random_state=0)
    with pytest.raises(ValueError, match="partial_fit does not support early_stopping=True") as err:
        est.partial_fit(X, y, **extra)
    assert "\n" not in str(err.value) and not hasattr(est, "n_iter_")


def test_warm_start_continues_and_cold_refit_restarts(blobs):
    X, y = blobs
    # at a constant rate (MLPClassifier's); the default cosine starts anew in each fit (the test below)
    kw = {"hidden": (16,), "max_iter": 4, "random_state": 0, "schedule": "none"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        warm = FCNetClassifier(warm_start=True, **kw).fit(X, y)
        first = list(warm.loss_curve_)
        warm.fit(X, y)
        eight = FCNetClassifier(**{**kw, "max_iter": 8}).fit(X, y)
        cold = FCNetClassifier(**kw).fit(X, y)
        cold.fit(X, y)
    assert warm.n_iter_ == 4 and len(warm.loss_curve_) == 8 and warm.loss_curve_[:4] == first
    # the second fit went on from the first one's weights and optimizer state: the same as 8 epochs at once
    assert warm.loss_curve_ == eight.loss_curve_
    assert cold.n_iter_ == 4 and cold.loss_curve_ == first


def test_warm_fit_may_name_the_adam_it_already_trains(blobs):
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = FCNetClassifier(hidden=(4,), max_iter=2, warm_start=True, random_state=0).fit(X, y)
        clf.set_params(solver="adam").fit(X, y)  # the same optimizer, named in scikit-learn's words
        assert len(clf.loss_curve_) == 4
        with pytest.raises(ValueError, match=r"solver cannot change \('adam' -> 'momentum'\)"):
            clf.set_params(solver="sgd").fit(X, y)
        other = FCNetClassifier(hidden=(4,), max_iter=2, warm_start=True, optimizer="momentum", random_state=0)
        with pytest.raises(ValueError, match=r"solver cannot change \('momentum' -> 'adam'\)"):
            other.fit(X, y).set_params(solver="adam").fit(X, y)


def test_epoch_counts_over_fit_warm_fit_and_partial_fit_are_mlp_classifiers(blobs):
    """n_iter_ counts the epochs of the last call; t_ and loss_curve_ go on (scikit-learn's, as installed)."""
    from sklearn.neural_network import MLPClassifier

    X, y = blobs
    kw = {"hidden_layer_sizes": (8,), "max_iter": 4, "n_iter_no_change": 100, "warm_start": True, "random_state": 0}
    counts = []
    for est in (FCNetClassifier(**kw), MLPClassifier(**kw)):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            est.fit(X, y)
            seen = [(est.n_iter_, est.t_, len(est.loss_curve_))]
            est.set_params(max_iter=3).fit(X, y)
            seen.append((est.n_iter_, est.t_, len(est.loss_curve_)))
            est.partial_fit(X, y)
            seen.append((est.n_iter_, est.t_, len(est.loss_curve_)))
        counts.append(seen)
    assert counts[0] == counts[1] == [(4, 1200, 4), (3, 2100, 7), (1, 2400, 8)]


def test_early_stopping_scores_validation_and_keeps_best(blobs):
    X, y = blobs
    clf = FCNetClassifier(hidden=(16,), early_stopping=True, n_iter_no_change=2, tol=0.0, lr=0.05,
                          random_state=0).fit(X, y)
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == clf.n_iter_
    assert clf.best_validation_score_ == max(clf.validation_scores_)
    assert all(0.0 <= s <= 1.0 for s in clf.validation_scores_)
    assert clf.best_loss_ is None
    reg = FCNetRegressor(hidden=(16,), early_stopping=True, n_iter_no_change=2, random_state=0).fit(X, X[:, 0] * 2)
    assert reg.best_validation_score_ == max(reg.validation_scores_) > 0.5  # R²


def test_warm_early_stopping_fit_keeps_the_best_weights_of_all_fits(blobs):
    """As MLPClassifier: a warm fit that does not beat the best validation score so far ends on the weights
    that scored it, not on its own last epoch's."""
    X, y = blobs
    clf = FCNetClassifier(hidden=(16,), early_stopping=True, n_iter_no_change=3, warm_start=True, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
        best, weights = clf.best_validation_score_, [w.copy() for w in clf.coefs_]
        clf.set_params(learning_rate_init=5.0, max_iter=1, schedule="none").fit(X, y)  # one epoch that wrecks them
    assert clf.validation_scores_[-1] < best and clf.best_validation_score_ == best
    assert all(np.array_equal(a, b) for a, b in zip(weights, clf.coefs_, strict=True))


def test_verbose_prints_as_mlp_on_stdout_without_progress_bars(blobs, capsys):
    X, y = blobs
    FCNetClassifier(hidden=(8,), tol=1.0, n_iter_no_change=1, verbose=True, random_state=0).fit(X, y)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0].startswith("Iteration 1, loss = ") and len(lines[0].split("= ")[1]) == 10
    assert lines[-1] == "Training loss did not improve more than tol=1.000000 for 1 consecutive epochs. Stopping."
    assert err == ""
    FCNetClassifier(hidden=(8,), max_iter=2, random_state=0).partial_fit(X, y, classes=[0, 1, 2])
    assert capsys.readouterr() == ("", "")


def test_predictions_do_not_depend_on_the_rows_batched_together(blobs):
    X, y = blobs
    clf = FCNetClassifier(hidden=(32,), max_iter=5, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(X, y)
    whole = clf.predict_proba(X)
    rows = np.concatenate([clf.predict_proba(X[i:i + 1]) for i in range(0, 40)])
    np.testing.assert_allclose(rows, whole[:40], rtol=1e-12, atol=1e-15)


def test_multilabel_sigmoid_outputs():
    X, Y = make_multilabel_classification(n_samples=300, n_features=10, n_classes=4, random_state=0)
    clf = FCNetClassifier(hidden=(32,), random_state=0).fit(X[:240], Y[:240])
    assert clf.out_activation_ == "logistic" and list(clf.classes_) == [0, 1, 2, 3]
    proba = clf.predict_proba(X[240:])
    assert proba.shape == (60, 4) and not np.allclose(proba.sum(axis=1), 1.0)
    pred = clf.predict(X[240:])
    assert np.array_equal(pred, (proba > 0.5).astype(int))
    # per-label accuracy (MLPClassifier: 0.78 here); predicting all zeros would score 0.625
    assert np.mean(pred == Y[240:]) > np.mean(Y[240:] == 0) + 0.1
    with pytest.raises(ValueError, match="indicator matrix"):
        clf.partial_fit(X[:10], Y[:10, :3])
    with pytest.raises(ValueError, match="loss='hinge' scores one class per row"):  # not silently BCE
        FCNetClassifier(hidden=(4,), loss="hinge", max_iter=1).fit(X[:20], Y[:20])


def test_bce_with_logits_equals_torch_in_float64():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    s = rng.standard_normal((7, 5)) * 30  # large |s|: the stable form must not overflow
    s[0, 0] = 0.0
    t = rng.random((7, 5))
    for reduction in ("mean", "sum", "none"):
        x = Tensor(s.copy(), requires_grad=True)
        out = BCEWithLogitsLoss(reduction)(x, t)
        (out if reduction != "none" else out * Tensor(np.arange(35.0).reshape(7, 5))).sum().backward()
        ts = torch.tensor(s, dtype=torch.float64, requires_grad=True)
        ref = torch.nn.BCEWithLogitsLoss(reduction=reduction)(ts, torch.tensor(t))
        (ref if reduction != "none" else ref * torch.arange(35.0, dtype=torch.float64).reshape(7, 5)).sum().backward()
        np.testing.assert_allclose(out.data, ref.detach().numpy(), rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(x.grad, ts.grad.numpy(), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="shape"):
        BCEWithLogitsLoss()(Tensor(s), t[:, :2])
    with pytest.raises(ValueError, match="reduction"):
        BCEWithLogitsLoss("avg")


@pytest.mark.parametrize("cls", [FCNetClassifier, FCNetRegressor])
def test_batchnorm_with_one_sample_per_batch_is_refused_as_scikit_learn_expects(cls, blobs):
    from sklearn.utils.estimator_checks import check_fit2d_1sample

    check_fit2d_1sample(cls.__name__, cls(batchnorm=True))  # the error names n_samples=1
    X, y = blobs
    with pytest.raises(ValueError, match="batch_size=1; give more samples or set batchnorm=False"):
        cls(batchnorm=True, batch_size=1, max_iter=1).fit(X[:20], y[:20])


def test_warm_start_fit_takes_the_new_max_iter_and_learning_rate_and_refuses_a_new_net(blobs):
    X, y = blobs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf = FCNetClassifier(hidden=(8,), warm_start=True, max_iter=2, random_state=0, schedule="none").fit(X, y)
        clf.set_params(max_iter=3, learning_rate_init=0.05, alpha=1e-3).fit(X, y)  # as MLPClassifier re-reads them
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 5
    assert clf._trainer.optimizer.lr == 0.05 and clf._trainer.loss_fn.alpha == 1e-3
    with pytest.raises(ValueError, match=r"hidden_layer_sizes cannot change .*warm_start=False"):
        clf.set_params(hidden_layer_sizes=(4,)).fit(X, y)
    with pytest.raises(ValueError, match=r"activation cannot change"):
        clf.set_params(hidden_layer_sizes=None, activation="tanh").fit(X, y)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 5


@pytest.mark.parametrize("seed", range(4))
def test_early_stopping_holds_out_only_rows_that_weigh(seed, blobs, monkeypatch):
    from sklearn.utils.estimator_checks import check_classifiers_one_label_sample_weights

    # half the weights 0: a held-out set of zero-weight rows had no score (scikit-learn's error, not fcnet's)
    check_classifiers_one_label_sample_weights("FCNetClassifier", FCNetClassifier(early_stopping=True,
                                                                                  random_state=seed))
    X, y = blobs
    w = (np.arange(len(X)) % 3 == 0).astype(float)  # two rows of three removed
    held_out = []
    score = FCNetClassifier._val_score

    def spy(self, x, t, wv):
        held_out.append((x.copy(), t.copy(), wv.copy()))
        return score(self, x, t, wv)

    monkeypatch.setattr(FCNetClassifier, "_val_score", spy)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        a = FCNetClassifier(hidden=(8,), early_stopping=True, max_iter=5, random_state=seed).fit(X, y, sample_weight=w)
        n_a = len(held_out)
        b = FCNetClassifier(hidden=(8,), early_stopping=True, max_iter=5, random_state=seed).fit(X[w > 0], y[w > 0])
    assert n_a == len(a.validation_scores_) == 5 and len(held_out) == 10
    # the same rows held out, in the same order, as when the others are removed; every one of them weighs
    (xa, ta, wa), (xb, tb, wb) = held_out[0], held_out[n_a]
    np.testing.assert_array_equal(xa, xb)
    np.testing.assert_array_equal(ta, tb)
    assert (wa > 0).all() and (wb > 0).all()
    # the scores are of two different trainings: the zero-weight rows still fill a's mini-batches (as in
    # MLPClassifier), so a takes two steps an epoch to b's one; on these blobs they agree to within a row
    n_val = len(xa)
    assert np.allclose(a.validation_scores_, b.validation_scores_, rtol=0, atol=1.01 / n_val)


def test_divergence_names_the_estimators_parameters(blobs):
    from fcnet.errors import DivergenceError

    X, _ = blobs
    with pytest.raises(DivergenceError, match=r"epoch \d+ .*learning_rate_init \(now 10, e\.g\. 1\) or clip_norm=5$"):
        FCNetRegressor(hidden=(8,), solver="sgd", learning_rate_init=10.0, random_state=0).fit(X, X[:, 0] * 1e3)


def test_multiclass_multioutput_targets_are_refused_as_such_before_any_state():
    X = np.random.default_rng(0).standard_normal((30, 3))
    Y = np.c_[np.arange(30) % 3, np.arange(30) % 2]
    clf = FCNetClassifier(max_iter=2)
    with pytest.raises(ValueError, match=r"1-D class labels or a 0/1 indicator matrix .*got multiclass-multioutput"):
        clf.fit(X, Y)
    assert not hasattr(clf, "classes_")
