"""The prediction path as one ONNX graph (built with ``onnx.helper``, checked with ``onnx.checker``).

Input ``x`` (N, D) float32 raw features; output ``probabilities`` (N, C), or ``scores`` (N, C) without
the softmax.  ``onnx`` is an optional extra: ``pip install 'fcnet[export]'``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from fcnet.errors import ConfigError
from fcnet.export.path import Step
from fcnet.train.io import atomic_write

__all__ = ["OPSET", "export_onnx", "onnx_model"]

OPSET = 17
IR_VERSION = 8  # readable by every onnxruntime since 1.10


def _onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ConfigError("ONNX export needs the onnx package: pip install 'fcnet[export]'") from None
    return onnx


def onnx_model(steps: list[Step], name: str = "fcnet") -> Any:
    """An ``onnx.ModelProto`` computing ``steps`` (see ``fcnet.export.path``), checked by ``onnx.checker``."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    nodes: list[Any] = []
    inits: list[Any] = []
    cur = "x"
    width = 0  # the current number of columns

    def const(tag: str, arr: np.ndarray) -> str:
        inits.append(numpy_helper.from_array(np.ascontiguousarray(arr, np.float32), tag))
        return tag

    def node(op: str, inputs: list[str], tag: str, **attrs: Any) -> None:
        nonlocal cur
        nodes.append(helper.make_node(op, inputs, [tag], name=tag, **attrs))
        cur = tag

    for i, s in enumerate(steps):
        t = f"{i}_{s.kind}"
        if s.kind == "standardize":
            # the same float32 operations as Preprocess.apply: x · (1/scale), − μ, / σ
            node("Mul", [cur, const(f"{t}.inv_scale", np.float32(1.0 / s.attrs["scale"]))], f"{t}_scaled")
            node("Sub", [cur, const(f"{t}.mean", s.arrays["mean"])], f"{t}_centred")
            node("Div", [cur, const(f"{t}.std", s.arrays["std"])], t)
        elif s.kind == "linear":
            node("Gemm", [cur, const(f"{t}.weight", s.arrays["weight"]), const(f"{t}.bias", s.arrays["bias"])],
                 t, transB=1)
            width = s.attrs["out"]
        elif s.kind == "batchnorm":
            a = s.arrays
            node("BatchNormalization", [cur, const(f"{t}.weight", a["weight"]), const(f"{t}.bias", a["bias"]),
                                        const(f"{t}.running_mean", a["running_mean"]),
                                        const(f"{t}.running_var", a["running_var"])],
                 t, epsilon=s.attrs["eps"])
        elif s.kind == "relu":
            node("Relu", [cur], t)
        elif s.kind == "leaky_relu":
            node("LeakyRelu", [cur], t, alpha=s.attrs["negative_slope"])
        elif s.kind == "sigmoid":
            node("Sigmoid", [cur], t)
        elif s.kind == "tanh":
            node("Tanh", [cur], t)
        elif s.kind == "softmax":
            node("Softmax", [cur], t, axis=1)
        else:  # pragma: no cover - path.py produces only the kinds above
            raise ValueError(f"unknown step {s.kind!r}")
    out_name = "probabilities" if steps and steps[-1].kind == "softmax" else "scores"
    nodes.append(helper.make_node("Identity", [cur], [out_name], name=out_name))
    d_in = next((len(s.arrays["mean"]) if s.kind == "standardize" else s.attrs["in"])
                for s in steps if s.kind in ("standardize", "linear"))
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", d_in])],
        [helper.make_tensor_value_info(out_name, TensorProto.FLOAT, ["N", width])],
        initializer=inits,
    )
    model = helper.make_model(graph, producer_name="fcnet", opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def export_onnx(steps: list[Step], path: str | Path) -> Path:
    """Write ``steps`` as a checked ONNX file (atomically)."""
    return atomic_write(path, onnx_model(steps).SerializeToString())
