"""Slides 137-141: batch normalisation keeps every layer's activations in range and the gradients flowing."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import nn
from fcnet.i18n import term
from fcnet.lab.common import accuracy, image_data, slide_title, tr, train
from fcnet.lab.report import LabResult, Table
from fcnet.viz.plots import save_figure

SLIDES = "137-141"
EPOCHS = 5  # --full: 8
COLLAPSE_STD = 0.03  # slide 138's collapse needs small weights N(0, 0.03²); with Xavier N(0, 1/N) it does not happen
FLOW_DEPTH = 8  # hidden sigmoid layers of the gradient-flow net: with the output layer a 9-layer net (slides 33-34)
WORKED_BATCH = [1.0, 2.0, 4.0, 9.0]  # one neuron's outputs over a mini-batch of m = 4
WORKED_GAMMA, WORKED_BETA = 2.0, 0.5


def layer_outputs(net: nn.Sequential, x: np.ndarray) -> list[np.ndarray]:
    """Outputs of each activation module of ``net`` on ``x`` (training mode, no graph)."""
    outs = []
    with fcnet.no_grad():
        h = fcnet.tensor(x)
        for m in net:
            h = m(h)
            if isinstance(m, nn.Tanh | nn.ReLU | nn.Sigmoid):
                outs.append(h.numpy().ravel())
    return outs


def worked_batch(xs: list[float] = WORKED_BATCH, gamma: float = WORKED_GAMMA, beta: float = WORKED_BETA,
                 eps: float = 1e-5) -> dict[str, np.ndarray | float]:
    """Slide 141's four steps by hand, and fcnet's BatchNorm1d (γ, β set) on the same batch.

    μ_B = (1/m) Σ x_i;  σ_B² = (1/m) Σ (x_i − μ_B)²;  x̂_i = (x_i − μ_B) / √(σ_B² + ε);  y_i = γ x̂_i + β.
    """
    x = np.asarray(xs, dtype=np.float64)
    mu = x.mean()
    var = ((x - mu) ** 2).mean()
    xhat = (x - mu) / np.sqrt(var + eps)
    y = gamma * xhat + beta
    bn = nn.BatchNorm1d(1, eps=eps, dtype=np.float64)
    bn.weight.data[...] = gamma
    bn.bias.data[...] = beta
    y_fcnet = bn(fcnet.tensor(x.reshape(-1, 1))).numpy().ravel()
    return {"x": x, "mu": float(mu), "var": float(var), "xhat": xhat, "y": y, "y_fcnet": y_fcnet}


def gradient_flow(x: np.ndarray, y: np.ndarray, activation: str = "sigmoid", depth: int = 8,
                  seed: int = 0) -> dict[str, list[float]]:
    """‖∂L/∂W_l‖ of every Linear layer after one backward pass, without and with batch norm (slides 139-140)."""
    out = {}
    for bn in (False, True):
        net = nn.FullyConnectedNet(x.shape[1], [128] * depth, 10, activation=activation, init="xavier",
                                   batchnorm=bn, rng=np.random.default_rng(seed))
        nn.CrossEntropyLoss()(net(fcnet.tensor(x)), y).backward()
        out["with batch norm" if bn else "without"] = [float(np.linalg.norm(m.weight.grad)) for m in net
                                                       if isinstance(m, nn.Linear)]
    return out


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """A worked batch, activation spreads and gradient flow with and without BN, learned γ/β, test-time stats."""
    ds = image_data("digits", seed=seed)
    x = ds.xs_train[:500]
    wb = worked_batch(WORKED_BATCH, WORKED_GAMMA, WORKED_BETA)
    stds = {}
    fig, axes = plt.subplots(2, 6, figsize=(14, 5.4), sharex=True)
    for r, bn in enumerate([False, True]):
        net = nn.FullyConnectedNet(ds.num_features, [256] * 6, 10, activation="tanh", init="normal",
                                   std=COLLAPSE_STD, batchnorm=bn, rng=np.random.default_rng(seed))
        outs = layer_outputs(net, x)
        stds["with batch norm" if bn else "without"] = [float(o.std()) for o in outs]
        for k, o in enumerate(outs):
            counts, edges = np.histogram(o, bins=50, range=(-1, 1))
            axes[r, k].stairs(counts, edges, fill=True)
            axes[r, k].set_yticks([])
            axes[r, k].set_title(tr(f"layer {k + 1}\nstd {o.std():.3f}", f"第{k + 1}层\n标准差 {o.std():.3f}"))
            axes[r, k].set_xlabel(tr("tanh output", "tanh 输出"))
        axes[r, 0].set_ylabel(tr("with BN", "有批归一化") if bn else tr("without BN", "无批归一化"))
    fig.suptitle(slide_title("138-139", f"tanh activations per layer, N(0, {COLLAPSE_STD}²) weights: batch norm "
                             "restores the spread",
                             f"各层 tanh 激活值，N(0, {COLLAPSE_STD}²) 权值：批归一化解决信号消失"))
    # the condition: the same net without batch norm but with Xavier weights keeps its signal
    xavier = nn.FullyConnectedNet(ds.num_features, [256] * 6, 10, activation="tanh", init="xavier",
                                  rng=np.random.default_rng(seed))
    stds["without, Xavier N(0, 1/N)"] = [float(o.std()) for o in layer_outputs(xavier, x)]
    figs = [save_figure(fig, out / "batchnorm.png")]
    flow = gradient_flow(ds.xs_train[:256], ds.y_train[:256], depth=FLOW_DEPTH, seed=seed)
    n_layers = FLOW_DEPTH + 1  # slides 33-34: every layer but the input counts
    fig, ax = plt.subplots(figsize=(7.5, 4.4))
    for k, g in flow.items():
        ax.semilogy(range(1, len(g) + 1), g, "o-", label=tr(k, "有批归一化" if k != "without" else "无批归一化"))
    ax.set_xlabel(tr("layer (1 = next to the input)", "层（1 = 靠近输入）"))
    ax.set_ylabel("‖∂L/∂W‖")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="lower right")
    ax.set_title(slide_title("139-140", f"gradient per layer, {n_layers}-layer net ({FLOW_DEPTH} hidden sigmoid "
                             "layers), one batch",
                             f"批归一化与梯度消失：{n_layers}层网络（{FLOW_DEPTH}个 sigmoid 隐层）各层梯度"))
    figs.append(save_figure(fig, out / "batchnorm_gradient_flow.png"))
    # learned γ, β (slide 141's question: is mean 0, variance 1 the best distribution?) and test time (slide 141)
    net = nn.FullyConnectedNet(ds.num_features, [128, 128], 10, batchnorm=True, rng=np.random.default_rng(seed))
    train(net, ds.xs_train, ds.y_train, epochs=8 if full else EPOCHS, lr=1e-3, seed=seed)
    bns = [m for m in net if isinstance(m, nn.BatchNorm1d)]
    gb_rows = []
    for i, m in enumerate(bns):
        g, b = m.weight.numpy(), m.bias.numpy()
        gb_rows.append([i + 1, float(g.min()), float(g.mean()), float(g.max()), float(b.min()), float(b.mean()),
                        float(b.max()), float(np.mean((np.abs(g - 1) > 0.01) | (np.abs(b) > 0.01)))])
    acc_eval = accuracy(net, ds.xs_test, ds.y_test)
    net.eval()
    with fcnet.no_grad():
        single = np.stack([net(fcnet.tensor(ds.xs_test[i:i + 1])).numpy()[0] for i in range(50)])
        batch = net(fcnet.tensor(ds.xs_test[:50])).numpy()
    consistent = float(np.abs(single - batch).max())
    # batch statistics at test time: the answer for a sample depends on its batch-mates
    net.train()
    with fcnet.no_grad():
        pairs = [net(fcnet.tensor(ds.xs_test[i:i + 2])).numpy().argmax(1) for i in range(0, 360, 2)]
    acc_pairs = float((np.concatenate(pairs) == ds.y_test[:360]).mean())
    layer = tr("layer", "层")
    tables = [
        Table(tr(f"slide 141, step by step: one neuron over a batch of m = 4, γ = {WORKED_GAMMA}, β = {WORKED_BETA}, "
                 f"μ_B = {wb['mu']:.4f}, σ_B² = {wb['var']:.4f}",
                 f"第141页批归一化算法逐步计算：一个神经元，批量 m = 4，γ = {WORKED_GAMMA}，β = {WORKED_BETA}，"
                 f"μ_B = {wb['mu']:.4f}，σ_B² = {wb['var']:.4f}"),
              ["i", "x_i", "x_i − μ_B", "x̂_i", tr("y_i = γx̂_i + β (by hand)", "y_i = γx̂_i + β（手算）"),
               tr("fcnet BatchNorm1d", "fcnet BatchNorm1d")],
              [[i + 1, float(wb["x"][i]), float(wb["x"][i] - wb["mu"]), float(wb["xhat"][i]), float(wb["y"][i]),
                float(wb["y_fcnet"][i])] for i in range(len(WORKED_BATCH))]),
        Table(tr(f"slides 138-139: std of the tanh activations per layer, 6 tanh layers of 256, weights "
                 f"N(0, {COLLAPSE_STD}²) unless the row says Xavier (the condition under which the signal collapses)",
                 f"第138-139页：各层 tanh 激活值的标准差，6个 tanh 隐层 × 256，除注明 Xavier 外权值为 "
                 f"N(0, {COLLAPSE_STD}²)（信号消失的条件）"),
              [tr("net", "网络"), *[f"{layer} {k}" for k in range(1, 7)]],
              [[{"without": tr("without BN", "无批归一化"), "with batch norm": tr("with BN", "有批归一化"),
                 "without, Xavier N(0, 1/N)": tr("without BN, Xavier N(0, 1/N)", "无批归一化, Xavier N(0, 1/N)")}[k],
                *v] for k, v in stds.items()]),
        Table(tr(f"slides 139-140: ‖∂L/∂W‖ per layer of a {n_layers}-layer net, {FLOW_DEPTH} hidden sigmoid layers "
                 "(slides 33-34's naming; one batch of 256)",
                 f"第139-140页：{n_layers}层网络（{FLOW_DEPTH}个 sigmoid 隐层，第33-34页的命名）各层 ‖∂L/∂W‖"
                 "（一个256样本的批量）"),
              [tr("net", "网络"), *[f"{layer} {k}" for k in range(1, n_layers + 1)],
               tr("layer 1 / last", "第1层/最后一层")],
              [[term(k), *g, g[0] / g[-1]] for k, g in flow.items()]),
        Table(tr("slide 141: γ and β after training (they start at 1 and 0)",
                 "第141页：训练后学到的 γ 与 β（初始为 1 和 0）"),
              [tr("BN", "批归一化层"), tr("min γ", "最小 γ"), tr("mean γ", "平均 γ"), tr("max γ", "最大 γ"),
               tr("min β", "最小 β"), tr("mean β", "平均 β"), tr("max β", "最大 β"),
               tr("share of units moved (|γ−1| or |β| > 0.01)", "偏离 (1, 0) 的神经元比例")], gb_rows),
        Table(tr("slide 141: test time", "第141页：单张样本测试"), [tr("normalisation", "归一化"), tr("test accuracy",
                                                                                          "准确率")],
              [[tr("running statistics (eval mode)", "训练时累计的均值与方差"), acc_eval],
               [tr("batch statistics of pairs of test samples", "两张测试样本的批统计量"), acc_pairs]]),
        Table(tr("slide 141: one sample alone vs in a batch of 50 (eval mode)", "第141页：单张样本与50张批量的输出差"),
              [tr("max |difference|", "最大 |差值|")], [[consistent]]),
    ]
    claim = tr("Slide 138: normalise each neuron's output over the batch; if every layer's neurons are batch-"
               "normalised, the signal no longer vanishes in the forward pass (condition: the signal vanishes only "
               f"with small weights, N(0, {COLLAPSE_STD}²): the last layer's std is {stds['without'][-1]:.3g} "
               f"without BN, {stds['with batch norm'][-1]:.3g} with it; with Xavier N(0, 1/N) and "
               f"no BN it only decays to {stds['without, Xavier N(0, 1/N)'][-1]:.3g}, no collapse). "
               "Slides 139-140: 'subtract the mean, divide by the variance' (the slide's words; slide 141's "
               "algorithm divides by √(σ_B² + ε), the standard deviation): batch norm and vanishing gradients. "
               "Slide 141: the algorithm "
               "(μ_B, σ_B², x̂_i, y_i = γx̂_i + β, γ and β learned) asks whether mean 0, variance 1 is the best "
               "distribution: training moves γ and β away from 1 and 0. Slide 141 also asks: one test sample needs "
               "a mean and variance: the running statistics give one sample the same answer alone as in a batch.",
               "第138页：直接对神经元的输出进行批归一化；如果每一层的每个神经元进行批归一化，就能解决前向传递过程中的"
               f"信号消失问题（条件：只有权值很小 N(0, {COLLAPSE_STD}²) 时信号才消失：无批归一化时最后一层标准差为 "
               f"{stds['without'][-1]:.3g}，有批归一化为 {stds['with batch norm'][-1]:.3g}；"
               f"用 Xavier N(0, 1/N) 时无批归一化也只降到 {stds['without, Xavier N(0, 1/N)'][-1]:.3g}，没有消失）。"
               "第139-140页：减均值、除方差（第141页的算法实际除以 √(σ_B² + ε)，即标准差）——批归一化与梯度消失。"
               "第141页：批归一化算法（μ_B、σ_B²、"
               "x̂_i、平移缩放 y_i = γx̂_i + β，γ、β 为学习参数）问：0均值1方差是最有利于分类的分布吗？训练后 γ、β "
               "偏离 1 和 0。第141页还问：单张样本测试时均值和方差用训练时的累计值，单张与批量结果相同。")
    summary = tr(
        f"With weights N(0, {COLLAPSE_STD}²) the tanh signal collapses (std {stds['without'][-1]:.3g} at layer 6) and "
        f"batch norm restores it ({stds['with batch norm'][-1]:.3g}); with Xavier it does not collapse (slide 138). "
        f"BN keeps a {n_layers}-layer sigmoid net's gradients flowing (139-140); γ and β are learned, and running "
        "statistics serve single test samples (141).",
        f"权值为 N(0, {COLLAPSE_STD}²) 时 tanh 信号消失 (第6层标准差 {stds['without'][-1]:.3g}), 批归一化恢复它 "
        f"({stds['with batch norm'][-1]:.3g}); 用 Xavier 时不消失 (第138页)。批归一化让 {n_layers}层 sigmoid 网络的梯度"
        "保持流动 (第139-140页); γ、β 是学到的, 累计统计量用于单张测试样本 (第141页)。")
    return LabResult("batchnorm", SLIDES, tr("Batch normalisation", "批归一化"), claim, tables, figs,
                     {"stds": stds, "eval_accuracy": acc_eval, "pair_batch_accuracy": acc_pairs,
                      "single_vs_batch": consistent, "worked": {k: (v.tolist() if isinstance(v, np.ndarray) else v)
                                                                for k, v in wb.items()},
                      "gradient_flow": flow, "gamma_beta_moved": [r[-1] for r in gb_rows]},
                     summary=summary,
                     formulas=[r"\mu_B=\frac{1}{m}\sum_{i=1}^{m}x_i\qquad\sigma_B^2=\frac{1}{m}\sum_{i=1}^{m}"
                               r"(x_i-\mu_B)^2",
                               r"\hat{x}_i=\frac{x_i-\mu_B}{\sqrt{\sigma_B^2+\epsilon}}\qquad "
                               r"y_i=\gamma\hat{x}_i+\beta"])
