"""Slides 164-169: hyperparameters, and learning rates far too high, high, too low and right.

Setup (why this one): slide 167 draws a loss with a positive minimum that a high rate keeps
overshooting.  A ReLU net on digits has no such floor: its training loss goes to 0, and every
rate below the diverging one just gets there sooner (measured with 64-64-10 and SGD: ε = 1.0
ends at 0.0007, ε = 0.1 at 0.02 after 20 epochs), so "high" would look best.  The L2-regularised
softmax classifier of slide 152, L(W) = (1/N) Σ L_i + λ Σ W², λ = 0.01, has a positive minimum,
and mini-batch SGD (m = 32) hovers above it by an amount that grows with ε: there ε = 1 drops
fastest and then plateaus above ε = 0.2, ε = 0.005 is slow, and ε = 150 diverges (the weights
are multiplied by 1 − 2λε = −2 each step until float32 overflows).  10 epochs on the 1437
training digits keep the lab at a few seconds.
"""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import nn, optim
from fcnet.data.loader import batches
from fcnet.lab.common import image_data, slide_title, tr
from fcnet.lab.report import Code, LabResult, Table
from fcnet.nn.losses import regularization
from fcnet.train.recipe import blas_threads
from fcnet.viz.plots import save_figure

SLIDES = "164-169"
RATES = {"far too high": 150.0, "high": 1.0, "too low": 0.005, "right": 0.2}
NAMES_ZH = {"far too high": "过大", "high": "偏大", "too low": "太小", "right": "适中"}
LAMBDA, BATCH, EPOCHS = 0.01, 32, 10
BELOW_INVERSE_LAMBDA = 50.0  # too high yet below 1/λ = 100: no overflow, and still no convergence


def sgd_losses(x: np.ndarray, y: np.ndarray, lr: float, epochs: int, seed: int
               ) -> tuple[list[float], list[float], int | None]:
    """SGD on L(W) = (1/N) Σ L_i + λ Σ W² for a softmax classifier f = Wx + b.

    Returns the full-training-set loss after each epoch, the mini-batch loss of every step,
    and the step at which the loss stopped being finite (None if it never did).
    """
    net = nn.FullyConnectedNet(x.shape[1], [], 10, rng=np.random.default_rng(seed))
    opt = optim.SGD(net.parameters(), lr=lr)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(seed)
    per_epoch: list[float] = []
    per_step: list[float] = []
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is one of the outcomes shown
        for _ in range(epochs):
            for xb, yb in batches(x, y, BATCH, rng):
                opt.zero_grad()
                loss = loss_fn(net(fcnet.Tensor(xb)), yb) + regularization(net, LAMBDA)
                value = float(loss.item())
                if not math.isfinite(value):
                    return per_epoch, per_step, len(per_step) + 1
                per_step.append(value)
                loss.backward()
                opt.step()
            with fcnet.no_grad():
                value = float((loss_fn(net(fcnet.Tensor(x)), y) + regularization(net, LAMBDA)).item())
            if not math.isfinite(value):
                return per_epoch, per_step, len(per_step)
            per_epoch.append(value)
    return per_epoch, per_step, None


def hyperparameter_table() -> Table:
    """Slide 164's list of hyperparameters, with the fcnet option that sets each."""
    rows = [[tr("network structure", "网络结构"), tr("hidden units per layer", "隐层神经元个数"), Code("--hidden")],
            [tr("network structure", "网络结构"), tr("number of layers", "网络层数"), Code("--hidden")],
            [tr("network structure", "网络结构"), tr("choice of non-linearity", "非线性单元选择"),
             Code("--activation")],
            [tr("optimisation", "优化相关"), tr("learning rate", "学习率"), Code("--lr")],
            [tr("optimisation", "优化相关"), tr("dropout ratio", "Dropout 比率"), Code("--dropout")],
            [tr("optimisation", "优化相关"), tr("regularisation strength", "正则项强度"), Code("--l2")]]
    return Table(tr("Slide 164: hyperparameters", "第164页: 神经网络中的超参数"),
                 [tr("group", "类别"), tr("hyperparameter", "超参数"), tr("fcnet option", "fcnet 选项")], rows)


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """SGD with four learning rates; full-training-set loss per epoch."""
    with blas_threads(1):  # small matrices: one BLAS thread is fastest and does not fight other processes
        return _run(out, seed, full)


def _run(out: Path, seed: int, full: bool) -> LabResult:
    ds = image_data("digits", seed=seed)
    epochs = 3 * EPOCHS if full else EPOCHS
    steps_per_epoch = math.ceil(len(ds.y_train) / BATCH)
    runs = {name: sgd_losses(ds.xs_train, ds.y_train, lr, epochs, seed) for name, lr in RATES.items()}
    final = {k: (v[0][-1] if v[2] is None else math.inf) for k, v in runs.items()}
    best = {k: (min(v[0]) if v[0] else math.inf) for k, v in runs.items()}
    first = {k: (v[0][0] if v[0] else math.inf) for k, v in runs.items()}

    def label(name: str) -> str:
        return f"{tr(name, NAMES_ZH[name])} (ε = {RATES[name]:g})"

    fig, (ax, ax2) = plt.subplots(1, 2, figsize=(13, 4.8), gridspec_kw={"width_ratios": [3, 2]})
    top = 4.0
    for name, (per_epoch, per_step, blew) in runs.items():
        if blew is None:
            ax.semilogy(range(1, len(per_epoch) + 1), per_epoch, "o-", ms=4, label=label(name))
            continue
        # mini-batch loss of each step up to the blow-up, on the same epoch axis
        t = np.arange(1, len(per_step) + 1) / steps_per_epoch
        lab = label(name) + tr(f": diverged at step {blew}", f": 第{blew}步发散")
        ax.semilogy(t, per_step, "-", color="#D55E00", label=lab)
        out_at = t[int(np.argmax(np.asarray(per_step) > top))]
        ax.annotate(tr("leaves the plot ↑", "超出坐标范围 ↑"), (out_at, top), textcoords="offset points",
                    xytext=(6, -14), color="#D55E00", fontsize=9)
        ax2.semilogy(t, per_step, "-", color="#D55E00", label=lab)
        ax2.plot(t[-1], per_step[-1], "x", color="#D55E00", ms=12, mew=3)
        ax2.annotate(tr(f"next loss not finite (step {blew})", f"第{blew}步损失溢出"), (t[-1], per_step[-1]),
                     textcoords="offset points", xytext=(-150, -4), color="#D55E00", fontsize=9)
    ax.set_ylim(0.3, top)
    ax.set_xlabel(tr("epoch", "轮次"))
    ax.set_ylabel(tr("training loss (data loss + λ Σ W²)", "训练损失 (数据损失 + λ Σ W²)"))
    ax.set_title(slide_title("166-169", "the learning rate decides convergence", "学习率决定能否收敛"), fontsize=11)
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="upper right", fontsize=9)
    ax2.set_xlabel(tr("epoch", "轮次"))
    ax2.set_ylabel(tr("mini-batch training loss", "小批量训练损失"))
    ax2.set_title(slide_title("166", "far too high: no convergence", "学习率过大, 训练过程无法收敛"), fontsize=11)
    ax2.grid(alpha=0.3, which="both")
    f = save_figure(fig, out / "lr.png")

    rows = []
    for name, (_, _, blew) in runs.items():
        rows.append([tr(name, NAMES_ZH[name]), RATES[name], first[name], final[name], best[name],
                     tr(f"yes, at step {blew}", f"是, 第{blew}步") if blew else tr("no", "否")])
    # slide 166's overflow needs |1 − 2λε| > 1, i.e. ε > 1/λ; a too-high ε below that does not overflow
    inv_lambda = 1 / LAMBDA
    b_epoch, _, b_blew = sgd_losses(ds.xs_train, ds.y_train, BELOW_INVERSE_LAMBDA, epochs, seed)
    below = {"lr": BELOW_INVERSE_LAMBDA, "diverged": b_blew is not None, "first": b_epoch[0] if b_epoch else math.inf,
             "final": b_epoch[-1] if b_blew is None else math.inf, "best": min(b_epoch) if b_epoch else math.inf}
    rows.append([tr(f"too high, below 1/λ = {inv_lambda:g}", f"过大, 但低于 1/λ = {inv_lambda:g}"),
                 BELOW_INVERSE_LAMBDA, below["first"], below["final"], below["best"],
                 tr(f"yes, at step {b_blew}", f"是, 第{b_blew}步") if b_blew else tr("no", "否")])
    condition = tr(
        f"Condition: the overflow needs ε > 1/λ = {inv_lambda:g} (the λ term alone multiplies W by 1 − 2λε = "
        f"{1 - 2 * LAMBDA * RATES['far too high']:g} at ε = {RATES['far too high']:g}; |1 − 2λε| > 1 exactly when "
        f"ε > 1/λ). At ε = {BELOW_INVERSE_LAMBDA:g} < 1/λ nothing overflows, yet the loss ends at "
        f"{below['final']:.3g}, above its first epoch's {below['first']:.3g}: slide 166 holds without overflow. ",
        f"条件: 溢出需要 ε > 1/λ = {inv_lambda:g} (仅 λ 项就把 W 乘以 1 − 2λε, ε = {RATES['far too high']:g} 时为 "
        f"{1 - 2 * LAMBDA * RATES['far too high']:g}; |1 − 2λε| > 1 当且仅当 ε > 1/λ)。ε = {BELOW_INVERSE_LAMBDA:g} "
        f"< 1/λ 时没有溢出, 但损失最终为 {below['final']:.3g}, 高于第一轮的 {below['first']:.3g}: "
        "第166页的结论不靠溢出也成立。")
    claim = tr(
        "Slides 166-169: 'far too high, training does not converge; high, it oscillates near the minimum and "
        "does not reach the optimum; too low, convergence takes long; right, fast convergence and a good "
        "result.' Shown with SGD on the L2-regularised softmax classifier of slide 152 (its loss has a "
        "positive minimum to overshoot): the far-too-high run overflows (the table shows inf as its final "
        "loss and the step at which the loss stopped being finite), the high rate has the lowest loss after "
        "the first epoch but ends above the right rate, the too-low rate is still far above after "
        f"{epochs} epochs, and the right rate ends lowest.",
        "第166-169页: “学习率过大, 训练过程无法收敛; 学习率偏大, 在最小值附近震荡, 达不到最优; 学习率太小, "
        "收敛时间较长; 学习率适中, 收敛快、结果好。” 用第152页的 L2 正则化 softmax 分类器 (其损失有正的最小值) "
        "和（小批量）梯度下降演示: 过大的学习率溢出 (表中其最终损失记为 inf, 并给出损失不再有限的那一步), "
        f"偏大的学习率第一轮后损失最低, 但最终停在适中学习率之上, 太小的学习率{epochs}轮后仍远远落后, "
        "适中的学习率最终损失最低。") + " " + condition.strip()
    summary = tr(
        f"SGD on the L2-regularised softmax classifier (slide 152): far too high ε overflows only when ε > 1/λ = "
        f"{inv_lambda:g} (at ε = {BELOW_INVERSE_LAMBDA:g} the loss grows without overflow); high drops fastest, "
        "then plateaus above the right rate; too low is slow; right ends lowest (166-169).",
        f"在 L2 正则化 softmax 分类器 (第152页) 上用梯度下降: 过大的 ε 只有在 ε > 1/λ = {inv_lambda:g} 时才溢出 "
        f"(ε = {BELOW_INVERSE_LAMBDA:g} 时损失增大但不溢出); 偏大的下降最快, 然后停在适中之上; 太小的很慢; "
        "适中的最终最低 (第166-169页)。")
    return LabResult(
        "lr", SLIDES, tr("Choosing the learning rate", "学习率设置"), claim,
        [hyperparameter_table(),
         Table(tr(f"SGD, m = {BATCH}, λ = {LAMBDA}, {epochs} epochs: training loss on all training images",
                  f"（小批量）梯度下降, m = {BATCH}, λ = {LAMBDA}, {epochs} 轮: 全部训练图像上的训练损失"),
               [tr("learning rate", "学习率"), "ε", tr("after epoch 1", "第1轮后"), tr("final", "最终"),
                tr("lowest", "最低"), tr("diverged", "发散")], rows)],
        [f], {"final": final, "first": first, "best": best,
              "diverged": {k: v[2] is not None for k, v in runs.items()},
              "diverged_step": {k: v[2] for k, v in runs.items()}, "rates": dict(RATES),
              "below_inverse_lambda": below, "inverse_lambda": inv_lambda},
        summary=summary,
        formulas=[r"L(W)=\frac{1}{N}\sum_i L_i(f(x_i,W),y_i)+\lambda\sum_k\sum_l W_{k,l}^2\quad\text{(152)}",
                  r"g\leftarrow\frac{1}{m}\nabla_W\sum_{i=1}^{m}L_i+2\lambda W,\qquad W\leftarrow W-\epsilon g",
                  r"\text{the }\lambda\text{ term alone: } W\leftarrow(1-2\lambda\epsilon)\,W,\ "
                  r"|1-2\lambda\epsilon|>1\Rightarrow\text{divergence}"])
