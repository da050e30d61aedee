"""Slides 5-11 and 36-39: a net cascades transformations; without activations they collapse into one
linear map W'x + b'.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

import fcnet
from fcnet import nn
from fcnet.lab.common import tr
from fcnet.lab.report import LabResult, Table

SLIDES = "5-11, 36-39"


def run(out: Path, seed: int = 0, full: bool = False, widths: tuple[int, ...] = (10, 50, 40, 3)) -> LabResult:
    """Slide 39's three-layer net with no activation against W' = W3 W2 W1, b' = W3 W2 b1 + W3 b2 + b3."""
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
    if len(layers) == 3:  # slide 39 written out term by term
        (_, b1), (w2, b2), (w3, b3) = ((la.weight.numpy(), la.bias.numpy()) for la in layers)
        slide_b = w3 @ w2 @ b1 + w3 @ b2 + b3
        b_formula = float(np.abs(slide_b - b_eff).max())
    else:
        b_formula = 0.0
    one = nn.Linear(widths[0], widths[-1], init="zeros", dtype=np.float64)  # W', b' are written below
    one.weight.data[...] = w_eff
    one.bias.data[...] = b_eff
    x = fcnet.tensor(rng.standard_normal((1000, widths[0])))
    with fcnet.no_grad():
        diff = float(np.abs(deep(x).numpy() - one(x).numpy()).max())
        relu_deep = nn.Sequential(*[m for layer in layers for m in (layer, nn.ReLU())][:-1])
        diff_relu = float(np.abs(relu_deep(x).numpy() - one(x).numpy()).max())
        two = nn.Sequential(layers[0], nn.ReLU(), layers[1])  # slides 6-9: f = W2 max(0, W1 x + b1) + b2
        (w1, b1), (w2, b2) = ((la.weight.numpy(), la.bias.numpy()) for la in layers[:2])
        by_hand = np.maximum(0.0, x.numpy() @ w1.T + b1) @ w2.T + b2
        diff_two = float(np.abs(two(x).numpy() - by_hand).max())
    claim = tr("Slides 5-11: a fully connected net cascades transformations, f = W2 max(0, W1x + b1) + b2 "
               "(fcnet's 2-layer net computes exactly that); slide 11: 'the non-linear operation cannot be removed' "
               "(slides 10-11 print the 3-layer net without b3, slides 36-39 with it; fcnet's layers all have one). "
               f"Slide 38: without activation functions a fully connected net becomes a linear classifier. Slide 39: "
               f"the {len(layers)}-layer net equals one linear layer W'x + b' with W' = W3W2W1 and "
               "b' = W3W2b1 + W3b2 + b3 (float64, up to rounding); with ReLU between the layers it does not.",
               "第5-11页：全连接神经网络级联多个变换，f = W2 max(0, W1x + b1) + b2（fcnet 的两层网络正是如此计算）；"
               "第11页：“非线性操作是不可以去掉”（第10-11页的三层网络没有写 b3，第36-39页写了；fcnet 每层都有偏置）。"
               "第38页：如果网络中缺少了激活函数，全连接神经网络将变成一个线性分类器。第39页：去掉激活函数后"
               f"{len(layers)}层网络等于一个线性层 W'x + b'，其中 W' = W3W2W1，b' = W3W2b1 + W3b2 + b3"
               "（float64，仅差舍入误差）；层间加入 ReLU 后则不然。")
    summary = tr("A net cascades transformations, f = W2 max(0, W1x + b1) + b2 (slides 5-11), and its non-linearity "
                 "cannot be removed (11): without it the 3-layer net is one linear layer W'x + b' (38-39), up to "
                 "float64 rounding; with ReLU between the layers it is not.",
                 "网络级联多个变换，f = W2 max(0, W1x + b1) + b2（第5-11页），非线性操作不可以去掉（第11页）：去掉后"
                 "三层网络就是一个线性层 W'x + b'（第38-39页，仅差 float64 舍入误差）；层间有 ReLU 时则不然。")
    return LabResult("collapse", SLIDES, tr("Why non-linearity", "为什么需要非线性操作"), claim,
                     [Table(tr("max |deep(x) − (W'x + b')| over 1000 inputs",
                               "1000个输入上的 max |deep(x) − (W'x + b')|"),
                            [tr("net", "网络"), tr("max difference", "最大差")],
                            [[tr("slides 6-9: 2-layer net vs W2 max(0, W1x + b1) + b2 by hand",
                                 "第6-9页：两层网络与手算的 W2 max(0, W1x + b1) + b2"), diff_two],
                             [tr("no activations", "无激活函数"), diff],
                             [tr("ReLU between layers", "层间有 ReLU"), diff_relu],
                             [tr("slide 39's b' formula vs composed b'", "第39页 b' 公式与逐层复合的 b'"),
                              b_formula]])],
                     [], {"max_difference": diff, "max_difference_relu": diff_relu, "two_layer_by_hand": diff_two,
                      "b_formula_difference": b_formula}, summary=summary,
                     formulas=[r"f=W_3(W_2(W_1x+b_1)+b_2)+b_3=W_3W_2W_1x+(W_3W_2b_1+W_3b_2+b_3)=W'x+b'"])
