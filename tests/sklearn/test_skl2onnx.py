"""A whole Pipeline (StandardScaler + fcnet estimator) goes to ONNX through skl2onnx."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from fcnet.sklearn import FCNetClassifier, FCNetRegressor

skl2onnx = pytest.importorskip("skl2onnx")
ort = pytest.importorskip("onnxruntime")
import fcnet.export.skl2onnx_convert  # noqa: E402,F401  (registers the converters)


def _session(onx):
    return ort.InferenceSession(onx.SerializeToString(), providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("labels", ["int", "str"])
def test_pipeline_classifier_to_onnx_equals_predict_proba(labels):
    X, y = load_digits(return_X_y=True)
    if labels == "str":
        y = np.array([f"digit {d}" for d in y])
    pipe = make_pipeline(StandardScaler(), FCNetClassifier(hidden=(32,), batchnorm=labels == "str", max_iter=15,
                                                           random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X[:1200], y[:1200])
    onx = skl2onnx.to_onnx(pipe, X[:1].astype(np.float32), options={FCNetClassifier: {"zipmap": False}})
    label, proba = _session(onx).run(None, {"X": X[1200:].astype(np.float32)})
    np.testing.assert_allclose(proba, pipe.predict_proba(X[1200:]), atol=1e-5, rtol=0)
    assert np.array_equal(label, pipe.predict(X[1200:]))
    # with the default ZipMap the probabilities come as one {class: p} dict per row
    zipped = _session(skl2onnx.to_onnx(pipe, X[:1].astype(np.float32)))
    zipped = zipped.run(None, {"X": X[1200:1203].astype(np.float32)})
    assert set(zipped[1][0]) == set(pipe.classes_)


def test_pipeline_regressor_to_onnx_equals_predict():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 5)) * [1, 10, 100, 1, 1]
    y = 50 + 20 * X[:, 0] + X[:, 1] + 0.01 * X[:, 2] ** 2
    pipe = make_pipeline(StandardScaler(), FCNetRegressor(hidden=(16,), max_iter=20, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X, y)
    onx = skl2onnx.to_onnx(pipe, X[:1].astype(np.float32))
    (got,) = _session(onx).run(None, {"X": X.astype(np.float32)})
    np.testing.assert_allclose(got.ravel(), pipe.predict(X), rtol=1e-5, atol=1e-3)  # float32 of values ~50


@pytest.mark.parametrize("zipmap", [False, True])
def test_pipeline_multilabel_classifier_to_onnx_equals_predict_proba(zipmap):
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(n_samples=300, n_features=8, n_classes=4, random_state=0)
    pipe = make_pipeline(StandardScaler(), FCNetClassifier(hidden=(16,), max_iter=20, random_state=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        pipe.fit(X[:200], Y[:200])
    onx = skl2onnx.to_onnx(pipe, X[:1].astype(np.float32), options={FCNetClassifier: {"zipmap": zipmap}})
    label, proba = _session(onx).run(None, {"X": X[200:].astype(np.float32)})
    if zipmap:  # one {label index: p} dict per row
        proba = np.array([[row[k] for k in range(Y.shape[1])] for row in proba])
    np.testing.assert_allclose(proba, pipe.predict_proba(X[200:]), atol=1e-5, rtol=0)
    assert label.shape == (100, Y.shape[1]) and label.dtype == np.int64
    assert np.array_equal(label, pipe.predict(X[200:]))


def _iris_pipe(est, y=None):
    from sklearn.datasets import load_iris

    X, t = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return X, make_pipeline(StandardScaler(), est).fit(X, t if y is None else y(t, X))


def test_float64_input_pipeline_to_onnx_outputs_float64():
    # to_onnx(pipe, X[:1]) with X float64, as X usually is: skl2onnx declares float64 outputs
    X, clf = _iris_pipe(FCNetClassifier(hidden=(8,), activation="tanh", max_iter=20, random_state=0))
    label, proba = _session(skl2onnx.to_onnx(clf, X[:1], options={FCNetClassifier: {"zipmap": False}})).run(
        None, {"X": X})
    assert proba.dtype == np.float64
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5, rtol=0)
    assert np.array_equal(label, clf.predict(X))
    _, reg = _iris_pipe(FCNetRegressor(hidden=(8,), max_iter=20, random_state=0), lambda t, X: X[:, 2:] * 10)
    onx = skl2onnx.to_onnx(reg, X[:1])
    assert [d.dim_param or d.dim_value for d in onx.graph.output[0].type.tensor_type.shape.dim][1] == 2
    (got,) = _session(onx).run(None, {"X": X})
    assert got.dtype == np.float64 and got.shape == (150, 2)
    np.testing.assert_allclose(got, reg.predict(X), rtol=1e-5, atol=1e-4)


def test_float_labels_and_nocl_to_onnx():
    X, clf = _iris_pipe(FCNetClassifier(hidden=(8,), max_iter=20, random_state=0), lambda t, X: t.astype(float))
    x = X.astype(np.float32)
    label, _ = _session(skl2onnx.to_onnx(clf, x[:1], options={FCNetClassifier: {"zipmap": False}})).run(None, {"X": x})
    assert label.dtype == np.int64 and np.array_equal(label, clf.predict(X))  # 0.0, 1.0, 2.0 as int64
    _, named = _iris_pipe(FCNetClassifier(hidden=(8,), max_iter=20, random_state=0),
                          lambda t, X: np.array(["setosa", "versicolor", "virginica"])[t])
    opts = {FCNetClassifier: {"zipmap": False, "nocl": True}}
    label, _ = _session(skl2onnx.to_onnx(named, x[:1], options=opts)).run(None, {"X": x})
    assert np.array_equal(named.classes_[label], named.predict(X))  # nocl: the class index
