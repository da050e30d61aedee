"""The prediction path of a trained net as a flat list of steps that any exporter translates.

Raw features x go through the saved standardisation x ← (x / scale − μ) / σ, every layer in
evaluation form (batch norm with its running statistics, dropout left out since it is the
identity at test time), and, for a classifier, the softmax p_j = e^(s_j) / Σ_k e^(s_k).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fcnet import backend
from fcnet.data.dataset import Preprocess
from fcnet.nn.activations import LeakyReLU, ReLU, Sigmoid, Tanh
from fcnet.nn.layers import BatchNorm1d, Dropout, Linear
from fcnet.nn.module import Module

__all__ = ["Step", "prediction_path"]


@dataclass
class Step:
    """One step: ``kind`` is standardize, linear, batchnorm, relu, leaky_relu, sigmoid, tanh or softmax."""

    kind: str
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)


_ACTS = {ReLU: "relu", Sigmoid: "sigmoid", Tanh: "tanh"}


def prediction_path(model: Module, preprocess: Preprocess | None, softmax: bool = True) -> list[Step]:
    """The steps from raw features to probabilities (or to scores with ``softmax=False``)."""
    layers = list(model) if hasattr(model, "__iter__") else [model]
    steps: list[Step] = []
    if preprocess is not None:
        d = _in_features(layers)
        mean = np.zeros(d, np.float32) if preprocess.mean is None else preprocess.mean
        std = np.ones(d, np.float32) if preprocess.std is None else preprocess.std
        steps.append(Step("standardize", {"mean": np.asarray(mean, np.float32), "std": np.asarray(std, np.float32)},
                          {"scale": float(preprocess.scale)}))
    for layer in layers:
        if isinstance(layer, Linear):
            arrays = {"weight": _np(layer.weight.data)}
            b = _np(layer.bias.data) if layer.bias is not None else np.zeros(layer.out_features, np.float32)
            arrays["bias"] = b
            steps.append(Step("linear", arrays, {"in": layer.in_features, "out": layer.out_features}))
        elif isinstance(layer, BatchNorm1d):
            steps.append(Step("batchnorm", {"weight": _np(layer.weight.data), "bias": _np(layer.bias.data),
                                            "running_mean": _np(layer.running_mean),
                                            "running_var": _np(layer.running_var)},
                              {"num_features": layer.num_features, "eps": float(layer.eps),
                               "momentum": float(layer.momentum)}))
        elif isinstance(layer, LeakyReLU):
            steps.append(Step("leaky_relu", attrs={"negative_slope": layer.negative_slope}))
        elif type(layer) in _ACTS:
            steps.append(Step(_ACTS[type(layer)]))
        elif isinstance(layer, Dropout):
            continue  # the identity in evaluation mode
        else:
            raise ValueError(f"cannot export a {type(layer).__name__} layer: only Linear, BatchNorm1d, "
                             "activations and Dropout (a FullyConnectedNet's layers) are supported")
    if softmax:
        steps.append(Step("softmax"))
    return steps


def _in_features(layers: list[Module]) -> int:
    first = next((m for m in layers if isinstance(m, Linear)), None)
    if first is None:
        raise ValueError("the model has no Linear layer to export")
    return first.in_features


def _np(a: Any) -> np.ndarray:
    return np.ascontiguousarray(backend.to_numpy(a), dtype=np.float32)
