"""Slides 40-44 and 81-88: activation functions and their derivatives."""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet.i18n import term
from fcnet.lab.common import slide_title, tr
from fcnet.lab.report import LabResult, Table
from fcnet.viz.plots import save_figure

SLIDES = "40-44, 81-88"
# Leaky ReLU appears twice in the lecture: max(0.1x, x) on slide 41 and max(0.01x, x) on slide 86 (fcnet's default)
FUNCS = {
    "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(),
    "relu": lambda t: t.relu(),
    "leaky relu 0.1 (slide 41)": lambda t: t.leaky_relu(0.1),
    "leaky relu 0.01 (slide 86)": lambda t: t.leaky_relu(0.01),
}
SLIDE_OF = {"sigmoid": "82", "tanh": "84", "relu": "85", "leaky relu 0.1 (slide 41)": "41",
            "leaky relu 0.01 (slide 86)": "86"}


def curves(lo: float = -12.0, hi: float = 12.0, n: int = 2401) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(x, f(x), f'(x)) of each activation, the derivative by backprop through fcnet's gates.

    The grid holds x = 0, where σ' peaks; ReLU has no derivative there (slide 86), so the
    tables read ReLU's slopes on x > 0 and x < 0 only.
    """
    out = {}
    for name, f in FUNCS.items():
        x = fcnet.tensor(np.linspace(lo, hi, n), requires_grad=True)
        y = f(x)
        y.sum().backward()
        out[name] = (x.numpy(), y.numpy(), x.grad.copy())
    return out


def typical_gradient(curve: tuple[np.ndarray, np.ndarray, np.ndarray]) -> float:
    """E f'(z) for z ~ N(0, 1): the local gradient a unit-variance input typically meets, from (x, f, f') on a grid."""
    x, _, d = curve
    w = np.exp(-0.5 * x ** 2)
    return float((w * d).sum() / w.sum())


def _show(name: str) -> str:
    """An activation's name as shown ("leaky relu 0.1" → "Leaky ReLU 0.1" in Chinese, as the lecture writes it)."""
    return re.sub(r"leaky relu|relu", lambda m: term(m.group()), name)


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Plot each activation with its derivative; tabulate each slide's statement beside the computed value."""
    cs = curves()
    fig, axes = plt.subplots(2, 3, figsize=(13, 7.4))
    for ax, (name, (x, y, d)) in zip(axes.flat, cs.items(), strict=False):
        ax.plot(x, y, label="f(x)")
        ax.plot(x, d, "--", label="f'(x)")
        ax.set_xlim(-12, 12)
        ax.set_ylim(-1.3, 2.0)
        ax.set_xlabel("x")
        ax.set_ylabel(tr("value", "取值"))
        short = _show(name.split(" (")[0])
        ax.set_title(tr(f"slide {SLIDE_OF[name]}: {short}", f"第{SLIDE_OF[name]}页: {short}"))
        ax.grid(alpha=0.3)
        ax.legend(loc="upper left")
    # slide 83: the chain rule multiplies local gradients; slide 84: tanh's are like sigmoid's, < 1 except at x = 0
    ax = axes.flat[5]
    depth = np.arange(1, 11)
    sig_max = float(cs["sigmoid"][2].max())
    sig_mean, tanh_mean = typical_gradient(cs["sigmoid"]), typical_gradient(cs["tanh"])
    ax.semilogy(depth, sig_max ** depth, "o-", label=tr("sigmoid: (max σ' = 1/4)ⁿ", "sigmoid：(max σ' = 1/4)ⁿ"))
    ax.semilogy(depth, sig_mean ** depth, "v-", label=tr(f"sigmoid: (E σ'(z) = {sig_mean:.2f})ⁿ",
                                                        f"sigmoid：(E σ'(z) = {sig_mean:.2f})ⁿ"))
    ax.semilogy(depth, tanh_mean ** depth, "s-", label=tr(f"tanh: (E tanh'(z) = {tanh_mean:.2f})ⁿ",
                                                         f"tanh：(E tanh'(z) = {tanh_mean:.2f})ⁿ"))
    relu_pos = float(cs["relu"][2][cs["relu"][0] > 0].min())
    ax.semilogy(depth, relu_pos ** depth, "^-", label=tr("ReLU (x>0): 1ⁿ", "ReLU (x>0)：1ⁿ"))
    ax.set_xlabel(tr("layers n; E over z ~ N(0, 1) (tanh' = 1 only at z = 0)",
                     "层数 n；E 为 z ~ N(0, 1) 上的均值（tanh' 仅在 z = 0 处为 1）"))
    ax.set_ylabel(tr("product of local gradients", "局部梯度的乘积"))
    ax.set_title(tr("slides 83-84: the chain rule multiplies", "第83-84页：链式法则的乘法特性"))
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower left")
    fig.suptitle(slide_title("41, 82-86", "activations f(x) and their derivatives f'(x), by backprop",
                             "激活函数及其导数（由反向传播求得）"))
    f = save_figure(fig, out / "activations.png")
    x = cs["sigmoid"][0]
    far, neg, pos = np.abs(x) > 10, x < 0, x > 0
    sig, th = cs["sigmoid"][2], cs["tanh"][2]
    relu, l1, l01 = cs["relu"][2], cs["leaky relu 0.1 (slide 41)"][2], cs["leaky relu 0.01 (slide 86)"][2]
    says = tr("slide says", "幻灯片")
    # the lecture's text prints no 1/4: slide 82's plot of the derivative peaks there
    rows = [["82", "sigmoid", tr("max σ'(x)", "σ'(x) 最大值"),
             tr("1/4 (read from the plot; not in the text)", "1/4（读自导数曲线图，正文未写）"), float(sig.max())],
            ["82", "sigmoid", tr("max |σ'(x)| for |x| > 10", "|x| > 10 时 |σ'(x)| 最大值"), "0", float(sig[far].max())],
            ["83", "sigmoid", tr("largest σ' product over 10 layers", "10层 σ' 乘积最大值"), "→ 0", sig_max ** 10],
            ["84", "tanh", tr("E tanh'(z), z ~ N(0, 1)", "E tanh'(z)，z ~ N(0, 1)"), tr("like sigmoid, hinders the "
                                                                                     "gradient flow",
                                                                                     "与sigmoid类似，不利于梯度流的"
                                                                                     "反向传递"),
             tanh_mean],
            ["83-84", "tanh", tr("typical tanh' product over 10 layers", "10层 tanh' 典型乘积"), "→ 0",
             tanh_mean ** 10],
            ["84", "tanh", tr("max |tanh'(x)| for |x| > 10", "|x| > 10 时 tanh' 最大值"), "≈ 0", float(th[far].max())],
            ["85", _show("relu"), tr("min f'(x) for x > 0", "x > 0 时 f'(x) 最小值"), tr("never 0", "永远不会为0"),
             float(relu[pos].min())],
            ["85", _show("relu"), tr("max f'(x) for x < 0", "x < 0 时 f'(x) 最大值"), tr("0 (dead zone)", "0（死区）"),
             float(relu[neg].max())],
            ["41", _show("leaky relu 0.1"), tr("f'(x) for x < 0", "x < 0 时 f'(x)"), "0.1", float(l1[neg].min())],
            ["86", _show("leaky relu 0.01"), tr("min f'(x) for x < 0", "x < 0 时 f'(x) 最小值"),
             tr("0.01, never 0", "0.01，基本没有死区"), float(l01[neg].min())]]
    claim = tr("Slide 82: σ'(x) is 0 when |x| > 10, bad for the gradient flow; slide 83: vanishing gradients come "
               "from the chain rule's products; slide 84: tanh is like sigmoid; slide 85: ReLU's local gradient "
               "is never 0 for x > 0; slide 86: Leaky ReLU max(0.01x, x) has (almost) no dead zone; slide 41 "
               "writes Leaky ReLU with slope 0.1; slide 88: prefer ReLU or Leaky ReLU. Condition of the "
               f"'typical product' rows: inputs z ~ N(0, 1) at every layer (mean tanh' ≈ {tanh_mean:.2f}); the "
               "gradients lab shows a net where Xavier init keeps z near tanh's centre (its mean f'(z) column) and "
               "tanh does not vanish, "
               "and one with biases N(0, 1) where it does.",
               "第82页：当输入值大于10或者小于-10时局部梯度都是0，非常不利于梯度流传递；第83页：梯度消失的本质"
               "是链式法则的乘法特性；第84页：tanh 与 sigmoid 类似；第85页：当输入大于0时 ReLU 局部梯度永远不会为0；"
               "第86页：Leaky ReLU max(0.01x, x) 基本没有“死区”；第41页的 Leaky ReLU 斜率为 0.1；"
               "第88页：尽量选择 ReLU 或 Leaky ReLU。“典型乘积”各行的条件：每层输入 z ~ N(0, 1)"
               f"（tanh' 平均约 {tanh_mean:.2f}）；"
               "梯度消失实验中 Xavier 初始化使 z 靠近 tanh 的中心（见其平均 f'(z) 一列），tanh 的梯度不消失，"
               "而偏置为 N(0, 1) 时梯度消失。")
    summary = tr(
        "σ′(x) ≈ 0 beyond |x| = 10 (slide 82). Products of local gradients vanish for sigmoid and, when every "
        f"layer's input is N(0, 1), for tanh ({tanh_mean ** 10:.2g} over 10 layers; with Xavier it does not: "
        "gradients lab) (83-84). ReLU's gradient is 1 for x > 0 (85); Leaky ReLU (0.01 on slide 86, 0.1 on 41) "
        "has no dead zone.",
        "|x| > 10 时 σ′(x) ≈ 0 (第82页)。局部梯度的乘积对 sigmoid 消失; 每层输入为 N(0, 1) 时对 tanh 也消失 "
        f"(10层为 {tanh_mean ** 10:.2g}; 用 Xavier 时不消失, 见梯度实验) (第83-84页)。x > 0 时 ReLU 的梯度为 1 "
        "(第85页); Leaky ReLU (第86页 0.01, 第41页 0.1) 没有死区。")
    return LabResult("activations", SLIDES, tr("Activation functions", "激活函数"), claim,
                     [Table(tr("each slide's statement beside fcnet's computed derivative",
                               "各页结论与 fcnet 计算的导数"),
                            [tr("slide", "页"), tr("activation", "激活函数"), tr("quantity", "量"), says, "fcnet"],
                            rows)],
                     [f], {"sigmoid_max_derivative": float(sig.max()),
                           "sigmoid_derivative_beyond_10": float(sig[far].max()),
                           "tanh_derivative_beyond_10": float(th[far].max()),
                           "sigmoid_chain_10": sig_max ** 10, "sigmoid_mean_gradient": sig_mean,
                           "tanh_mean_gradient": tanh_mean, "tanh_chain_10": tanh_mean ** 10,
                           "relu_min_positive": float(relu[pos].min()), "relu_max_negative": float(relu[neg].max()),
                           "leaky_0.1_negative": float(l1[neg].min()), "leaky_0.01_negative": float(l01[neg].min()),
                           "leaky_0.01_negative_max": float(l01[neg].max())},
                     summary=summary, formulas=[r"\sigma(x)=1/(1+e^{-x})", r"\tanh(x)=\frac{e^x-e^{-x}}{e^x+e^{-x}}",
                               r"\mathrm{ReLU}(x)=\max(0,x)",
                               r"\max(0.1x,\,x)\ \text{(41)}\qquad \max(0.01x,\,x)\ \text{(86)}"])
