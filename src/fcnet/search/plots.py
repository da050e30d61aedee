"""Search plots: validation accuracy against each hyperparameter (log axes where sampled in log)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt

from fcnet.search.space import Choice, Param
from fcnet.viz.plots import save_figure

__all__ = ["plot_results"]


def plot_results(rows: list[dict[str, Any]], space: dict[str, Param], out: Path) -> list[Path]:
    """One panel per hyperparameter, plus the coverage of the first two numeric ones."""
    done = [r for r in rows if r["state"] == "complete" and r["val_accuracy"] is not None]
    figs = []
    names = list(space)
    fig, axes = plt.subplots(1, len(names), figsize=(4.2 * len(names), 3.4), squeeze=False)
    for ax, k in zip(axes[0], names, strict=True):
        p = space[k]
        xs = [r[k] for r in done]
        ys = [r["val_accuracy"] for r in done]
        colors = [r["stage"] for r in done]
        if isinstance(p, Choice):
            cats = sorted({str(x) for x in xs})
            ax.scatter([cats.index(str(x)) for x in xs], ys, c=colors, cmap="coolwarm", vmin=0, vmax=1)
            ax.set_xticks(range(len(cats)), cats)
        else:
            ax.scatter(xs, ys, c=colors, cmap="coolwarm", vmin=0, vmax=1)
            if p.log:
                ax.set_xscale("log")
        ax.set_xlabel(k + (" (log scale)" if p.log else ""))
        ax.set_ylabel("validation accuracy")
        ax.grid(alpha=0.3)
    fig.suptitle(f"{len(done)} completed trials (blue: coarse / only stage, red: fine stage)")
    figs.append(save_figure(fig, out / "score_vs_params.png"))
    numeric = [k for k in names if not isinstance(space[k], Choice)]
    if len(numeric) >= 2:
        a, b = numeric[:2]
        fig, ax = plt.subplots(figsize=(5, 4))
        sc = ax.scatter([r[a] for r in done], [r[b] for r in done], c=[r["val_accuracy"] for r in done],
                        cmap="viridis", s=60)
        fig.colorbar(sc, label="validation accuracy")
        if space[a].log:
            ax.set_xscale("log")
        if space[b].log:
            ax.set_yscale("log")
        ax.set_xlabel(a)
        ax.set_ylabel(b)
        ax.set_title("coverage of the search space")
        figs.append(save_figure(fig, out / "coverage.png"))
    return figs
