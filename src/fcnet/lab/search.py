"""Slides 170-178: grid versus random search, log-scale sampling, coarse-to-fine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from fcnet import nn, optim
from fcnet.errors import DivergenceError
from fcnet.lab.common import accuracy, image_data, slide_title, tr
from fcnet.lab.report import Code, LabResult, Table
from fcnet.search import LogUniform, grid_points, narrow_space, random_points
from fcnet.train.trainer import Trainer
from fcnet.viz.plots import save_figure

SLIDES = "170-178"
COARSE_EPOCHS, FINE_EPOCHS = 1, 5  # slide 175: coarse trials train one epoch; slide 176: fine ones 5-10


def _trial(ds: Any, cfg: dict[str, Any], epochs: int, seed: int) -> float:
    """Validation accuracy of RMSProp (slide 119's δ is the parameter slide 174 calls unimportant) on digits."""
    net = nn.FullyConnectedNet(ds.num_features, [64], 10, rng=np.random.default_rng(seed))
    opt = optim.RMSProp(net.parameters(), lr=cfg["lr"], eps=cfg["delta"])
    trainer = Trainer(net, opt, seed=seed, progress=False, log=lambda m: None)
    try:
        with np.errstate(over="ignore", invalid="ignore"):
            trainer.fit(ds.xs_train, ds.y_train, batch_size=64, epochs=epochs)
    except DivergenceError:
        return 0.0
    return accuracy(net, ds.xs_val, ds.y_val)


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """9 trials of grid and of random search over (lr, δ) on digits, log vs linear sampling, coarse-to-fine."""
    ds = image_data("digits", seed=seed)
    n = len(ds.xs_train) * 3 // 4
    ds.xs_val, ds.y_val = ds.xs_train[n:], ds.y_train[n:]
    ds.xs_train, ds.y_train = ds.xs_train[:n], ds.y_train[:n]
    space = {"lr": LogUniform(1e-5, 1.0), "delta": LogUniform(1e-7, 1e-5)}
    rng = np.random.default_rng(seed)
    coarse_epochs, fine_epochs = COARSE_EPOCHS, FINE_EPOCHS
    grid = grid_points(space, 9)
    rand = random_points(space, 9, rng)
    g_scores = [_trial(ds, c, coarse_epochs, seed) for c in grid]
    r_scores = [_trial(ds, c, coarse_epochs, seed) for c in rand]
    # coarse-to-fine: the 3 best random trials define the fine ranges; fine trials train longer
    best3 = [rand[i] for i in np.argsort(r_scores)[::-1][:3]]
    fine_space = narrow_space(space, best3, factor=0.3)
    fine = random_points(fine_space, 9, rng)
    f_scores = [_trial(ds, c, fine_epochs, seed) for c in fine]
    # the same comparison at equal epochs: fine trials at the coarse budget, the coarse best 3 at the fine budget
    f_scores_short = [_trial(ds, c, coarse_epochs, seed) for c in fine]
    c_scores_long = [_trial(ds, c, fine_epochs, seed) for c in best3]
    fig, axes = plt.subplots(1, 3, figsize=(14.5, 4.6))
    t_grid = tr("slide 173, grid: 3 distinct learning rates", "第173页网格搜索：尝试了三个不同的学习率")
    t_rand = tr("slide 174, random: 9 distinct learning rates", "第174页随机搜索：尝试了九个不同的学习率")
    for ax, pts, sc, title in [(axes[0], grid, g_scores, t_grid), (axes[1], rand, r_scores, t_rand)]:
        lr = [p["lr"] for p in pts]
        s = ax.scatter(lr, [p["delta"] for p in pts], c=sc, cmap="viridis", vmin=0, vmax=1, s=80)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(tr("learning rate (important), log scale", "学习率（重要参数），对数坐标"))
        ax.set_ylabel(tr("δ (unimportant), log scale", "δ（不重要参数），对数坐标"))
        ax.set_title(title)
        for v in sorted(set(lr)):
            ax.axvline(v, color="grey", lw=0.5, alpha=0.5)
    fig.colorbar(s, ax=axes[1], label=tr("validation accuracy after 1 epoch", "1个周期后的验证集准确率"))
    draws = np.random.default_rng(seed)
    lin = draws.uniform(1e-4, 1.0, 10000)
    log = np.exp(draws.uniform(np.log(1e-4), np.log(1.0), 10000))
    bins = np.logspace(-4, 0, 17)
    axes[2].hist(lin, bins=bins, alpha=0.6, label=tr("uniform in [1e-4, 1]", "[1e-4, 1] 上均匀采样"))
    axes[2].hist(log, bins=bins, alpha=0.6, label=tr("log-uniform in [1e-4, 1]", "对数空间均匀采样"))
    axes[2].set_xscale("log")
    axes[2].set_xlabel(tr("learning rate", "学习率"))
    axes[2].set_ylabel(tr("draws per bin", "每个区间的样本数"))
    axes[2].set_title(tr("slide 178: 10,000 draws; only log sampling covers every decade",
                         "第178页：10000次采样，只有对数采样覆盖每个数量级"))
    axes[2].legend(loc="upper left")
    fig.suptitle(slide_title("173-178", "random search tries more values of the important parameter; sample it "
                             "on a log scale", "随机搜索尝试更多重要参数的取值；学习率应在对数空间上采样"))
    f = save_figure(fig, out / "search.png")
    # slide 174's "important" vs "unimportant": on the grid, how much accuracy moves along each axis
    lr_effect = max(np.ptp([sc for p, sc in zip(grid, g_scores, strict=True) if p["delta"] == d])
                    for d in {p["delta"] for p in grid})
    delta_effect = max(np.ptp([sc for p, sc in zip(grid, g_scores, strict=True) if p["lr"] == v])
                       for v in {p["lr"] for p in grid})
    decades = np.floor(np.log10(lin)).astype(int)
    share_top = float((decades == -1).mean())
    rows = [[tr("grid", "网格搜索"), len({p["lr"] for p in grid}), coarse_epochs, max(g_scores)],
            [tr("random (coarse)", "随机搜索（粗搜索）"), len({p["lr"] for p in rand}), coarse_epochs, max(r_scores)],
            [tr("fine, in the narrowed ranges", "精搜索（缩小后的范围）"), len({p["lr"] for p in fine}), fine_epochs,
             max(f_scores)],
            [tr("fine, same 9 points at the coarse budget", "精搜索（同样9个点，粗搜索的周期）"),
             len({p["lr"] for p in fine}), coarse_epochs, max(f_scores_short)],
            [tr("coarse best 3, at the fine budget", "粗搜索最好的3个点（精搜索的周期）"),
             len({p["lr"] for p in best3}), fine_epochs, max(c_scores_long)]]
    g_best, r_best = max(g_scores), max(r_scores)
    f_short, c_long = max(f_scores_short), max(c_scores_long)

    n_val = len(ds.y_val)

    def images(a: float, b: float) -> str:
        k = round(abs(a - b) * n_val)
        return tr(f" ({k} of {n_val} validation images)", f"（{n_val} 张验证图像中差 {k} 张）")

    def compare(a: float, b: float) -> str:
        return tr("higher than" if a > b else "equal to" if a == b else "lower than",
                  "高于" if a > b else "等于" if a == b else "低于")
    ranges = [[tr(k, {"lr": "学习率", "delta": "δ"}.get(k, k)), Code(space[k].to_text()), Code(fine_space[k].to_text())]
              for k in space]
    claim = tr("Slides 173-174: with a budget of 9 trials, grid search tries only 3 learning rates while random "
               f"search tries 9; the second parameter, δ, barely matters. Here random search's best validation "
               f"accuracy ({r_best:.4f}) is {compare(r_best, g_best)} grid's ({g_best:.4f}): more values tried, "
               + ("and a better one found. " if r_best > g_best else "not a better result at this budget. ")
               + "Slides 175-176: coarse search samples randomly in a wide range, trains one epoch and narrows the "
               "ranges by validation accuracy; fine search samples in the narrowed range and trains 5-10 epochs. "
               f"At equal epochs the narrowing itself is measured: at {coarse_epochs} epoch the fine points reach "
               f"{f_short:.4f}, {compare(f_short, r_best)} the coarse {r_best:.4f}{images(f_short, r_best)}; "
               f"at {fine_epochs} epochs the fine "
               f"best {max(f_scores):.4f} is {compare(max(f_scores), c_long)} the coarse best 3 retrained "
               f"({c_long:.4f}){images(max(f_scores), c_long)}. Slide 178: sample the learning rate "
               "on a log scale: uniform sampling puts 90% of the draws in the top decade.",
               "第173-174页：预算9组实验，网格搜索只尝试了三个不同的学习率，随机搜索尝试了九个；δ 是不重要参数。"
               f"这里随机搜索的最好验证集准确率（{r_best:.4f}）{compare(r_best, g_best)}网格搜索（{g_best:.4f}）："
               + ("尝试的取值更多，也找到了更好的。" if r_best > g_best
                  else "尝试的取值更多，但在此预算下结果并未更好。")
               + "第175-176页：粗搜索利用随机法在较大范围里采样，训练一个周期，依据验证集正确率缩小范围；精搜索在缩小的"
               "范围内采样，运行五到十个周期。"
               f"在相同周期下比较缩小范围本身的作用：{coarse_epochs}个周期时精搜索的点达到 "
               f"{f_short:.4f}，{compare(f_short, r_best)}粗搜索的 {r_best:.4f}{images(f_short, r_best)}；"
               f"{fine_epochs}个周期时精搜索最好为 "
               f"{max(f_scores):.4f}，{compare(max(f_scores), c_long)}粗搜索最好的3个点重新训练的结果（{c_long:.4f}）"
               f"{images(max(f_scores), c_long)}。"
               "第178页：学习率应在对数空间上进行随机采样；均匀采样使90%的样本落在最大的一个数量级。")
    summary = tr(
        "With 9 trials grid search tries 3 learning rates, random search 9; δ barely matters (slides 173-174). "
        f"Random's best is {compare(r_best, g_best)} grid's ({r_best:.4f} vs {g_best:.4f}). Coarse-to-fine "
        f"(175-176) at equal epochs: fine {f_short:.4f} vs coarse {r_best:.4f}, both {coarse_epochs} epoch. "
        "Sample ε on a log scale: uniform puts 90% of draws in the top decade (178).",
        "预算9组实验, 网格搜索尝试3个学习率, 随机搜索9个; δ 不重要 (第173-174页)。随机搜索最好的结果"
        f"{compare(r_best, g_best)}网格搜索 ({r_best:.4f} 对 {g_best:.4f})。由粗到细 (第175-176页), 相同周期下: "
        f"{coarse_epochs}个周期时精搜索 {f_short:.4f} 对粗搜索 {r_best:.4f}。"
        "学习率应在对数空间采样: 均匀采样使90%落在最大的数量级 (第178页)。")
    return LabResult("search", SLIDES, tr("Hyperparameter search", "超参数优化"), claim,
                     [Table(tr("9 trials each", "各9组实验"),
                            [tr("strategy", "策略"), tr("distinct learning rates", "不同学习率个数"),
                             tr("epochs", "周期"), tr("best validation accuracy", "最好验证集准确率")], rows),
                      Table(tr("slide 174: accuracy range on the grid along each parameter",
                               "第174页：网格上沿各参数方向准确率的变化幅度"),
                            [tr("varying", "变化的参数"), tr("largest max − min of validation accuracy",
                                                           "验证集准确率最大变化")],
                            [[tr("learning rate (δ fixed)", "学习率（δ 固定）"), float(lr_effect)],
                             [tr("δ (learning rate fixed)", "δ（学习率固定）"), float(delta_effect)]]),
                      Table(tr("slides 175-176: coarse and fine ranges", "第175-176页：粗搜索与精搜索的范围"),
                            [tr("parameter", "参数"), tr("coarse", "粗搜索"), tr("fine", "精搜索")], ranges),
                      Table(tr("slide 178: uniform sampling of [1e-4, 1]", "第178页：[1e-4, 1] 上均匀采样"),
                            [tr("share of draws in [0.1, 1)", "落在 [0.1, 1) 的比例")], [[share_top]])],
                     [f], {"grid_distinct_lr": len({p["lr"] for p in grid}),
                           "random_distinct_lr": len({p["lr"] for p in rand}),
                           "coarse_best": max(r_scores), "fine_best": max(f_scores), "grid_best": g_best,
                           "fine_best_at_coarse_epochs": f_short, "coarse_best3_at_fine_epochs": c_long,
                           "fine_space": {k: (getattr(v, "low", None), getattr(v, "high", None))
                                          for k, v in fine_space.items()},
                           "best_coarse": rand[int(np.argmax(r_scores))], "uniform_top_decade_share": share_top,
                           "lr_effect": float(lr_effect), "delta_effect": float(delta_effect)},
                     summary=summary,
                     formulas=[r"\epsilon=10^{u},\ u\sim U(\log_{10}a,\log_{10}b)\quad\text{(178: log-scale sampling)}",
                               r"P_{\text{uniform on }[10^{-4},1]}\left(\epsilon\ge 0.1\right)=\frac{1-0.1}{1-10^{-4}}"
                               r"\approx 0.9"])
