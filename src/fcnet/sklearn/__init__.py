"""scikit-learn estimators trained by fcnet's engine: ``FCNetClassifier`` and ``FCNetRegressor``.

They follow MLPClassifier / MLPRegressor (``max_iter``, ``tol``, ``n_iter_no_change``,
``early_stopping``, ``sample_weight``, ``warm_start``, ``partial_fit``, ``loss_curve_``, ``coefs_``,
...) and take ``fcnet train``'s options under the same names (validated in ``fit`` through
``fcnet.train.options.coerce``):

    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> clf = make_pipeline(StandardScaler(), FCNetClassifier(random_state=0))

Pickling (joblib, ``GridSearchCV(n_jobs=2)``) stores the weights, optimizer state and generator
states as arrays and JSON-able values, never live engine objects; fcnet's own model files stay
safetensors.  ``fcnet.export.skl2onnx`` registers both estimators with skl2onnx.
"""

from fcnet.sklearn._estimators import FCNetClassifier, FCNetRegressor

__all__ = ["FCNetClassifier", "FCNetRegressor"]
