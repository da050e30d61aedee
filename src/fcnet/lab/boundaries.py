"""Slides 18-21 and 45-47: linear models cannot separate xor; hidden width buys complex boundaries; depth helps
where the layers are narrow.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import data, nn
from fcnet.i18n import term
from fcnet.lab.common import accuracy, slide_title, tr, train
from fcnet.lab.report import LabResult, Table
from fcnet.viz.plots import save_figure
from fcnet.viz.style import class_cmap

SLIDES = "18-21, 45-47"
WIDTHS = [0, 3, 6, 20, 50]
EPOCHS = 200  # --full: 400
DEPTH_WIDTH, DEPTHS, DEPTH_SEEDS = 3, (1, 2, 3), (0, 1, 2)  # slides 45, 47: depth, at a width too narrow for spirals


def depth_sweep(problems: tuple[str, ...], seed: int, epochs: int) -> dict[str, dict[int, list[float]]]:
    """Slides 45 and 47's depth: training accuracy of DEPTHS hidden layers of DEPTH_WIDTH units, per seed."""
    out: dict[str, dict[int, list[float]]] = {}
    for name in problems:
        x, y = data.make_toy(name, 600, seed)
        x = ((x - x.mean(0)) / x.std(0)).astype(np.float32)
        out[name] = {}
        for depth in DEPTHS:
            accs = []
            for s in DEPTH_SEEDS:
                net = nn.FullyConnectedNet(2, [DEPTH_WIDTH] * depth, int(y.max()) + 1,
                                           rng=np.random.default_rng(seed + s))
                train(net, x, y, epochs=epochs, lr=0.02, batch_size=100, seed=seed + s)
                accs.append(accuracy(net, x, y))
            out[name][depth] = accs
        out[name] = dict(out[name])
    return out


def run(out: Path, seed: int = 0, full: bool = False, problems: tuple[str, ...] = ("xor", "circles", "spirals")
        ) -> LabResult:
    """Fit each problem with no hidden layer and with hidden widths 3, 6, 20, 50; plot boundaries."""
    rows, test_rows, numbers = [], [], {}
    fig, axes = plt.subplots(len(problems), len(WIDTHS), figsize=(2.7 * len(WIDTHS), 2.7 * len(problems) + 0.6))
    for i, name in enumerate(problems):
        x, y = data.make_toy(name, 600, seed)
        # slide 47: fresh points from the same problem stand for the "real scene" the training set is not
        xt, yt = data.make_toy(name, 600, seed + 1000)
        mu, sd = x.mean(0), x.std(0)
        x, xt = (x - mu) / sd, (xt - mu) / sd
        g0, g1 = np.meshgrid(np.linspace(-2.5, 2.5, 150), np.linspace(-2.5, 2.5, 150))
        grid = np.stack([g0.ravel(), g1.ravel()], 1).astype(np.float32)
        accs, tests = [], []
        for j, width in enumerate(WIDTHS):
            net = nn.FullyConnectedNet(2, [width] if width else [], int(y.max()) + 1,
                                       rng=np.random.default_rng(seed + j))
            train(net, x, y, epochs=400 if full else EPOCHS, lr=0.02, batch_size=100, seed=seed)
            acc = accuracy(net, x, y)
            accs.append(acc)
            tests.append(accuracy(net, xt.astype(np.float32), yt))
            net.eval()
            with fcnet.no_grad():
                z = net(fcnet.tensor(grid)).numpy().argmax(1).reshape(g0.shape)
            ax = axes[i, j]
            n_cls = int(y.max()) + 1
            ax.contourf(g0, g1, z, levels=np.arange(n_cls + 1) - 0.5, alpha=0.35, cmap=class_cmap(n_cls))
            ax.scatter(x[:, 0], x[:, 1], c=y, s=4, cmap=class_cmap(n_cls), vmin=-0.5, vmax=n_cls - 0.5)
            kind = tr("linear", "线性") if not width else tr(f"{width} hidden", f"{width}个神经元")
            ax.set_title(f"{term(name)}, {kind}: {acc:.0%}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == len(problems) - 1:
                ax.set_xlabel("x₁")
            if j == 0:
                ax.set_ylabel("x₂")
            numbers[f"{name}_{width}"] = acc
            numbers[f"{name}_{width}_test"] = tests[-1]
        rows.append([term(name), *accs])
        test_rows.append([term(name), *tests])
    fig.suptitle(slide_title("20-21, 46", "linear classifier vs one hidden layer of growing width "
                             "(training accuracy)", "线性分类器与不同宽度的单隐层网络的分界面（训练集准确率）"))
    f = save_figure(fig, out / "boundaries.png")
    headers = [tr("problem", "问题")] + [tr("linear", "线性分类器") if not w else tr(f"{w} hidden", f"{w}个神经元")
                                         for w in WIDTHS]
    # slide 46 measured: the smallest width within one point of each set's best, and the spread above it
    need = {r[0]: next(w for w, a in zip(WIDTHS[1:], r[2:], strict=True) if a >= max(r[2:]) - 0.01) for r in rows}
    above = {r[0]: [a for w, a in zip(WIDTHS[1:], r[2:], strict=True) if w >= need[r[0]]] for r in rows}
    lo, hi = min(min(v) for v in above.values()), max(max(v) for v in above.values())
    spread = max(max(v) - min(v) for v in above.values())
    numbers.update({"width_needed": need, "accuracy_beyond_needed": [lo, hi], "spread_beyond_needed": spread})
    needs = ", ".join(f"{k} {w}" for k, w in need.items())
    worst = max(above, key=lambda k: max(above[k]) - min(above[k]))
    worst_accs = ", ".join(f"{w}: {a:.1%}" for w, a in zip([w for w in WIDTHS[1:] if w >= need[worst]],
                                                              above[worst], strict=True))
    jump = max(rows, key=lambda r: r[2 + WIDTHS[1:].index(need[r[0]])] - r[2])
    j0, j1 = jump[2], jump[2 + WIDTHS[1:].index(need[jump[0]])]
    gap = max(a - t for r, tr_ in zip(rows, test_rows, strict=True) for a, t in zip(r[1:], tr_[1:], strict=True))
    numbers["largest_train_test_gap"] = gap
    deep = depth_sweep(problems, seed, 400 if full else EPOCHS)
    mean_d = {k: {d: float(np.mean(a)) for d, a in v.items()} for k, v in deep.items()}
    gain = {k: max(m[d] for d in DEPTHS[1:]) - m[DEPTHS[0]] for k, m in mean_d.items()}
    hardest = max(gain, key=gain.get)
    best_d = max(DEPTHS[1:], key=lambda d: mean_d[hardest][d])
    wide_min = min(numbers[f"{k}_{WIDTHS[-1]}"] for k in problems)
    numbers.update({"depth_one_layer_wide_min": wide_min, "depth_sweep": deep,
                    "depth_mean": mean_d, "depth_gain": gain, "depth_hardest": hardest})
    depth_table = Table(
        tr(f"slides 45, 47: depth: training accuracy with 1-{DEPTHS[-1]} hidden layers of {DEPTH_WIDTH} units, mean "
           f"(min-max) over seeds {DEPTH_SEEDS[0]}-{DEPTH_SEEDS[-1]}",
           f"第45、47页：深度：{DEPTHS[0]}-{DEPTHS[-1]}个隐层、每层{DEPTH_WIDTH}个神经元的训练集准确率，"
           f"种子 {DEPTH_SEEDS[0]}-{DEPTH_SEEDS[-1]} 的平均（最小-最大）"),
        [tr("problem", "问题")] + [tr(f"{d} hidden layer{'s' if d > 1 else ''}", f"{d}个隐层") for d in DEPTHS],
        [[term(k)] + [f"{np.mean(a):.3f} ({min(a):.3f}-{max(a):.3f})" for a in v.values()] for k, v in deep.items()])
    depth_claim = tr(
        f" Slides 45 and 47 (depth: 'the harder the task, the deeper'): with hidden layers of only {DEPTH_WIDTH} "
        f"units, depth helps most on {term(hardest)} ({mean_d[hardest][DEPTHS[0]]:.0%} with 1 layer → "
        f"{mean_d[hardest][best_d]:.0%} with {best_d}, mean of {len(DEPTH_SEEDS)} seeds), "
        + ", ".join(f"{term(k)} {gain[k]:+.0%}" for k in gain if k != hardest)
        + f"; the seeds spread widely, and with {WIDTHS[-1]} units one hidden layer already reaches "
        f"{wide_min:.1%} or more on every set, so depth has little left to add there (no unified answer, as "
        "slide 45 says).",
        f" 第45、47页（深度：“分类任务越难，网络结构就应该越深”）：每个隐层只有{DEPTH_WIDTH}个神经元时，"
        f"深度对 {term(hardest)} 帮助最大（1个隐层 {mean_d[hardest][DEPTHS[0]]:.0%} → "
        f"{best_d}个隐层 {mean_d[hardest][best_d]:.0%}，"
        f"{len(DEPTH_SEEDS)}个种子平均），"
        + "，".join(f"{term(k)} {gain[k]:+.0%}" for k in gain if k != hardest)
        + f"；各种子差别很大；每层 {WIDTHS[-1]} 个神经元时一个隐层在每个集合上已达到 {wide_min:.1%} 以上，"
        "深度几乎无可增加（第45页：没有统一的答案）。")
    claim = tr("Slides 18-21: a linear classifier f = Wx + b separates only linearly separable classes; xor, "
               "circles and spirals are not. Slide 46: the more neurons, the more complex the boundary and the "
               f"better the classification of this set; measured, it holds up to the width a set needs (within one "
               f"point of its best: {needs}; {jump[0]} {j0:.0%} with 3 neurons → {j1:.0%} with {need[jump[0]]}); "
               f"beyond it wider nets gain nothing on these sets: training accuracy stays between {lo:.1%} and "
               f"{hi:.1%}, within {spread:.1%} for each set ({worst}: {worst_accs}). Slide 47 "
               "warns that the net most accurate on the training "
               f"set is not necessarily the best in real use (overfitting); on these clean toy sets the gap between "
               f"training and new points stays at most {gap:.1%}, so the warning does not bite here: the overfit lab "
               "(slides 142-162) shows when it does.",
               "第18-21页：线性分类器 f = Wx + b 只能分开线性可分的样本；xor、圆环和螺旋线性不可分。"
               "第46页：神经元个数越多，分界面就可以越复杂，在这个集合上的分类能力就越强；"
               f"实测：这只在达到该集合所需的宽度之前成立（与最好结果相差不到一个百分点的最小宽度：{needs}；"
               f"{jump[0]} 3个神经元 {j0:.0%} → {need[jump[0]]}个神经元 {j1:.0%}）；"
               f"超过该宽度后更宽的网络在这些集合上不再有提高：训练集准确率保持在 {lo:.1%} 到 {hi:.1%} 之间，"
               f"每个集合内相差不超过 {spread:.1%}（{worst}：{worst_accs}）。"
               "第47页提醒：对训练集分类精度最高的模型，在真实场景下识别性能未必是最好的（过拟合）；"
               f"在这些无噪声的玩具数据上，训练集与新样本的准确率差距至多 {gap:.1%}，此处过拟合不明显，"
               "过拟合实验（第142-162页）展示它何时出现。") + depth_claim
    summary = tr(
        "A linear classifier fails on xor, circles and spirals (slides 18-21). More neurons help up to the width a "
        f"set needs ({needs}), then add nothing (46). Depth (45, 47) helps {term(hardest)} when layers are narrow "
        f"({DEPTH_WIDTH} units: {mean_d[hardest][DEPTHS[0]]:.0%} → {mean_d[hardest][best_d]:.0%}), not every set. "
        f"Training and new points differ by at most {gap:.1%} here.",
        "线性分类器分不开 xor、圆环和螺旋 (第18-21页)。神经元越多越好, 直到达到该集合所需的宽度 "
        f"({needs}), 之后不再提高 (第46页)。深度 (第45、47页) 在隐层很窄时帮助 {term(hardest)} "
        f"({DEPTH_WIDTH}个神经元: {mean_d[hardest][DEPTHS[0]]:.0%} → {mean_d[hardest][best_d]:.0%}), 并非每个集合。"
        f"此处训练集与新样本相差至多 {gap:.1%}。")
    return LabResult("boundaries", SLIDES, tr("Decision boundaries and hidden width", "分界面与网络宽度"), claim,
                     [Table(tr("slide 46: training accuracy", "第46页：训练集准确率"), headers, rows),
                      Table(tr("slide 47: accuracy on 600 new points of the same problem",
                               "第47页：同一问题600个新样本上的准确率"), headers, test_rows), depth_table],
                     [f], numbers, summary=summary, formulas=[r"f(x,W)=Wx+b", r"f=W_2\max(0,\,W_1x+b_1)+b_2"])
