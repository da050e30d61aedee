"""The confusion matrix behind confusion.png."""

from __future__ import annotations

import numpy as np

from fcnet.viz import confusion_matrix


def test_confusion_matrix_counts_rows_true_columns_predicted_with_absent_classes():
    m = confusion_matrix(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 0, 2]), 4)
    expected = np.array([[1, 1, 0, 0],
                         [0, 1, 0, 0],
                         [1, 0, 2, 0],
                         [0, 0, 0, 0]])  # class 3 never occurs: an empty row and column, still there
    np.testing.assert_array_equal(m, expected)
    assert m.dtype == np.int64 and m.sum() == 6
