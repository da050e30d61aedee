"""scikit-learn's own estimator checks on DEFAULT-constructed FCNetClassifier and FCNetRegressor.

Every check applies and passes (none is listed as an expected failure); the array-API check is
skipped by scikit-learn itself unless SCIPY_ARRAY_API is set.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from fcnet.sklearn import FCNetClassifier, FCNetRegressor


@parametrize_with_checks([FCNetClassifier(), FCNetRegressor()])
def test_sklearn_compatible(estimator, check):
    check(estimator)
