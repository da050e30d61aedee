"""scikit-learn's own estimator checks on FCNetClassifier and FCNetRegressor.

Every check applies and passes (none is listed as an expected failure); the array-API check is
skipped by scikit-learn itself unless SCIPY_ARRAY_API is set.
"""

from __future__ import annotations

from sklearn.utils.estimator_checks import parametrize_with_checks

from fcnet.sklearn import FCNetClassifier, FCNetRegressor

# small nets and few epochs keep the checks fast; the learning rate lets them learn the checks' toy data
ESTIMATORS = [FCNetClassifier(hidden=(16,), epochs=20, lr=0.01, batch_size=32),
              FCNetRegressor(hidden=(16,), epochs=20, lr=0.01, batch_size=32)]


@parametrize_with_checks(ESTIMATORS)
def test_sklearn_compatible(estimator, check):
    check(estimator)
