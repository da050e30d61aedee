"""Slides 18-21 and 45-47: linear models cannot separate xor; hidden width buys complex boundaries."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import data, nn
from fcnet.lab.common import accuracy, train
from fcnet.lab.report import LabResult, Table
from fcnet.viz.plots import save_figure

SLIDES = "18-21, 45-47"
WIDTHS = [0, 3, 6, 20, 50]


def run(out: Path, seed: int = 0, full: bool = False, problems: tuple[str, ...] = ("xor", "circles", "spirals")
        ) -> LabResult:
    """Fit each problem with no hidden layer and with hidden widths 3, 6, 20, 50; plot boundaries."""
    rows, numbers = [], {}
    fig, axes = plt.subplots(len(problems), len(WIDTHS), figsize=(2.6 * len(WIDTHS), 2.6 * len(problems)))
    for i, name in enumerate(problems):
        x, y = data.make_toy(name, 600, seed)
        x = (x - x.mean(0)) / x.std(0)
        g0, g1 = np.meshgrid(np.linspace(-2.5, 2.5, 150), np.linspace(-2.5, 2.5, 150))
        grid = np.stack([g0.ravel(), g1.ravel()], 1).astype(np.float32)
        accs = []
        for j, width in enumerate(WIDTHS):
            fcnet.manual_seed(seed + j)
            net = nn.FullyConnectedNet(2, [width] if width else [], int(y.max()) + 1)
            train(net, x, y, epochs=400 if full else 200, lr=0.02, batch_size=100, seed=seed)
            acc = accuracy(net, x, y)
            accs.append(acc)
            net.eval()
            with fcnet.no_grad():
                z = net(fcnet.tensor(grid)).numpy().argmax(1).reshape(g0.shape)
            ax = axes[i, j]
            ax.contourf(g0, g1, z, alpha=0.35, cmap="brg")
            ax.scatter(x[:, 0], x[:, 1], c=y, s=4, cmap="brg")
            ax.set_title(f"{name}, {'linear' if not width else f'{width} hidden'}: {acc:.0%}", fontsize=9)
            ax.set_xticks([])
            ax.set_yticks([])
            numbers[f"{name}_{width}"] = acc
        rows.append([name, *accs])
    fig.suptitle("decision boundaries: linear model vs growing hidden width (train accuracy)")
    f = save_figure(fig, out / "boundaries.png")
    headers = ["problem"] + ["linear" if not w else f"{w} hidden" for w in WIDTHS]
    return LabResult("boundaries", SLIDES, "Decision boundaries and hidden width",
                     "A linear classifier draws one straight boundary per class and fails on xor, circles "
                     "and spirals; a hidden layer bends the boundary, more so as it widens.",
                     [Table("training accuracy", headers, rows)], [f], numbers)
