"""Slides 40-44 and 81-88: activation functions and their derivatives."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet.lab.report import LabResult, Table
from fcnet.viz.plots import save_figure

SLIDES = "40-44, 81-88"
FUNCS = {
    "sigmoid": lambda t: t.sigmoid(),
    "tanh": lambda t: t.tanh(),
    "relu": lambda t: t.relu(),
    "leaky relu (0.1)": lambda t: t.leaky_relu(0.1),
}


def curves(lo: float = -12.0, hi: float = 12.0, n: int = 2401) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """(x, f(x), f'(x)) of each activation, the derivative by backprop through fcnet's gates."""
    out = {}
    for name, f in FUNCS.items():
        x = fcnet.tensor(np.linspace(lo, hi, n), requires_grad=True)
        y = f(x)
        y.sum().backward()
        out[name] = (x.numpy(), y.numpy(), x.grad.copy())
    return out


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Plot each activation with its derivative; tabulate the facts the lecture states."""
    cs = curves()
    fig, axes = plt.subplots(1, len(cs), figsize=(3.2 * len(cs), 3))
    rows = []
    for ax, (name, (x, y, d)) in zip(axes, cs.items(), strict=True):
        ax.plot(x, y, label="f(x)")
        ax.plot(x, d, "--", label="f'(x)")
        ax.set_xlim(-6, 6)
        ax.set_title(name)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        far = np.abs(x) > 10
        rows.append([name, float(d.max()), float(np.abs(d[far]).max()), float(d[x < -1].max())])
    fig.suptitle("activations and their derivatives (by backprop)")
    f = save_figure(fig, out / "activations.png")
    sig = cs["sigmoid"][2]
    return LabResult("activations", SLIDES, "Activation functions",
                     "σ' never exceeds 1/4 and is ≈ 0 for |x| > 10, so deep sigmoid nets pass back ever "
                     "smaller gradients; ReLU's derivative is 1 for x > 0; Leaky ReLU keeps a slope below 0.",
                     [Table("derivatives", ["activation", "max f'", "max |f'| for |x|>10", "max f' for x<-1"],
                            rows)],
                     [f], {"sigmoid_max_derivative": float(sig.max()),
                           "sigmoid_derivative_beyond_10": float(np.abs(sig[np.abs(cs["sigmoid"][0]) > 10]).max())})
