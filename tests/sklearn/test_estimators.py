"""FCNetClassifier / FCNetRegressor: options, pipelines, searches, pickling, input kinds, partial_fit."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from fcnet.errors import ConfigError
from fcnet.sklearn import FCNetClassifier, FCNetRegressor
from fcnet.train.options import coerce, resolve


@pytest.fixture(scope="module")
def digits():
    return load_digits(return_X_y=True)


@pytest.mark.parametrize("cls", [FCNetClassifier, FCNetRegressor])
def test_parameters_are_train_options_with_their_defaults(cls):
    defaults = resolve({})
    params = cls().get_params()
    # scikit-learn's MLP meanings and defaults where the two differ: early_stopping is a switch (with
    # n_iter_no_change as the patience), batch_size is min(200, n_samples), max_iter=200 epochs
    # (``epochs``, fcnet's name, is an alias that is unset by default)
    sklearn_own = {"early_stopping": False, "batch_size": 200, "epochs": None, "max_iter": 200, "tol": 1e-4,
                   "n_iter_no_change": 10, "validation_fraction": 0.1, "warm_start": False,
                   "init": "glorot", "hidden": (100,),  # MLPClassifier's net and init (docs/sklearn-names.md)
                   "schedule": None, "lr": None}  # a cosine from ε₀ = 2e-3 unless the solver sets the rate itself
    if cls is FCNetClassifier:  # smoothing generalises better on small data (benchmarks/RESULTS.md)
        sklearn_own["label_smoothing"] = 0.1
    shared = [name for name in params if name in defaults and name not in sklearn_own]
    assert len(shared) >= 19  # the other train options, lr and schedule (above) aside
    for name in shared:
        assert coerce(name, params[name]) == defaults[name], name
    assert {k: params[k] for k in sklearn_own} == sklearn_own
    assert {"random_state", "verbose"} <= set(params)
    assert params["validation_fraction"] == defaults["val_split"]


def test_bad_parameter_is_a_config_error_in_fit_not_init(digits):
    X, y = digits
    clf = FCNetClassifier(activation="bogus")  # scikit-learn convention: no validation in __init__
    with pytest.raises(ConfigError, match=r"activation.*relu"):
        clf.fit(X[:50], y[:50])
    with pytest.raises(ConfigError, match="n_iter_no_change"):
        FCNetClassifier(early_stopping=True, n_iter_no_change=0).fit(X[:50], y[:50])


# cross_val_score(make_pipeline(StandardScaler(), FCNetClassifier(random_state=0)), digits, cv=5) at the
# defaults, against scikit-learn's MLPClassifier's 0.938: the README's block, run by tests/unit/test_docs.py


def test_grid_and_randomized_search_with_two_jobs(digits):
    X, y = digits
    grid = {"hidden": [(16,), (64,)], "lr": [1e-4, 1e-2]}
    search = GridSearchCV(FCNetClassifier(epochs=5, batch_size=64, random_state=0), grid, cv=3, n_jobs=2)
    search.fit(X[:900], y[:900])
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) == 4
    assert search.best_score_ == scores.max()
    assert search.best_params_ == search.cv_results_["params"][int(scores.argmax())]
    # 5 epochs at lr 1e-4 learn far less than at 1e-2: the search sees the difference
    assert search.best_params_["lr"] == 1e-2
    assert search.best_estimator_.score(X[900:], y[900:]) > 0.8
    rand = RandomizedSearchCV(FCNetClassifier(epochs=3, random_state=0), {"hidden": [(8,), (32,)], "lr": [1e-3, 1e-2]},
                              n_iter=2, cv=2, n_jobs=2, random_state=0).fit(X[:400], y[:400])
    assert len(rand.cv_results_["params"]) == 2


def test_random_state_makes_fit_bit_identical(digits):
    X, y = digits
    kw = {"hidden": (32,), "epochs": 3, "dropout": 0.1}
    a = FCNetClassifier(random_state=3, **kw).fit(X[:500], y[:500]).predict_proba(X[500:700])
    b = FCNetClassifier(random_state=3, **kw).fit(X[:500], y[:500]).predict_proba(X[500:700])
    c = FCNetClassifier(random_state=4, **kw).fit(X[:500], y[:500]).predict_proba(X[500:700])
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_dataframe_string_labels_and_sparse_input(digits):
    pd = pytest.importorskip("pandas")
    X, y = digits
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    df = pd.DataFrame(X[:600], columns=[f"px{i}" for i in range(64)])
    clf = FCNetClassifier(hidden=(64,), epochs=20, lr=3e-3, batch_size=32, random_state=0).fit(df, names[y[:600]])
    assert list(clf.feature_names_in_) == list(df.columns)
    assert clf.n_features_in_ == 64
    assert sorted(clf.classes_) == sorted(names)
    pred = clf.predict(pd.DataFrame(X[600:800], columns=df.columns))
    assert pred.dtype.kind == "U" and set(pred) <= set(names)
    assert np.mean(pred == names[y[600:800]]) > 0.85
    proba = clf.predict_proba(pd.DataFrame(X[600:800], columns=df.columns))
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert np.array_equal(clf.classes_[proba.argmax(axis=1)], pred)
    # CSR input (as MLPClassifier accepts) trains and predicts exactly like the dense array
    dense = FCNetClassifier(hidden=(16,), epochs=2, random_state=0).fit(X[:300], y[:300])
    sparse = FCNetClassifier(hidden=(16,), epochs=2, random_state=0).fit(sp.csr_matrix(X[:300]), y[:300])
    assert np.array_equal(dense.predict_proba(X[300:400]), sparse.predict_proba(sp.csr_matrix(X[300:400])))


def test_partial_fit_epochs_equal_fit_and_need_classes(digits):
    X, y = digits
    kw = {"hidden": (32,), "random_state": 1, "schedule": "none"}  # partial_fit's constant rate in both
    with pytest.raises(ValueError, match="classes="):
        FCNetClassifier(**kw).partial_fit(X[:100], y[:100])
    inc = FCNetClassifier(**kw)
    for _ in range(3):
        inc.partial_fit(X[:400], y[:400], classes=np.arange(10))
    full = FCNetClassifier(epochs=3, **kw).fit(X[:400], y[:400])
    assert inc.n_iter_ == 1 and full.n_iter_ == 3 and inc.t_ == full.t_  # n_iter_: this call's epochs
    assert inc.loss_curve_ == full.loss_curve_
    assert full.loss_curve_[-1] < full.loss_curve_[0]
    assert np.array_equal(inc.predict_proba(X[400:500]), full.predict_proba(X[400:500]))


def test_pickle_stores_arrays_and_resumes_partial_fit_exactly(digits):
    X, y = digits
    a = FCNetClassifier(hidden=(32,), epochs=2, dropout=0.2, random_state=0).fit(X[:300], y[:300])
    state = a.__getstate__()
    assert "_trainer" not in state
    assert all(isinstance(v, np.ndarray) for v in state["_trainer_arrays"].values())
    b = pickle.loads(pickle.dumps(a))
    assert np.array_equal(a.predict_proba(X[300:400]), b.predict_proba(X[300:400]))
    # the optimizer moments and the shuffling/dropout generators came along: training continues identically
    a.partial_fit(X[:300], y[:300])
    b.partial_fit(X[:300], y[:300])
    assert np.array_equal(a.predict_proba(X[300:400]), b.predict_proba(X[300:400]))


def test_early_stopping_holds_out_validation_data(digits):
    X, y = digits
    clf = FCNetClassifier(hidden=(64,), epochs=200, lr=1e-2, early_stopping=True, n_iter_no_change=3,
                          validation_fraction=0.2, random_state=0).fit(X[:500], y[:500])
    assert clf.n_iter_ < 200
    assert len(clf.validation_scores_) == len(clf.loss_curve_) == clf.n_iter_


def test_regressor_mse_single_and_multi_output(rng):
    X = rng.standard_normal((600, 4))
    Y = np.c_[np.sin(X[:, 0]) + X[:, 1] ** 2 / 2, X[:, 2] * X[:, 3]]
    multi = FCNetRegressor(hidden=(64,), epochs=60, lr=3e-3, batch_size=32, random_state=0).fit(X[:500], Y[:500])
    pred = multi.predict(X[500:])
    assert pred.shape == (100, 2) and pred.dtype == np.float64
    assert multi.n_outputs_ == 2
    assert multi.score(X[500:], Y[500:]) > 0.8
    # the loss trained on is the mean squared error of the training targets
    mse = np.mean((multi.predict(X[:500]) - Y[:500]) ** 2)
    assert mse < np.var(Y[:500], axis=0).mean() / 5
    single = FCNetRegressor(hidden=(16,), epochs=5, random_state=0).fit(X[:500], Y[:500, 0])
    assert single.predict(X[500:]).shape == (100,)


def test_to_onnx_reproduces_predictions(digits, tmp_path):
    pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    X, y = digits
    clf = FCNetClassifier(hidden=(32,), batchnorm=True, epochs=3, random_state=0).fit(X[:500], y[:500])
    clf.to_onnx(tmp_path / "clf.onnx")
    sess = ort.InferenceSession(str(tmp_path / "clf.onnx"), providers=["CPUExecutionProvider"])
    got = sess.run(["probabilities"], {"x": X[500:].astype(np.float32)})[0]
    np.testing.assert_allclose(got, clf.predict_proba(X[500:]), atol=1e-5, rtol=0)
    reg = FCNetRegressor(hidden=(8,), epochs=2, random_state=0).fit(X[:300], X[:300, :2])
    reg.to_onnx(tmp_path / "reg.onnx")
    sess = ort.InferenceSession(str(tmp_path / "reg.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(["scores"], {"x": X[300:].astype(np.float32)})[0], reg.predict(X[300:]),
                               atol=1e-5, rtol=0)
