"""Slides 82-88: vanishing gradients (sigmoid, tanh), ReLU and Leaky ReLU, exploding gradients and clipping.

Setups (why these):

* Vanishing (83-86): 8 hidden layers of 64 on one batch of 256 digits, ‖∂L/∂W_l‖ per layer at
  initialisation, and the mean local gradient f'(z) of each layer's units.  Sigmoid with Xavier
  vanishes (f' ≤ 1/4 per layer).  tanh with Xavier does not: Xavier keeps z in tanh's linear
  centre, where f' ≈ 1 (the lab prints the mean f'), so the product of local gradients stays
  near 1.  Slide 84's tanh case appears once the units sit off that centre: biases N(0, 1) and
  weights N(0, 0.5/N) give a mean f' of about 0.6 per layer and a first layer that gets a
  thousandth of the last layer's gradient.
* ReLU / Leaky ReLU (85-86): He init; the share of units whose local gradient is exactly 0
  (ReLU's "dead zone") against Leaky ReLU with slide 86's slope 0.01 and slide 41's 0.1.
* Training race (87-88): "ReLU or Leaky ReLU ... converge faster" than sigmoid/tanh.  Each
  activation with the init the lecture pairs it with (Xavier for sigmoid and tanh, He for ReLU and
  Leaky ReLU), 4 hidden layers of 64, plain SGD with the same ε = 0.1 and m = 64, 3 epochs, seeds 0-2:
  mini-batch loss per step.  The race is run with plain SGD at one ε for all, then again with ε swept
  over 0.01-1 per activation: the slide holds at a shared ε ≤ 0.1 only; tuned, tanh (at ε = 1) ends lower.
* Exploding (87): 6 hidden ReLU layers with weights N(0, 0.35²), about twice He's
  √(2/64) = 0.18, so every layer multiplies the activations by about 2; plain SGD with ε = 0.05,
  m = 64 overflows within a few steps (the finite losses and gradient norms before it are
  printed), and clip_grad_norm to 20 (slide 87's gradient clipping) makes the same run train over 5 epochs.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import nn, optim
from fcnet.data.loader import batches
from fcnet.i18n import term
from fcnet.lab.common import image_data, slide_title, tr
from fcnet.lab.report import LabResult, Table
from fcnet.train.monitor import grad_norms
from fcnet.train.recipe import blas_threads
from fcnet.viz.plots import save_figure

SLIDES = "82-88"
DEPTH, WIDTH = 8, 64
RACE = {"depth": 4, "lr": 0.1, "epochs": 3, "seeds": (0, 1, 2)}  # slides 87-88: the training race
RACE_CASES = [("sigmoid", "xavier"), ("tanh", "xavier"), ("relu", "he"), ("leaky_relu", "he")]
RACE_LRS = (0.01, 0.03, 0.1, 0.3, 1.0)  # slide 88 at each activation's own best ε, not only at one shared ε
EXPLODE_STD, EXPLODE_DEPTH, EXPLODE_LR, CLIP, EXPLODE_EPOCHS = 0.35, 6, 0.05, 20.0, 5


def local_gradient(activation: str, z: np.ndarray, slope: float) -> np.ndarray:
    """f'(z): σ(1 − σ), 1 − tanh², 1[z > 0], or 1 / α for z > 0 / z ≤ 0 (Leaky ReLU)."""
    if activation == "sigmoid":
        s = 1.0 / (1.0 + np.exp(-z))
        return s * (1.0 - s)
    if activation == "tanh":
        return 1.0 - np.tanh(z) ** 2
    if activation == "relu":
        return (z > 0).astype(z.dtype)
    return np.where(z > 0, 1.0, slope)


CASES: dict[str, dict[str, Any]] = {
    "sigmoid, Xavier": {"activation": "sigmoid", "init": "xavier", "zh": "sigmoid, Xavier"},
    "tanh, Xavier": {"activation": "tanh", "init": "xavier", "zh": "tanh, Xavier"},
    "tanh, off-centre (b ~ N(0,1), W ~ N(0, 0.5/N))": {
        "activation": "tanh", "init": "normal", "std": math.sqrt(0.5 / WIDTH), "bias_std": 1.0,
        "zh": "tanh, 偏离中心 (b ~ N(0,1), W ~ N(0, 0.5/N))"},
    "ReLU, He": {"activation": "relu", "init": "he", "zh": "ReLU, He"},
    "Leaky ReLU 0.01 (slide 86), He": {"activation": "leaky_relu", "init": "he", "slope": 0.01,
                                       "zh": "Leaky ReLU 0.01 (第86页), He"},
    "Leaky ReLU 0.1 (slide 41), He": {"activation": "leaky_relu", "init": "he", "slope": 0.1,
                                      "zh": "Leaky ReLU 0.1 (第41页), He"},
}


def show(case: str) -> str:
    """A case's label in the chosen language."""
    return tr(case, CASES[case]["zh"])


def at_init(case: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int, depth: int | None = None,
            width: int | None = None) -> dict[str, list[float]]:
    """‖∂L/∂W_l‖ per layer, mean f'(z) and share of f'(z) = 0 per hidden layer, activation std per layer."""
    depth, width = DEPTH if depth is None else depth, WIDTH if width is None else width
    slope = case.get("slope", 0.01)
    net = nn.FullyConnectedNet(x.shape[1], [width] * depth, 10, activation=case["activation"], init=case["init"],
                               std=case.get("std"), negative_slope=slope, rng=np.random.default_rng(seed))
    if case.get("bias_std"):
        rng = np.random.default_rng(seed)
        for m in net.modules():
            if isinstance(m, nn.Linear):
                m.bias.data[...] = rng.normal(0.0, case["bias_std"], m.bias.data.shape)
    mean_fp, zero_fp, act_std = [], [], []
    h = x
    for m in net:
        h_next = m(fcnet.tensor(h)).numpy()
        if isinstance(m, nn.Linear) and len(mean_fp) < depth:
            fp = local_gradient(case["activation"], h_next, slope)
            mean_fp.append(float(fp.mean()))
            zero_fp.append(float((fp == 0).mean()))
        elif not isinstance(m, nn.Linear):
            act_std.append(float(h_next.std()))
        h = h_next
    nn.CrossEntropyLoss()(net(fcnet.tensor(x)), y).backward()
    return {"norms": list(grad_norms(net).values()), "mean_fp": mean_fp, "zero_fp": zero_fp, "act_std": act_std}


def sgd_run(x: np.ndarray, y: np.ndarray, clip: float | None, seed: int, epochs: int
            ) -> dict[str, Any]:
    """The exploding net under plain SGD: mini-batch loss and total ‖g‖ per step, until it stops being finite."""
    net = nn.FullyConnectedNet(x.shape[1], [WIDTH] * EXPLODE_DEPTH, 10, init="normal", std=EXPLODE_STD,
                               rng=np.random.default_rng(seed))
    opt = optim.SGD(net.parameters(), lr=EXPLODE_LR)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    losses, norms = [], []
    with np.errstate(over="ignore", invalid="ignore"):  # the overflow is what is shown
        for _ in range(epochs):
            for xb, yb in batches(x, y, 64, rng):
                opt.zero_grad()
                loss = loss_fn(net(fcnet.Tensor(xb)), yb)
                value = float(loss.item())
                if not math.isfinite(value):
                    return {"loss": losses, "grad_norm": norms, "blew": len(losses) + 1}
                loss.backward()
                total = optim.clip_grad_norm(net.parameters(), clip if clip else math.inf)
                if not math.isfinite(total):
                    return {"loss": [*losses, value], "grad_norm": norms, "blew": len(losses) + 1}
                losses.append(value)
                norms.append(total)
                opt.step()
    return {"loss": losses, "grad_norm": norms, "blew": None}


def race(activation: str, init: str, x: np.ndarray, y: np.ndarray, seed: int, lr: float | None = None
         ) -> list[float]:
    """Slides 87-88: mini-batch loss per step of plain SGD on a net with ``activation`` (equal budget for all);
    ``lr`` defaults to the race's shared ε.
    """
    net = nn.FullyConnectedNet(x.shape[1], [WIDTH] * RACE["depth"], 10, activation=activation, init=init, rng=seed)
    opt = optim.SGD(net.parameters(), lr=RACE["lr"] if lr is None else lr)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    losses = []
    with np.errstate(over="ignore", invalid="ignore"):  # a too-large ε may overflow: that run counts as inf
        for _ in range(RACE["epochs"]):
            for xb, yb in batches(x, y, 64, rng):
                opt.zero_grad()
                loss = loss_fn(net(fcnet.Tensor(xb)), yb)
                value = float(loss.item())
                if not math.isfinite(value):
                    return [*losses, math.inf]
                loss.backward()
                opt.step()
                losses.append(value)
    return losses


def race_sweep(x: np.ndarray, y: np.ndarray, steps_per_epoch: int) -> dict[str, dict[float, list[float]]]:
    """Slide 88 under a tuned ε: mean mini-batch loss over the last epoch, per activation, ε in RACE_LRS and seed
    (inf where the run overflowed).
    """
    def last(r: list[float]) -> float:
        return math.inf if not math.isfinite(r[-1]) else float(np.mean(r[-steps_per_epoch:]))
    return {a: {lr: [last(race(a, init, x, y, s, lr)) for s in RACE["seeds"]] for lr in RACE_LRS}
            for a, init in RACE_CASES}


def _figure_race(out: Path, curves: dict[str, list[list[float]]]) -> Path:
    fig, ax = plt.subplots(figsize=(7.5, 3.8))
    window = 10
    for name, runs in curves.items():
        arr = np.array(runs)
        smooth = np.array([np.convolve(r, np.ones(window) / window, mode="valid") for r in arr])
        steps = np.arange(window, arr.shape[1] + 1)
        ax.plot(steps, smooth.mean(0), label=show_activation(name))
        ax.fill_between(steps, smooth.min(0), smooth.max(0), alpha=0.2)
    ax.set_xlabel(tr("step", "步数"))
    ax.set_ylabel(tr(f"mini-batch loss (mean of {window} steps)", f"小批量损失 ({window}步平均)"))
    ax.set_title(slide_title("87-88", f"equal budget: {RACE['depth']} hidden layers of {WIDTH}, SGD ε = {RACE['lr']}, "
                             f"seeds {RACE['seeds'][0]}-{RACE['seeds'][-1]} (band: min-max)",
                             f"相同预算: {RACE['depth']}个隐层 × {WIDTH}, 梯度下降 ε = {RACE['lr']}, "
                             f"种子 {RACE['seeds'][0]}-{RACE['seeds'][-1]} (阴影: 最小-最大)"), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    return save_figure(fig, out / "gradients_race.png")


def show_activation(name: str) -> str:
    """An activation's name and its init, in the chosen language."""
    init = dict(RACE_CASES)[name]
    return tr(f"{name} ({init})", f"{term(name)} ({'Xavier' if init == 'xavier' else 'He'} 初始化)")


def _figure(out: Path, cases: dict[str, dict[str, list[float]]], explode_init: dict[str, list[float]],
            he_init: dict[str, list[float]], runs: dict[str, dict[str, Any]], steps_per_epoch: int
            ) -> tuple[Path, int]:
    fig, (a1, a2, a3) = plt.subplots(1, 3, figsize=(14, 4.6))
    for name, c in cases.items():
        a1.semilogy(range(1, len(c["norms"]) + 1), c["norms"], "o-", ms=3, label=show(name))
    a1.set_xlabel(tr("layer l (1 = nearest the input)", "层 l (1 = 最靠近输入)"))
    a1.set_ylabel(tr(r"$\|\partial L/\partial W_l\|$ at initialisation", r"初始化时的 $\|\partial L/\partial W_l\|$"))
    a1.set_title(slide_title("83-86", "vanishing gradients", "梯度消失"), fontsize=10)
    a1.grid(alpha=0.3, which="both")
    lowest = min(min(c["norms"]) for c in cases.values())
    a1.set_ylim(bottom=lowest * 1e-4)  # room under the curves, so the legend covers none of them
    a1.legend(fontsize=7, loc="lower right")
    for name, c, col in [(tr(f"N(0, {EXPLODE_STD}²)", f"N(0, {EXPLODE_STD}²)"), explode_init, "#D55E00"),
                         (tr("He N(0, 2/N)", "He N(0, 2/N)"), he_init, "#009E73")]:
        a2.semilogy(range(1, len(c["act_std"]) + 1), c["act_std"], "o-", color=col, label=name)
    a2.set_xlabel(tr("hidden layer l", "隐层 l"))
    a2.set_ylabel(tr("std of the layer's output", "该层输出的标准差"))
    a2.set_title(slide_title("87", "stand-in for the cliff: too large an init, each layer multiplies",
                             "断崖的替代: 初始化过大, 逐层放大"), fontsize=10)
    a2.grid(alpha=0.3, which="both")
    a2.legend(fontsize=8)
    for label, r in runs.items():
        t = np.arange(1, len(r["loss"]) + 1) / steps_per_epoch
        a3.semilogy(t, r["loss"], "-", lw=1, label=label)
        if r["blew"]:
            a3.plot(t[-1], r["loss"][-1], "x", color="#D55E00", ms=12, mew=3)
            a3.annotate(tr(f"overflow at step {r['blew']}", f"第{r['blew']}步溢出"), (t[-1], r["loss"][-1]),
                        textcoords="offset points", xytext=(8, 0), color="#D55E00", fontsize=9)
    a3.set_xlabel(tr("epoch", "轮次"))
    a3.set_ylabel(tr("mini-batch training loss", "小批量训练损失"))
    a3.set_title(slide_title("87", "gradient clipping keeps it training", "梯度裁剪"), fontsize=10)
    a3.grid(alpha=0.3, which="both")
    a3.legend(fontsize=8, loc="upper right")
    return save_figure(fig, out / "gradients.png"), _points_under_legend(fig, a1)


def _points_under_legend(fig: plt.Figure, ax: plt.Axes) -> int:
    """How many plotted points of ``ax`` the legend box covers (0: the legend hides no curve)."""
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent()
    return sum(int(box.contains(*ax.transData.transform(p))) for line in ax.get_lines() for p in line.get_xydata())


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Per-layer gradient norms and local gradients at init; an exploding net with and without clipping."""
    with blas_threads(1):  # small matrices: one BLAS thread is fastest and does not fight other processes
        return _run(out, seed, full)


def _run(out: Path, seed: int, full: bool) -> LabResult:
    ds = image_data("digits", seed=seed)
    xb, yb = ds.xs_train[:256], ds.y_train[:256]
    cases = {name: at_init(c, xb, yb, seed) for name, c in CASES.items()}
    explode_case = {"activation": "relu", "init": "normal", "std": EXPLODE_STD}
    explode_init = at_init(explode_case, xb, yb, seed, depth=EXPLODE_DEPTH)
    he_init = at_init({"activation": "relu", "init": "he"}, xb, yb, seed, depth=EXPLODE_DEPTH)
    epochs = 3 * EXPLODE_EPOCHS if full else EXPLODE_EPOCHS
    runs = {tr("no clipping", "不裁剪"): sgd_run(ds.xs_train, ds.y_train, None, seed, epochs),
            tr(f"clip_grad_norm {CLIP:g}", f"梯度裁剪 {CLIP:g}"): sgd_run(ds.xs_train, ds.y_train, CLIP, seed, epochs)}
    unclipped, clipped = runs.values()
    steps_per_epoch = math.ceil(len(ds.y_train) / 64)
    f, under_legend = _figure(out, cases, explode_init, he_init, runs, steps_per_epoch)
    curves = {a: [race(a, init, ds.xs_train, ds.y_train, s) for s in RACE["seeds"]] for a, init in RACE_CASES}
    f_race = _figure_race(out, curves)
    last = {a: [float(np.mean(r[-steps_per_epoch:])) for r in runs_] for a, runs_ in curves.items()}
    t_race = Table(
        tr(f"Slides 87-88: training race, mean mini-batch loss over the last epoch ({RACE['depth']} hidden layers of "
           f"{WIDTH}, plain SGD ε = {RACE['lr']}, m = 64, {RACE['epochs']} epochs, each activation with its init)",
           f"第87-88页: 训练速度比较, 最后一轮的平均小批量损失 ({RACE['depth']}个隐层 × {WIDTH}, 梯度下降 "
           f"ε = {RACE['lr']}, m = 64, {RACE['epochs']}轮, 各激活函数配合其初始化)"),
        [tr("activation (init)", "激活函数 (初始化)")] + [tr(f"seed {s}", f"种子 {s}") for s in RACE["seeds"]]
        + [tr("mean", "平均")],
        [[show_activation(a), *v, float(np.mean(v))] for a, v in last.items()])
    sweep = race_sweep(ds.xs_train, ds.y_train, steps_per_epoch)
    mean_at = {a: {lr: float(np.mean(v)) for lr, v in by_lr.items()} for a, by_lr in sweep.items()}
    best_lr = {a: min(m, key=m.get) for a, m in mean_at.items()}
    best = {a: mean_at[a][best_lr[a]] for a in mean_at}
    # the shared ε at which ReLU and Leaky ReLU end below tanh and sigmoid at every seed (slide 88 holds)
    holds_at = [lr for lr in RACE_LRS
                if all(f < s_ for fast in ("relu", "leaky_relu") for slow in ("sigmoid", "tanh")
                       for f, s_ in zip(sweep[fast][lr], sweep[slow][lr], strict=True))]
    tuned_winner = min(best, key=best.get)
    t_sweep = Table(
        tr(f"Slides 87-88 with ε tuned per activation: mean (over seeds {RACE['seeds'][0]}-{RACE['seeds'][-1]}) "
           f"mini-batch loss over the last of {RACE['epochs']} epochs, {RACE['depth']} hidden layers of {WIDTH}, "
           "plain SGD; inf = overflowed",
           f"第87-88页, 每个激活函数各自调 ε: 最后一轮的平均小批量损失 "
           f"(种子 {RACE['seeds'][0]}-{RACE['seeds'][-1]} 平均), "
           f"{RACE['depth']}个隐层 × {WIDTH}, {RACE['epochs']}轮梯度下降; inf = 溢出"),
        [tr("activation (init)", "激活函数 (初始化)")] + [f"ε = {lr:g}" for lr in RACE_LRS]
        + [tr("best ε", "最佳 ε"), tr("loss at best ε", "最佳 ε 下的损失")],
        [[show_activation(a), *[mean_at[a][lr] for lr in RACE_LRS], best_lr[a], best[a]] for a in mean_at])

    t_vanish = Table(
        tr(f"{DEPTH} hidden layers of {WIDTH}, one batch of 256 digits, at initialisation",
           f"{DEPTH}个隐层, 每层{WIDTH}个神经元, 256张 digits 图像的一个批次, 初始化时"),
        [tr("activation, init", "激活函数, 初始化"), tr("‖∂L/∂W₁‖", "‖∂L/∂W₁‖"),
         "‖∂L/∂W" + "".join("₀₁₂₃₄₅₆₇₈₉"[int(c)] for c in str(DEPTH + 1)) + "‖", tr("first / last", "首层/末层"),
         tr("mean f'(z)", "平均局部梯度 f'(z)"), tr("share f'(z) = 0", "f'(z) = 0 的比例")],
        [[show(k), c["norms"][0], c["norms"][-1], c["norms"][0] / c["norms"][-1], float(np.mean(c["mean_fp"])),
          float(np.mean(c["zero_fp"]))] for k, c in cases.items()])
    n_show = min(len(unclipped["loss"]), 6)
    t_explode_init = Table(
        tr(f"Slide 87, a stand-in: the slide draws a cliff in the loss surface; here a too-large init "
           f"N(0, {EXPLODE_STD}²) (std {EXPLODE_STD}, about twice He's) makes the large gradients instead. "
           f"{EXPLODE_DEPTH} hidden ReLU layers, at initialisation, std of each hidden layer's output",
           f"第87页的替代实验: 幻灯片画的是损失曲面上的断崖; 这里用过大的初始化 N(0, {EXPLODE_STD}²) "
           f"(标准差 {EXPLODE_STD}, 约为 He 的两倍) 产生大梯度。"
           f"{EXPLODE_DEPTH}个 ReLU 隐层, 初始化时各隐层输出的标准差"),
        [tr("init", "初始化")] + [f"l={i + 1}" for i in range(EXPLODE_DEPTH)] + ["‖∂L/∂W₁‖"],
        [[f"N(0, {EXPLODE_STD}²)"] + explode_init["act_std"] + [explode_init["norms"][0]],
         ["He N(0, 2/N)"] + he_init["act_std"] + [he_init["norms"][0]]])
    t_explode = Table(
        tr(f"Slide 87: mini-batch gradient descent ε = {EXPLODE_LR}, first steps of the exploding net "
           "(the stand-in above; mini-batch loss, total ‖g‖)",
           f"第87页: （小批量）梯度下降 ε = {EXPLODE_LR}, 梯度爆炸网络 (上面的替代实验) 的最初几步 "
           "(小批量损失, 总梯度范数 ‖g‖)"),
        [tr("run", "设置")] + [tr(f"step {i + 1}", f"第{i + 1}步") for i in range(n_show)]
        + [tr("final loss", "最终损失"), tr("overflow at step", "溢出步")],
        [[name] + [f"{r['loss'][i]:.4g} / {r['grad_norm'][i]:.4g}" if i < len(r["grad_norm"])
                   else f"{r['loss'][i]:.4g} / inf" if i < len(r["loss"]) else "—" for i in range(n_show)]
         + [r["loss"][-1] if r["blew"] is None else math.inf, r["blew"] if r["blew"] else tr("none", "无")]
         for name, r in runs.items()])
    claim = tr(
        "Slide 83: vanishing gradients 'come from the multiplicative nature of the chain rule': each sigmoid "
        "layer multiplies the gradient by f'(z) ≤ 1/4, and the first layer gets orders of magnitude less than "
        "the last. Slide 84: tanh 'is like sigmoid, its local gradient hinders the backward flow': with Xavier "
        "init the units stay in tanh's linear centre (mean f'(z) near 1) and nothing vanishes; once they sit "
        "off it (biases N(0, 1)) the mean f'(z) drops and the first layer's gradient vanishes too (the activations "
        "lab's tanh product → 0 assumes inputs N(0, 1) at every layer, which is this second case). Slides "
        "85-86: ReLU's local gradient is never 0 for positive inputs and does not vanish; Leaky ReLU "
        "(0.01, slide 86; 0.1, slide 41) has no dead zone (no unit with f'(z) = 0). Slide 87 (a stand-in: the "
        "slide's gradient explodes at a cliff of the loss; here too large an init makes the large gradients): it "
        "makes every layer multiply the signal (finite numbers growing layer by layer) and plain SGD flies "
        "off until the loss overflows (the table shows inf and the step), and clipping the gradient "
        "norm (slide 87's 'gradient clipping') makes the same net train. Slides 87-88: 'ReLU or Leaky ReLU ... "
        f"converge faster' holds only at a shared plain-SGD ε in {{{', '.join(f'{v:g}' for v in holds_at)}}} "
        f"({RACE['depth']} hidden layers, {RACE['epochs']} epochs, every seed ends below tanh and sigmoid); with "
        f"each activation at its own best ε of {{{', '.join(f'{v:g}' for v in RACE_LRS)}}}, "
        + ("ReLU or Leaky ReLU still ends lowest" if tuned_winner in ("relu", "leaky_relu") else
           f"{tuned_winner} ends lowest ({best[tuned_winner]:.3f} at ε = {best_lr[tuned_winner]:g}, against ReLU's "
           f"{best['relu']:.3f} and Leaky ReLU's {best['leaky_relu']:.3f}) and the slide fails")
        + ". Sigmoid hardly moves at any ε (its f' ≤ 1/4 per layer).",
        "第83页: 梯度消失“本质是由于链式法则的乘法特性导致的”: 每个 sigmoid 层把梯度乘以 f'(z) ≤ 1/4, 第一层的梯度比"
        "最后一层小几个数量级。第84页: tanh “与sigmoid类似, 局部梯度特性不利于网络梯度流的反向传递”: Xavier 初始化"
        "让神经元停在 tanh 的线性中心 (平均 f'(z) 接近 1), 梯度不消失; 神经元离开中心时 (偏置 N(0, 1)), 平均 f'(z) "
        "下降, 第一层的梯度同样消失 (激活函数实验中 tanh 乘积 → 0 假定每层输入为 N(0, 1), 即这第二种情形)。"
        "第85-86页: ReLU “当输入大于0时, 局部梯度永远不会为0”, 梯度不消失; Leaky ReLU "
        "(第86页 0.01, 第41页 0.1) 基本没有“死区” (没有 f'(z) = 0 的神经元)。第87页 (替代实验: 幻灯片的梯度爆炸发生在"
        "损失的断崖处; 这里用过大的初始化产生大梯度): 初始化过大时每一层都放大信号 "
        "(逐层增长的有限数值), 梯度下降“飞”出合理区域直到损失溢出 (表中记为 inf 并给出步数); 同页的“梯度裁剪”使同一"
        "网络能够训练。第87-88页: “ReLU函数或者Leaky ReLU函数会让梯度流更加顺畅，训练过程收敛得更快” "
        f"仅在共用的梯度下降 ε ∈ {{{', '.join(f'{v:g}' for v in holds_at)}}} 时成立 "
        f"({RACE['depth']}个隐层, {RACE['epochs']}轮, "
        "每个种子都低于 tanh 和 sigmoid); 每个激活函数各用 "
        f"{{{', '.join(f'{v:g}' for v in RACE_LRS)}}} 中自己最好的 ε 时, "
        + ("ReLU 或 Leaky ReLU 仍然最低" if tuned_winner in ("relu", "leaky_relu") else
           f"{tuned_winner} 最低 (ε = {best_lr[tuned_winner]:g} 时 {best[tuned_winner]:.3f}, ReLU "
           f"{best['relu']:.3f}, Leaky ReLU {best['leaky_relu']:.3f}), 该页结论不成立")
        + "。sigmoid 在任何 ε 下几乎不下降 (每层 f' ≤ 1/4)。")
    numbers = {
        "ratios": {k: c["norms"][0] / c["norms"][-1] for k, c in cases.items()},
        "mean_local_gradient": {k: float(np.mean(c["mean_fp"])) for k, c in cases.items()},
        "zero_local_gradient": {k: float(np.mean(c["zero_fp"])) for k, c in cases.items()},
        "explode_act_std": explode_init["act_std"], "he_act_std": he_init["act_std"],
        "unclipped_blew": unclipped["blew"], "unclipped_losses": unclipped["loss"],
        "unclipped_grad_norms": unclipped["grad_norm"],
        "clipped_blew": clipped["blew"], "clipped_first_loss": float(np.mean(clipped["loss"][:steps_per_epoch])),
        "clipped_final_loss": float(np.mean(clipped["loss"][-steps_per_epoch:])),
        "points_under_legend": under_legend, "race_last_epoch": last,
        "race_sweep": sweep, "race_best_lr": best_lr, "race_best_loss": best, "race_holds_at": holds_at,
        "race_tuned_winner": tuned_winner, "clipping_slide": t_explode.caption.split(":")[0],
    }
    summary = tr(
        "Sigmoid chains vanish (f′ ≤ ¼, slide 83); tanh vanishes only off its centre, not with Xavier (84); ReLU and "
        "Leaky ReLU do not (85-86). Slide 87, with a stand-in (too large an init): SGD overflows, clipping trains. "
        f"Slide 88 holds only at a shared SGD ε ≤ {max(holds_at, default=0):g}; tuned per activation, "
        f"{tuned_winner} ends lowest.",
        "sigmoid 链式乘积消失 (f′ ≤ ¼, 第83页); tanh 只在离开中心时消失, Xavier 下不消失 (第84页); ReLU 与 Leaky ReLU "
        "不消失 (第85-86页)。第87页 (替代实验: 初始化过大): 梯度下降溢出, 梯度裁剪能训练。第88页仅在共用的 "
        f"ε ≤ {max(holds_at, default=0):g} 时成立; 各自调 ε 时 {tuned_winner} 最低。")
    return LabResult("gradients", SLIDES, tr("Vanishing and exploding gradients", "梯度消失与梯度爆炸"), claim,
                     [t_vanish, t_explode_init, t_explode, t_race, t_sweep], [f, f_race], numbers,
                     summary=summary, formulas=[r"\sigma'(x)=\sigma(x)(1-\sigma(x))\le\tfrac14",
                               r"\frac{\partial L}{\partial W_1}=\frac{\partial L}{\partial z_N}"
                               r"\prod_{l=2}^{N}\frac{\partial z_l}{\partial z_{l-1}}\frac{\partial z_1}{\partial W_1}",
                               r"g\leftarrow g\cdot\min\left(1,\frac{c}{\|g\|}\right)\ \text{(gradient clipping)}"])
