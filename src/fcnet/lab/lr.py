"""Slides 164-169: learning rates far too high, high, too low and right."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import nn
from fcnet.errors import DivergenceError
from fcnet.lab.common import image_data, train
from fcnet.lab.report import LabResult, Table
from fcnet.viz.plots import save_figure

SLIDES = "164-169"
RATES = {"far too high": 5.0, "high": 2.0, "too low": 1e-4, "right": 0.3}


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """SGD on digits with four learning rates; loss per epoch."""
    ds = image_data("digits", seed=seed)
    curves, rows = {}, []
    for name, lr in RATES.items():
        fcnet.manual_seed(seed)
        net = nn.FullyConnectedNet(ds.num_features, [64], 10)
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is one of the outcomes shown
                hist = train(net, ds.xs_train, ds.y_train, epochs=20, lr=lr, opt="sgd", seed=seed)
            losses = [h["loss"] for h in hist]
            diverged = False
        except DivergenceError:
            losses, diverged = [math.inf], True
        curves[name] = losses
        rows.append([name, lr, losses[0], losses[-1], "yes" if diverged else "no"])
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, ls in curves.items():
        if math.isfinite(ls[-1]):
            ax.semilogy(range(1, len(ls) + 1), ls, "o-", ms=3, label=f"{name} (ε={RATES[name]})")
        else:
            ax.plot([], [], label=f"{name} (ε={RATES[name]}): diverged")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title("SGD learning rates on digits")
    ax.legend()
    f = save_figure(fig, out / "lr.png")
    return LabResult("lr", SLIDES, "Choosing the learning rate",
                     "Far too high diverges (the loss becomes NaN); high jumps about at first (a worse first "
                     "epoch than the right rate); too low barely moves; the right one falls fast and keeps "
                     "falling.",
                     [Table("SGD, 20 epochs", ["learning rate", "ε", "first loss", "last loss", "diverged"], rows)],
                     [f], {"final": {k: v[-1] for k, v in curves.items()},
                           "first": {k: v[0] for k, v in curves.items()},
                           "diverged": {r[0]: r[4] == "yes" for r in rows}})
