"""Slides 91-123: SGD, momentum, RMSProp and Adam on an ill-conditioned valley, a saddle, and real data."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import nn, optim
from fcnet.lab.common import image_data, train
from fcnet.lab.report import LabResult, Table
from fcnet.viz.plots import save_figure

SLIDES = "91-123"
NAMES = ["sgd", "momentum", "rmsprop", "adam"]
LRS = [10.0 ** e for e in np.arange(-3, 0.01, 0.25)]  # a log grid: each optimizer gets its best


def valley(p: fcnet.Tensor) -> fcnet.Tensor:
    """f(x, y) = 0.5 (0.5 x² + 25 y²): curvature 0.5 along x, 25 along y (condition number 50)."""
    return 0.5 * (p[0] * p[0] * 0.5 + p[1] * p[1] * 25.0)


def saddle(p: fcnet.Tensor) -> fcnet.Tensor:
    """f(x, y) = x² − y² + y⁴/4: a saddle at the origin, minima at y = ±√2."""
    return p[0] * p[0] - p[1] * p[1] + p[1] ** 4 * 0.25


def trajectory(name: str, lr: float, f: Callable, start: tuple[float, float], steps: int) -> np.ndarray:
    """Points visited by optimizer ``name`` from ``start``."""
    p = fcnet.tensor(np.array(start, dtype=np.float64), requires_grad=True)
    opt = optim.OPTIMIZERS[name]([p], lr=lr)
    pts = [p.numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        f(p).backward()
        opt.step()
        pts.append(p.numpy().copy())
        if not np.all(np.isfinite(pts[-1])) or np.abs(pts[-1]).max() > 1e6:
            break
    return np.array(pts)


def steps_to(path: np.ndarray, f: Callable, tol: float) -> int | None:
    """First step whose f is below ``tol`` (None if never)."""
    vals = [f(fcnet.tensor(q)).item() if np.all(np.isfinite(q)) else np.inf for q in path]
    hit = [i for i, v in enumerate(vals) if v < tol]
    return hit[0] if hit else None


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Best-of-grid steps to the valley's minimum, saddle escapes, and loss curves on digits."""
    start, steps, tol = (-8.0, 1.0), 500, 1e-3
    best: dict[str, tuple[float, int | None, np.ndarray]] = {}
    for name in NAMES:
        for lr in LRS:
            path = trajectory(name, lr, valley, start, steps)
            n = steps_to(path, valley, tol)
            if n is not None and (best.get(name) is None or best[name][1] is None or n < best[name][1]):
                best[name] = (lr, n, path)
        best.setdefault(name, (LRS[0], None, trajectory(name, LRS[0], valley, start, steps)))
    fig, axes = plt.subplots(1, 3, figsize=(15, 4))
    g0, g1 = np.meshgrid(np.linspace(-9, 3, 200), np.linspace(-1.5, 1.5, 200))
    axes[0].contour(g0, g1, 0.5 * (0.5 * g0**2 + 25 * g1**2), levels=20, cmap="Greys")
    for name, (lr, n, path) in best.items():
        axes[0].plot(path[:, 0], path[:, 1], ".-", ms=2, label=f"{name} ε={lr:.3g}: {n} steps")
    axes[0].set_title(f"ill-conditioned valley, best ε each (f < {tol})")
    axes[0].legend(fontsize=7)
    escape = {}
    h0, h1 = np.meshgrid(np.linspace(-1.2, 1.2, 200), np.linspace(-2, 2, 200))
    axes[1].contour(h0, h1, h0**2 - h1**2 + h1**4 / 4, levels=30, cmap="Greys")
    for name in NAMES:
        lr = 0.01 if name in ("rmsprop", "adam") else 0.05
        path = trajectory(name, lr, saddle, (1.0, 1e-3), 200)
        hit = np.nonzero(np.abs(path[:, 1]) > 1.0)[0]
        escape[name] = int(hit[0]) if len(hit) else None
        axes[1].plot(path[:, 0], path[:, 1], ".-", ms=2, label=f"{name}: escapes in {escape[name]}")
    axes[1].set_title("saddle point x² − y² (+ y⁴/4), start (1, 0.001)")
    axes[1].legend(fontsize=7)
    ds = image_data("digits", seed=seed)
    curves = {}
    for name, lr in [("sgd", 0.05), ("momentum", 0.05), ("rmsprop", 1e-3), ("adam", 1e-3)]:
        fcnet.manual_seed(seed)
        net = nn.FullyConnectedNet(ds.num_features, [64], 10)
        curves[name] = [r["loss"] for r in train(net, ds.xs_train, ds.y_train, epochs=15, lr=lr, opt=name,
                                                 batch_size=64, seed=seed)]
        axes[2].semilogy(range(1, 16), curves[name], "o-", ms=3, label=f"{name} ε={lr}")
    axes[2].set_title("training loss on digits (64-64-10)")
    axes[2].set_xlabel("epoch")
    axes[2].legend(fontsize=7)
    f = save_figure(fig, out / "optimizers.png")
    return LabResult("optimizers", SLIDES, "Optimizers",
                     "On an ill-conditioned valley plain SGD must keep ε small for the steep direction and "
                     "crawls along the flat one; momentum averages the oscillation away, RMSProp and Adam "
                     "rescale each coordinate, so they reach the minimum in fewer steps; near a saddle the "
                     "adaptive methods escape sooner.",
                     [Table(f"valley: steps to f < {tol} with the best ε of a log grid",
                            ["optimizer", "best ε", "steps"],
                            [[k, v[0], v[1] if v[1] is not None else "never"] for k, v in best.items()]),
                      Table("saddle: steps until |y| > 1", ["optimizer", "steps"],
                            [[k, v if v is not None else "never"] for k, v in escape.items()]),
                      Table("digits: training loss after 15 epochs", ["optimizer", "loss"],
                            [[k, v[-1]] for k, v in curves.items()])],
                     [f], {"valley_steps": {k: v[1] for k, v in best.items()}, "saddle_escape": escape,
                           "final_losses": {k: v[-1] for k, v in curves.items()}})
