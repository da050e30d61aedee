"""Slides 124-136: how weight initialisation shapes the activations of a deep net."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

import fcnet
from fcnet import nn
from fcnet.i18n import term
from fcnet.lab.common import slide_title, tr
from fcnet.lab.report import LabResult, Table

__all__ = ["CASES", "SLIDE_128", "SLIDE_129", "LayerStats", "activation_stats", "run", "zero_init_symmetry"]

SLIDES = "124-136"
# slide 128: per-layer std with N(0, 0.01²) weights, tanh, 10 layers of 500 units; slide 129: N(0, 1)
SLIDE_128 = [0.214021, 0.047655, 0.010683, 0.002390, 0.000532, 0.000119, 0.000027, 0.000006, 0.000001, 0.0]
SLIDE_129 = [0.982045, 0.981602, 0.981700, 0.981740, 0.981791, 0.981612, 0.981484, 0.981578, 0.981684, 0.981915]
WIDTH = 500
SAMPLES = 1000  # slides 128-129 push 1000 samples through the net
TANH_GAIN = 5.0 / 3.0  # tanh shrinks a unit-variance input to std ≈ 0.63; 5/3 is the factor that undoes it

# (key, label, init, std, activation): the lecture's cases in slide order, then the setup in which slide 133 holds
CASES = [
    ("small", "N(0, 0.01²), tanh (slide 128)", "normal", 0.01, "tanh"),
    ("large", "N(0, 1), tanh (slide 129)", "normal", 1.0, "tanh"),
    ("xavier_tanh", "Xavier N(0, 1/N), tanh (slide 133)", "xavier", None, "tanh"),
    ("xavier_tanh_gain", "N(0, (5/3)²/N), tanh (Xavier × tanh gain)", "normal", TANH_GAIN / math.sqrt(WIDTH),
     "tanh"),
    ("xavier_relu", "Xavier N(0, 1/N), ReLU (slide 134)", "xavier", None, "relu"),
    ("he_relu", "He N(0, 2/N), ReLU (slide 135)", "he", None, "relu"),
]

SHORT = {"small": "N(0, 0.01²)\ntanh\n(128)", "large": "N(0, 1)\ntanh\n(129)", "xavier_tanh": "Xavier\ntanh\n(133)",
         "xavier_tanh_gain": "N(0, (5/3)²/N)\ntanh", "xavier_relu": "Xavier\nReLU\n(134)", "he_relu": "He\nReLU\n(135)"}


@dataclass
class LayerStats:
    """Per layer: mean and std of the activations, the activations, and slide 132's variance check.

    ``pre_vars[l]`` is the measured Var(Σ w_i z_i) of layer l's weighted sums, ``predicted_vars[l]`` is
    N·Var(w)·Var(z) from that layer's weights and inputs (slide 132).
    """

    means: list[float]
    stds: list[float]
    activations: list[np.ndarray]
    pre_vars: list[float] = field(default_factory=list)
    predicted_vars: list[float] = field(default_factory=list)


def activation_stats(init: str, activation: str, std: float | None = None, layers: int = 10,
                     width: int | None = None, samples: int = 1000, seed: int = 0,
                     keep: bool = False) -> LayerStats:
    """Push N(0, 1) inputs (samples × width) through ``layers`` hidden layers; measure each.

    The lecture's network (slides 128-135): 10 hidden layers of 500 units (``WIDTH``), tanh or ReLU, biases 0.
    """
    width = WIDTH if width is None else width
    rng = np.random.default_rng(seed)
    x = fcnet.tensor(rng.standard_normal((samples, width)).astype(np.float32))
    act = nn.ACTIVATIONS[activation]()
    st = LayerStats([], [], [])
    with fcnet.no_grad():
        h = x
        for _ in range(layers):
            layer = nn.Linear(width, width, init=init, std=std, rng=rng)
            z = h.numpy()
            pre = layer(h)
            st.pre_vars.append(float(pre.numpy().var()))
            st.predicted_vars.append(width * float(layer.weight.numpy().var()) * float(z.var()))
            h = act(pre)
            a = h.numpy()
            st.means.append(float(a.mean()))
            st.stds.append(float(a.std()))
            if keep:
                st.activations.append(a.ravel().copy())
    return st


def zero_init_symmetry(seed: int = 0, steps: int = 30) -> dict[str, dict[str, float]]:
    """Slides 126-127: distinct hidden units (rows of W1) after SGD from all-zero, constant and random weights.

    All-zero weights are exact zeros: then the hidden outputs are tanh(0) = 0, so neither W1 nor W2 gets any
    gradient and only the output bias learns.  A constant (0.05 everywhere) is the other reading of the slide:
    W1 does learn, but every unit gets the same update and stays a copy of the others.
    """
    from fcnet import optim
    from fcnet.lab.common import image_data

    ds = image_data("digits", seed=seed)
    x, y = fcnet.tensor(ds.xs_train[:500]), ds.y_train[:500]
    out = {}
    for label, init, const in [("zeros", "zeros", None), ("constant 0.05", "zeros", 0.05), ("random (He)", "he", None)]:
        net = nn.FullyConnectedNet(ds.num_features, [32], 10, activation="tanh", init=init, rng=seed)
        if const is not None:
            net[0].weight.data[...] = const
            net[2].weight.data[...] = const
        start_abs = float(np.abs(net[0].weight.numpy()).max())
        w0 = net[0].weight.numpy().copy()
        opt = optim.SGD(net.parameters(), lr=0.5)
        for _ in range(steps):
            opt.zero_grad()
            nn.CrossEntropyLoss()(net(x), y).backward()
            opt.step()
        w1 = net[0].weight.numpy()
        out[label] = {"distinct": distinct_rows(w1), "start_max_abs": start_abs,
                      "w1_change": float(np.abs(w1 - w0).max()),
                      "row_spread": float(np.abs(w1 - w1[0]).max())}
    return out


SAME_UNIT = 1e-4  # rows closer than this times max|W1| count as one unit: float32 rounding, not learning


def distinct_rows(w: np.ndarray, rel: float = SAME_UNIT) -> int:
    """How many different units the rows of ``w`` are, rows within ``rel · max|w|`` (max-norm) counted as one.

    A tolerance, not exact equality: the matrix product's kernels round the columns of one product in different
    orders, so rows that the arithmetic of the slide keeps equal differ by float32 rounding (~1e-7 relative),
    and that difference grows slowly with each step.
    """
    tol = rel * float(np.abs(w).max()) if w.size else 0.0
    left, count = np.asarray(w, dtype=np.float64), 0
    while len(left):
        count += 1
        left = left[np.abs(left - left[0]).max(axis=1) > tol]
    return count


def _figures(out: Path, stats: dict[str, LayerStats]) -> tuple[list[Path], dict[str, list[list[float]]]]:
    """The mean/std lines and the histograms; also each histogram's x-limits, row by row (one x-axis per row)."""
    import matplotlib.pyplot as plt

    from fcnet.viz.plots import save_figure

    labels = {k: shown(lab) for k, lab, *_ in CASES}
    acts = {k: a for k, *_, a in CASES}
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6))
    layers = np.arange(1, 11)
    for k, st in stats.items():
        axes[0].plot(layers, st.means, "o-", label=labels[k])
        axes[1].semilogy(layers, np.maximum(st.stds, 1e-9), "o-", label=labels[k])
    axes[0].set_title(tr("layer mean", "各层激活值的均值"))
    axes[1].set_title(tr("layer std (log scale)", "各层激活值的标准差（对数坐标）"))
    for ax in axes:
        ax.set_xlabel(tr("hidden layer", "隐层"))
        ax.set_xticks(layers)
        ax.grid(alpha=0.3, which="both")
    axes[0].set_ylabel(tr("mean of the activations", "均值"))
    axes[1].set_ylabel(tr("std of the activations", "标准差"))
    axes[0].legend(loc="best", fontsize=8)
    axes[1].legend(loc="lower left", fontsize=8)
    fig.suptitle(slide_title("128-135", "per-layer mean and std of the activations, 10 layers of 500 units",
                             "各层激活值的均值与标准差：10个隐层，每层500个神经元"))
    line = save_figure(fig, out / "init_layer_stats.png")
    # 60 small axes: a fixed grid (no constrained layout) and stairs instead of bar patches keep this fast
    # one x-axis per row: the decay from layer to layer (e.g. Xavier + ReLU, slide 134) shows as the bars
    # crowding towards 0, and each panel's title prints its std
    fig, axes = plt.subplots(len(stats), 10, figsize=(14, 1.62 * len(stats) + 0.8), layout="none",
                             sharex="row")
    fig.subplots_adjust(left=0.11, right=0.99, top=0.91, bottom=0.08, wspace=0.12, hspace=0.75)
    xlims = {}
    for i, (k, st) in enumerate(stats.items()):
        tanh = acts[k] == "tanh"
        lim = 1.0 if tanh else max(max(float(np.percentile(a, 99.5)) for a in st.activations), 1e-6)
        for j, a in enumerate(st.activations):
            ax = axes[i, j]
            counts, edges = np.histogram(a, bins=30, range=(-lim, lim) if tanh else (0, lim))
            ax.stairs(counts, edges, fill=True, color="C0")
            ax.set_xlim(-lim if tanh else 0, lim)
            ax.set_yticks([])
            ax.set_xticks([-0.5, 0, 0.5] if tanh else [0, float(np.floor(lim)) if lim >= 1 else round(lim / 2, 2)])
            ax.tick_params(labelsize=7.5)
            std = tr(f"std {st.stds[j]:.2g}", f"标准差 {st.stds[j]:.2g}")
            ax.set_title(tr(f"layer {j + 1}\n", f"第{j + 1}层\n") + std if i == 0 else std, fontsize=8)
        xlims[labels[k]] = [list(map(float, axes[i, j].get_xlim())) for j in range(len(st.activations))]
        axes[i, 0].set_ylabel(SHORT[k], fontsize=8.5, rotation=0, ha="right", va="center")
    fig.supxlabel(tr("activation value, one x-axis per row (ReLU rows: 0 to the row's 99.5th percentile); "
                     "bar height: count",
                     "激活值，每行共用横轴（ReLU 行：0 到该行的第99.5百分位）；高度：个数"), fontsize=9)
    fig.suptitle(slide_title("128-135", "histograms of each layer's activations",
                             "各层激活值的分布直方图"))
    hist = save_figure(fig, out / "init_histograms.png", dpi=110)
    return [line, hist], xlims


def shown(label: str) -> str:
    """A case's label in the chosen language: "(slide 133)" → "(第133页)", "zeros" → "全零",
    "tanh gain" → "tanh 增益".
    """
    label = re.sub(r"\(slide (\d+)\)", lambda m: tr(m.group(), f"(第{m.group(1)}页)"), label)
    label = label.replace("tanh gain", tr("tanh gain", "tanh 增益"))
    head, *rest = label.split(" ", 1)
    return " ".join([term(head), *rest]) if head in ("zeros", "constant", "random") else label


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """The per-layer mean/std tables of slides 128-135, slide 132's variance check, and zero-init symmetry."""
    samples = SAMPLES
    stats = {k: activation_stats(init, act, std=std, samples=samples, seed=seed, keep=True)
             for k, _, init, std, act in CASES}
    labels = {k: lab for k, lab, *_ in CASES}
    says, layer = tr("slide", "幻灯片"), tr("layer", "层")
    tables = [Table(tr("slides 128-129: std per layer, the slide's value beside fcnet's; the slide's N(0, 0.01) "
                       "means std 0.01, written N(0, 0.01²) here (variance 0.01² = 0.0001)",
                       "第128-129页：各层标准差，幻灯片数值与 fcnet 计算值；幻灯片的 N(0, 0.01) 指标准差 0.01，"
                       "此处记作 N(0, 0.01²)（方差 0.01² = 0.0001）"),
                    [layer, f"N(0, 0.01²) {says}", "N(0, 0.01²) fcnet", f"N(0, 1) {says}", "N(0, 1) fcnet"],
                    [[k + 1, f"{SLIDE_128[k]:.6f}", stats["small"].stds[k], f"{SLIDE_129[k]:.6f}",
                      stats["large"].stds[k]] for k in range(10)]),
              Table(tr("slides 133-135: std per layer. These slides write N(0, 1/N) and N(0, 2/N) with the VARIANCE "
                       f"(std √(1/N) = {math.sqrt(1 / WIDTH):.4f} and √(2/N) = {math.sqrt(2 / WIDTH):.4f} "
                       f"at N = {WIDTH}), "
                       "unlike slide 128, which writes the std; fcnet writes the variance everywhere",
                       "第133-135页：各层标准差。这几页的 N(0, 1/N)、N(0, 2/N) 写的是方差"
                       f"（N = {WIDTH} 时标准差 √(1/N) = {math.sqrt(1 / WIDTH):.4f}、"
                       f"√(2/N) = {math.sqrt(2 / WIDTH):.4f}），"
                       "与写标准差的第128页不同；fcnet 处处写方差"),
                    [layer, *[shown(labels[k]) for k in ("xavier_tanh", "xavier_tanh_gain", "xavier_relu", "he_relu")]],
                    [[j + 1, *[stats[k].stds[j] for k in ("xavier_tanh", "xavier_tanh_gain", "xavier_relu",
                                                          "he_relu")]] for j in range(10)])]
    xs = stats["xavier_tanh"]
    tables.append(Table(tr("slide 132: Var(Σ w_i z_i) = N·Var(w)·Var(z), Xavier + tanh",
                           "第132页：Var(y) = n Var(w) Var(z)，Xavier + tanh"),
                        [layer, tr("measured Var(Σ w z)", "实测 Var(Σ w z)"), "N·Var(w)·Var(z)",
                         tr("Var(z) of the layer's input", "本层输入 Var(z)"), tr("Var(tanh(·)) out", "tanh 输出方差")],
                        [[j + 1, xs.pre_vars[j], xs.predicted_vars[j],
                          (1.0 if j == 0 else xs.stds[j - 1] ** 2), xs.stds[j] ** 2] for j in range(10)]))
    sym = zero_init_symmetry(seed)
    tables.append(Table(tr("slides 126-127: distinct hidden units after 30 SGD steps (32 units)",
                           "第126-127页：30步 SGD 后不同隐层神经元的个数（共32个）"),
                        [tr("init", "初始化"), tr("max |W1| at start", "初始 max |W1|"),
                         tr("max change of W1", "W1 最大变化"),
                         tr("max difference between rows (float32 rounding)", "各行之间的最大差 (float32 舍入)"),
                         tr("distinct units (rows within 1e-4·max|W1| count as one)",
                            "不同神经元个数 (相差小于 1e-4·max|W1| 的行算同一个)")],
                        [[shown(k), v["start_max_abs"], v["w1_change"], v["row_spread"], v["distinct"]]
                         for k, v in sym.items()]))
    numbers = {labels[k]: st.stds for k, st in stats.items()}
    numbers.update({"means": {labels[k]: st.means for k, st in stats.items()}, "symmetry": sym,
                    "var_check": {"measured": xs.pre_vars, "predicted": xs.predicted_vars}, "samples": samples})
    xt, xr, he = (stats[k].stds for k in ("xavier_tanh", "xavier_relu", "he_relu"))
    small, large = stats["small"].stds, stats["large"].stds
    claim = tr(
        "Slides 126-127: with all-zero weights every unit computes the same and learns the same: they are one unit "
        "(in exact arithmetic; in float32 the matrix product rounds the units' columns differently, so the rows of a "
        "constant start drift apart by ~1e-7 relative, counted as one unit below). "
        "Slide 128 writes N(0, 0.01); read as N(mean, std), i.e. std 0.01, which fcnet writes N(0, 0.01²) "
        "(its numbers match that reading): all layers after the first two output ≈ 0; nothing reaches the output. "
        "Slide 129: N(0, 1): almost every neuron saturates at -1 or 1, local gradients are 0. Slide 132: "
        "Var(y) = n Var(w) Var(z), so var(w) = 1/N keeps the variance of y equal to that of z. Slides 133-135 write "
        "N(0, 1/N) and N(0, 2/N) with the variance, as slide 132 derives it (std √(1/N)), while slide 128 writes the "
        "std: two conventions in one lecture; slide 129's N(0, 1) reads the same both ways. Slide 133 says the "
        "variance of every layer's activations is then basically the same; lesson: the derivation holds for the "
        "weighted sum (checked below), but tanh squashes it, so with exactly N(0, 1/N) the std still decays slowly "
        f"({xt[0]:.2f} → {xt[-1]:.2f} over 10 layers, against {SLIDE_128[0]:.2f} → {SLIDE_128[-1]:.0f} on slide 128); "
        "scaling by tanh's gain 5/3 makes it hold. "
        "Slide 134: Xavier does not suit ReLU; slide 135: He N(0, 2/N) does. Slide 130: unequal weights alone do not "
        f"make a net trainable: 128's and 129's weights are both random, yet one vanishes (std {small[-1]:.1g} at "
        f"layer 10) and the other saturates (std {large[-1]:.2f}: almost every unit at ±1). "
        f"Slide 136: Xavier for tanh or sigmoid, He for ReLU: at layer 10 the std is {xt[-1]:.2f} (Xavier, tanh) "
        f"and {he[-1]:.2f} (He, ReLU), against {xr[-1]:.3f} with Xavier and ReLU.",
        "第126-127页：全零初始化时网络中不同的神经元有相同的输出，进行同样的参数更新，等价于一个神经元"
        "（精确算术下如此；float32 中矩阵乘法对各神经元的列舍入不同，常数初始化的各行相差约 1e-7（相对），"
        "下表仍算作一个）。"
        "第128页：权值采样自 N(0, 0.01) 的高斯分布；按 N(均值, 标准差) 理解，即标准差 0.01，fcnet 记作 N(0, 0.01²)"
        "（该理解与幻灯片数值一致）：除了前两层，后续所有层的激活值为0，输入信息传递不到输出层。"
        "第129页：N(0, 1) 时几乎所有的神经元都饱和了（不是-1就是1），局部梯度都是零。"
        "第132页：Var(y) = n Var(w) Var(z)，var(w) = 1/N 时 y 的方差与 z 的方差一致。"
        "第133-135页的 N(0, 1/N)、N(0, 2/N) 按第132页的推导写的是方差（标准差 √(1/N)），而第128页写的是标准差："
        "同一课件里两种写法；第129页的 N(0, 1) 两种理解相同。"
        "第133页说每层神经元激活值的方差基本相同；教训：该推导对加权和成立（见下表核对），但 tanh 会压缩方差，"
        f"所以严格的 N(0, 1/N) 下标准差仍缓慢衰减（10层从{xt[0]:.2f}到{xt[-1]:.2f}，"
        f"而第128页是从{SLIDE_128[0]:.2f}到{SLIDE_128[-1]:.0f}）；"
        "乘以 tanh 的增益 5/3 后结论成立。第134页：Xavier 初始化方法不太适合 ReLU；第135页：He 初始化 N(0, 2/N) 适合。"
        "第130页：初始化时让权值不相等，并不能保证网络能够正常地被训练：第128、129页的权值都是随机的，"
        f"一个消失（第10层标准差 {small[-1]:.1g}），一个饱和（标准差 {large[-1]:.2f}，几乎都在 ±1）。"
        "第136页：tanh 或 sigmoid 用 Xavier，ReLU 用 He：第10层标准差为 "
        f"{xt[-1]:.2f}（Xavier、tanh）和 {he[-1]:.2f}（He、ReLU），而 Xavier 配 ReLU 为 {xr[-1]:.3f}。")
    figs, numbers["histogram_xlims"] = _figures(out, stats)
    summary = tr(
        "Zero init: all units stay one unit (slides 126-127). Std 0.01 (slide 128's N(0, 0.01)) vanishes; N(0, 1) "
        "saturates (129). Xavier N(0, 1/N), a variance (133), keeps the weighted sum's variance, but tanh still "
        "decays slowly unless scaled by 5/3. ReLU needs He N(0, 2/N) (134-135).",
        "全零初始化: 所有神经元等价于一个 (第126-127页)。标准差 0.01 (第128页的 N(0, 0.01)) 时信号消失; N(0, 1) 时饱和 "
        "(第129页)。Xavier N(0, 1/N) (写的是方差, 第133页) 保持加权和的方差, 但 tanh 仍缓慢衰减, 乘以 5/3 后才保持。"
        "ReLU 需要 He N(0, 2/N) (第134-135页)。")
    return LabResult("init", SLIDES, tr("Weight initialisation", "权值初始化"), claim, tables, figs, numbers,
                     summary=summary, formulas=[r"\mathrm{Var}(y)=\sum_{i=1}^{n}\mathrm{Var}(w_i)\mathrm{Var}(z_i)=n\,"
                               r"\mathrm{Var}(w_i)\,\mathrm{Var}(z_i)",
                               r"w\sim\mathcal{N}(0,1/N)\ \text{(Xavier)}\qquad w\sim\mathcal{N}(0,2/N)\ \text{(He)}"])
