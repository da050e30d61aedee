"""skl2onnx converters for ``FCNetClassifier`` and ``FCNetRegressor``: ``to_onnx(pipeline)`` exports them.

Importing ``fcnet.export.skl2onnx_convert`` (or calling ``register()``) registers both estimators, so
that ``skl2onnx.to_onnx(make_pipeline(StandardScaler(), FCNetClassifier()), X[:1].astype(np.float32))``
writes the whole Pipeline.  The net is the estimator's ``prediction_steps()`` (standardisation,
layers, softmax) as float32 ONNX operators; a classifier outputs ``label`` (Gather of ``classes_``
at argmax p) and ``probabilities`` (a ZipMap after it unless ``options={"zipmap": False}``).
A multilabel classifier (sigmoid outputs p_k = σ(s_k)) outputs ``label`` as the int64 indicator
matrix s_k > 0, as its ``predict``, and ``probabilities`` (N, K) as its ``predict_proba``.
A float64 input (``to_onnx(pipe, X[:1])`` with X float64) gives float64 outputs, computed in
float32; numeric labels (float ones included) are int64; ``options={"nocl": True}`` outputs the
class index as ``label``; a regressor's output is (N, K) for K targets.
Needs the ``export`` extra (skl2onnx, onnx, onnxruntime).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fcnet.sklearn import FCNetClassifier, FCNetRegressor

__all__ = ["register"]

_registered = False


def register() -> None:
    """Register the shape calculators and converters of both estimators with skl2onnx (idempotent)."""
    global _registered
    if _registered:
        return
    from skl2onnx import update_registered_converter
    from skl2onnx.common.shape_calculator import (
        calculate_linear_classifier_output_shapes,
        calculate_linear_regressor_output_shapes,
    )

    def classifier_shapes(operator: Any) -> None:
        calculate_linear_classifier_output_shapes(operator)
        if getattr(operator.raw_operator, "_multilabel", False):  # label: the (N, K) indicator matrix
            from skl2onnx.common.data_types import Int64TensorType

            n = operator.inputs[0].get_first_dimension()
            operator.outputs[0].set_type(Int64TensorType(shape=[n, len(operator.raw_operator.classes_)]))

    update_registered_converter(FCNetClassifier, "FcnetFCNetClassifier", classifier_shapes, _convert,
                                options={"zipmap": [True, False, "columns"], "nocl": [True, False]})
    def regressor_shapes(operator: Any) -> None:
        calculate_linear_regressor_output_shapes(operator)  # (N, 1), in the input's float type
        n = operator.inputs[0].get_first_dimension()
        operator.outputs[0].type.shape = [n, int(operator.raw_operator.n_outputs_)]  # (N, K) for K targets

    update_registered_converter(FCNetRegressor, "FcnetFCNetRegressor", regressor_shapes, _convert)
    _registered = True


def _const(scope: Any, container: Any, name: str, value: np.ndarray) -> str:
    from onnx import TensorProto

    full = scope.get_unique_variable_name(name)
    value = np.asarray(value, dtype=np.float32)
    container.add_initializer(full, TensorProto.FLOAT, list(value.shape), value.ravel().tolist())
    return full


def _node(scope: Any, container: Any, op: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
    out = output or scope.get_unique_variable_name(op.lower())
    container.add_node(op, inputs, [out], name=scope.get_unique_operator_name(op), **attrs)
    return out


def _convert(scope: Any, operator: Any, container: Any) -> None:
    """Emit the estimator's prediction path as ONNX nodes."""
    est = operator.raw_operator
    name = operator.inputs[0].full_name
    if operator.inputs[0].type.__class__.__name__ != "FloatTensorType":
        from onnx import TensorProto

        name = _node(scope, container, "Cast", [name], to=TensorProto.FLOAT)
    scores = name
    for step in est.prediction_steps():
        a = step.arrays
        if step.kind in ("softmax", "sigmoid"):
            scores = name
        if step.kind == "standardize":
            mean = np.asarray(a["mean"], np.float64) * float(step.attrs.get("scale", 1.0))
            name = _node(scope, container, "Sub", [name, _const(scope, container, "mean", mean)])
            scale = float(step.attrs.get("scale", 1.0)) * np.asarray(a["std"], np.float64)
            name = _node(scope, container, "Div", [name, _const(scope, container, "std", scale)])
        elif step.kind == "linear":
            name = _node(scope, container, "MatMul", [name, _const(scope, container, "W", a["weight"].T)])
            name = _node(scope, container, "Add", [name, _const(scope, container, "b", a["bias"])])
        elif step.kind == "batchnorm":
            inv = a["weight"] / np.sqrt(a["running_var"].astype(np.float64) + step.attrs["eps"])
            name = _node(scope, container, "Mul", [name, _const(scope, container, "bn_scale", inv)])
            shift = a["bias"] - a["running_mean"] * inv
            name = _node(scope, container, "Add", [name, _const(scope, container, "bn_shift", shift)])
        elif step.kind == "relu":
            name = _node(scope, container, "Relu", [name])
        elif step.kind == "leaky_relu":
            name = _node(scope, container, "LeakyRelu", [name], alpha=float(step.attrs["negative_slope"]))
        elif step.kind == "sigmoid":
            name = _node(scope, container, "Sigmoid", [name])
        elif step.kind == "tanh":
            name = _node(scope, container, "Tanh", [name])
        elif step.kind == "softmax":
            name = _node(scope, container, "Softmax", [name], axis=1)
        else:  # pragma: no cover - prediction_steps emits only the kinds above
            raise ValueError(f"cannot convert step {step.kind!r}")
    from onnx import TensorProto

    _output(scope, container, name, operator.outputs[0 if isinstance(est, FCNetRegressor) else 1])
    if isinstance(est, FCNetRegressor):
        return
    label = operator.outputs[0].full_name
    if getattr(est, "_multilabel", False):  # predict: the indicator matrix s_k > 0 (σ(s_k) > 0.5)
        positive = _node(scope, container, "Greater", [scores, _const(scope, container, "zero", np.zeros(1))])
        _node(scope, container, "Cast", [positive], label, to=TensorProto.INT64)
        return
    idx = _node(scope, container, "ArgMax", [name], axis=1, keepdims=0)
    if container.get_options(est, {"nocl": False})["nocl"]:  # skl2onnx's nocl: the class index, not its label
        _node(scope, container, "Identity", [idx], label)
        return
    classes = est.classes_
    cname = scope.get_unique_variable_name("classes")
    # skl2onnx declares int64 labels for numbers: float labels are whole (scikit-learn refuses others)
    if classes.dtype.kind in "iubf":
        container.add_initializer(cname, TensorProto.INT64, [len(classes)], classes.astype(np.int64).tolist())
    else:
        container.add_initializer(cname, TensorProto.STRING, [len(classes)],
                                  [str(c).encode() for c in classes])
    _node(scope, container, "Gather", [cname, idx], label, axis=0)


def _output(scope: Any, container: Any, name: str, variable: Any) -> None:
    """Write the float32 result ``name`` to ``variable``, cast to float64 where skl2onnx declared it so
    (a Pipeline whose input is float64: its outputs follow the input's type).
    """
    if variable.type.__class__.__name__ == "DoubleTensorType":
        from onnx import TensorProto

        _node(scope, container, "Cast", [name], variable.full_name, to=TensorProto.DOUBLE)
    else:
        _node(scope, container, "Identity", [name], variable.full_name)


register()
