"""Slides 36-39: without activations, layers collapse into one linear map W'x + b'."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

import fcnet
from fcnet import nn
from fcnet.lab.report import LabResult, Table

SLIDES = "36-39"


def run(out: Path, seed: int = 0, full: bool = False, widths: tuple[int, ...] = (10, 50, 40, 30, 3)) -> LabResult:
    """Stack Linear layers with no activation; compare with the product W' = W_L ... W_1."""
    rng = np.random.default_rng(seed)
    layers = [nn.Linear(a, b, init="xavier", dtype=np.float64, rng=rng) for a, b in itertools.pairwise(widths)]
    for layer in layers:
        layer.bias.data[...] = rng.standard_normal(layer.bias.shape)
    deep = nn.Sequential(*layers)
    w_eff = np.eye(widths[0])
    b_eff = np.zeros(widths[0])
    for layer in layers:  # x ↦ W x + b composed: W' = W W', b' = W b' + b
        w, b = layer.weight.numpy(), layer.bias.numpy()
        w_eff, b_eff = w @ w_eff, w @ b_eff + b
    one = nn.Linear(widths[0], widths[-1], dtype=np.float64)
    one.weight.data[...] = w_eff
    one.bias.data[...] = b_eff
    x = fcnet.tensor(rng.standard_normal((1000, widths[0])))
    with fcnet.no_grad():
        diff = float(np.abs(deep(x).numpy() - one(x).numpy()).max())
        relu_deep = nn.Sequential(*[m for layer in layers for m in (layer, nn.ReLU())][:-1])
        diff_relu = float(np.abs(relu_deep(x).numpy() - one(x).numpy()).max())
    return LabResult("collapse", SLIDES, "Why non-linearity",
                     f"A {len(layers)}-layer net without activations equals one linear layer W'x + b' "
                     "(float64, up to rounding); with ReLU between the layers it does not.",
                     [Table("max |deep(x) − (W'x + b')| over 1000 inputs", ["net", "max difference"],
                            [["no activations", diff], ["ReLU between layers", diff_relu]])],
                     [], {"max_difference": diff, "max_difference_relu": diff_relu})
