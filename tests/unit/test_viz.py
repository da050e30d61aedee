"""The confusion matrix behind confusion.png."""

from __future__ import annotations

import numpy as np
import pytest

from fcnet.viz import confusion_matrix


def test_confusion_matrix_counts_rows_true_columns_predicted_with_absent_classes():
    m = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 4)
    expected = np.array([[1, 1, 0, 0],
                         [0, 1, 0, 0],
                         [1, 0, 2, 0],
                         [0, 0, 0, 0]])  # class 3 never occurs: an empty row and column, still there
    np.testing.assert_array_equal(m, expected)
    assert m.dtype == np.int64 and m.sum() == 6


@pytest.mark.parametrize("seed", range(30))
def test_confusion_matrix_counts_what_scikit_learn_counts(seed):
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 12))
    m = int(rng.integers(1, 300))
    lo = -2 if seed % 3 == 0 else 0  # labels outside 0..n-1 are left out, on either side
    y_true, y_pred = rng.integers(lo, n + 2, m), rng.integers(lo, n + 2, m)
    want = sk_confusion_matrix(y_true, y_pred, labels=np.arange(n))
    got = confusion_matrix(y_true, y_pred, n)
    np.testing.assert_array_equal(got, want)
    assert got.dtype == np.int64


def test_confusion_matrix_refuses_what_scikit_learn_refuses():
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    for y_true, y_pred, match in [([0, 1, 1], [0, 1], "y_pred"),  # lengths differ
                                  ([5, 7], [0, 1], "class 0..1")]:  # no true label is a class
        with pytest.raises(ValueError):
            sk_confusion_matrix(np.array(y_true), np.array(y_pred), labels=np.arange(2))
        with pytest.raises(ValueError, match=match):
            confusion_matrix(np.array(y_true), np.array(y_pred), 2)


@pytest.mark.parametrize("bad", [[0.0, 1.5, 1.0], [0.0, np.nan, 1.0], [0.0, np.inf, 1.0]],
                         ids=["fraction", "nan", "inf"])
@pytest.mark.parametrize("side", ["y_true", "y_pred"])
def test_confusion_matrix_refuses_labels_that_are_not_whole_numbers(bad, side):
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    good = np.array([0.0, 1.0, 1.0])
    y_true, y_pred = (np.array(bad), good) if side == "y_true" else (good, np.array(bad))
    with pytest.raises(ValueError):  # scikit-learn: "continuous is not supported" / "contains NaN" / "infinity"
        sk_confusion_matrix(y_true, y_pred, labels=np.arange(2))
    # 1.5 is no class index: counting it as class 1 (its integer part) would put a sample in a wrong cell
    with pytest.raises(ValueError, match=f"{side} must hold whole class indices"):
        confusion_matrix(y_true, y_pred, 2)


def test_confusion_matrix_counts_whole_float_labels_as_scikit_learn_does():
    from sklearn.metrics import confusion_matrix as sk_confusion_matrix

    y_true, y_pred = np.array([0.0, 1.0, 1.0, 2.0, 5.0]), np.array([0.0, 0.0, 1.0, 2.0, 1.0])
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, 3),
                                  sk_confusion_matrix(y_true, y_pred, labels=np.arange(3)))
