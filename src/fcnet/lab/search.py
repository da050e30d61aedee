"""Slides 170-178: grid versus random search, log-scale sampling, coarse-to-fine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import nn
from fcnet.errors import DivergenceError
from fcnet.lab.common import accuracy, image_data, train
from fcnet.lab.report import LabResult, Table
from fcnet.search import LogUniform, Uniform, grid_points, narrow_space, random_points
from fcnet.viz.plots import save_figure

SLIDES = "170-178"


def _trial(ds: Any, cfg: dict[str, Any], epochs: int, seed: int) -> float:
    fcnet.manual_seed(seed)
    net = nn.FullyConnectedNet(ds.num_features, [64], 10, dropout=cfg["dropout"])
    try:
        train(net, ds.xs_train, ds.y_train, epochs=epochs, lr=cfg["lr"], opt="sgd", seed=seed, batch_size=64)
    except DivergenceError:
        return 0.0
    return accuracy(net, ds.xs_val, ds.y_val)


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """9 trials of grid and of random search over (lr, dropout) on digits, log vs linear, coarse-to-fine."""
    ds = image_data("digits", seed=seed)
    n = len(ds.xs_train) * 3 // 4
    ds.xs_val, ds.y_val = ds.xs_train[n:], ds.y_train[n:]
    ds.xs_train, ds.y_train = ds.xs_train[:n], ds.y_train[:n]
    space = {"lr": LogUniform(1e-4, 1.0), "dropout": Uniform(0.0, 0.6)}
    rng = np.random.default_rng(seed)
    epochs = 6 if full else 4
    grid = grid_points(space, 9)
    rand = random_points(space, 9, rng)
    g_scores = [_trial(ds, c, epochs, seed) for c in grid]
    r_scores = [_trial(ds, c, epochs, seed) for c in rand]
    # coarse-to-fine: the 3 best random trials define the fine ranges; fine trials train longer
    best3 = [rand[i] for i in np.argsort(r_scores)[::-1][:3]]
    fine_space = narrow_space(space, best3, factor=0.3)
    fine = random_points(fine_space, 9, rng)
    f_scores = [_trial(ds, c, epochs * 2, seed) for c in fine]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    for ax, pts, sc, title in [(axes[0], grid, g_scores, "grid: 3 distinct learning rates"),
                               (axes[1], rand, r_scores, "random: 9 distinct learning rates")]:
        lr = [p["lr"] for p in pts]
        s = ax.scatter(lr, [p["dropout"] for p in pts], c=sc, cmap="viridis", vmin=0, vmax=1, s=80)
        ax.set_xscale("log")
        ax.set_xlabel("learning rate (log scale)")
        ax.set_ylabel("dropout")
        ax.set_title(title)
        for v in sorted(set(lr)):
            ax.axvline(v, color="grey", lw=0.5, alpha=0.5)
    fig.colorbar(s, ax=axes[1], label="validation accuracy")
    draws = np.random.default_rng(seed)
    lin = draws.uniform(1e-4, 1.0, 10000)
    log = np.exp(draws.uniform(np.log(1e-4), np.log(1.0), 10000))
    bins = np.logspace(-4, 0, 17)
    axes[2].hist(lin, bins=bins, alpha=0.6, label="uniform in [1e-4, 1]")
    axes[2].hist(log, bins=bins, alpha=0.6, label="log-uniform in [1e-4, 1]")
    axes[2].set_xscale("log")
    axes[2].set_title("10,000 draws: only log sampling covers every decade")
    axes[2].legend(fontsize=8)
    f = save_figure(fig, out / "search.png")
    decades = np.floor(np.log10(lin)).astype(int)
    share_top = float((decades == -1).mean())
    rows = [["grid", len({p['lr'] for p in grid}), max(g_scores)], ["random", len({p['lr'] for p in rand}),
                                                                    max(r_scores)],
            ["coarse-to-fine (fine stage)", len({p['lr'] for p in fine}), max(f_scores)]]
    ranges = [[k, space[k].to_text(), fine_space[k].to_text()] for k in space]
    return LabResult("search", SLIDES, "Hyperparameter search",
                     "With the same budget of 9 trials, grid search tries only 3 learning rates while random "
                     "search tries 9; sampling the learning rate on a log scale covers every decade, uniform "
                     "sampling puts 90% of the trials in the top one; coarse-to-fine narrows the ranges "
                     "around the best coarse trials and trains longer.",
                     [Table("9 trials each", ["strategy", "distinct learning rates", "best validation accuracy"],
                            rows),
                      Table("coarse-to-fine ranges", ["parameter", "coarse", "fine"], ranges),
                      Table("uniform sampling of [1e-4, 1]", ["share of draws in [0.1, 1)"], [[share_top]])],
                     [f], {"grid_distinct_lr": len({p['lr'] for p in grid}),
                           "random_distinct_lr": len({p['lr'] for p in rand}),
                           "coarse_best": max(r_scores), "fine_best": max(f_scores),
                           "fine_space": {k: (getattr(v, "low", None), getattr(v, "high", None))
                                          for k, v in fine_space.items()},
                           "best_coarse": rand[int(np.argmax(r_scores))], "uniform_top_decade_share": share_top})
