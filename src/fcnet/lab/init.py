"""Slides 124-136: how weight initialisation shapes the activations of a deep net."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

import fcnet
from fcnet import nn
from fcnet.lab.report import LabResult, Table

__all__ = ["CASES", "SLIDE_128", "LayerStats", "activation_stats", "run", "zero_init_symmetry"]

SLIDES = "124-136"
# slide 128: per-layer std with N(0, 0.01²) weights, tanh, 10 layers of 500 units
SLIDE_128 = [0.214021, 0.047655, 0.010683, 0.002390, 0.000532, 0.000119, 0.000027, 0.000006, 0.000001, 0.0]

# (label, init, std, activation): the lecture's cases, in slide order
CASES = [
    ("N(0, 0.01²), tanh (slide 128)", "normal", 0.01, "tanh"),
    ("N(0, 1), tanh (slide 129-130)", "normal", 1.0, "tanh"),
    ("Xavier N(0, 1/N), tanh (slide 133)", "xavier", None, "tanh"),
    ("Xavier N(0, 1/N), ReLU (slide 134)", "xavier", None, "relu"),
    ("He N(0, 2/N), ReLU (slide 135)", "he", None, "relu"),
]


@dataclass
class LayerStats:
    """Per-layer mean and standard deviation of the hidden activations, and the activations."""

    means: list[float]
    stds: list[float]
    activations: list[np.ndarray]


def activation_stats(init: str, activation: str, std: float | None = None, layers: int = 10,
                     width: int = 500, samples: int = 1000, seed: int = 0,
                     keep: bool = False) -> LayerStats:
    """Push N(0, 1) inputs (samples × width) through ``layers`` hidden layers; measure each.

    The lecture's network: 10 hidden layers of 500 units, tanh or ReLU, no biases' effect
    (they start at 0).  Returns per-layer mean and std of the activations.
    """
    rng = np.random.default_rng(seed)
    x = fcnet.tensor(rng.standard_normal((samples, width)).astype(np.float32))
    act = nn.ACTIVATIONS[activation]()
    means, stds, kept = [], [], []
    with fcnet.no_grad():
        h = x
        for _ in range(layers):
            layer = nn.Linear(width, width, init=init, std=std, rng=rng)
            h = act(layer(h))
            a = h.numpy()
            means.append(float(a.mean()))
            stds.append(float(a.std()))
            if keep:
                kept.append(a.ravel().copy())
    return LayerStats(means, stds, kept)


def zero_init_symmetry(seed: int = 0, steps: int = 30) -> dict[str, int]:
    """Distinct hidden units (rows of W1) after training from zero / constant vs random init (slide 126)."""
    from fcnet import optim
    from fcnet.lab.common import image_data

    ds = image_data("digits", seed=seed)
    x, y = fcnet.tensor(ds.xs_train[:500]), ds.y_train[:500]
    out = {}
    for label, init in [("constant (zero-like)", "zeros"), ("random (He)", "he")]:
        net = nn.FullyConnectedNet(ds.num_features, [32], 10, activation="tanh", init=init, rng=seed)
        if init == "zeros":  # all-zero W2 gives W1 no gradient at all; equal rows show the symmetry
            net[0].weight.data[...] = 0.05
            net[2].weight.data[...] = 0.05
        opt = optim.SGD(net.parameters(), lr=0.5)
        for _ in range(steps):
            opt.zero_grad()
            nn.CrossEntropyLoss()(net(x), y).backward()
            opt.step()
        w1 = net[0].weight.numpy()
        out[label] = len(np.unique(np.round(w1, 6), axis=0))
    return out


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """The per-layer mean/std tables of slides 128-135 with histograms, and zero-init symmetry."""
    import matplotlib.pyplot as plt

    from fcnet.viz.plots import save_figure

    samples = 1000 if full else 500
    tables, numbers = [], {}
    fig, axes = plt.subplots(len(CASES), 10, figsize=(20, 2.0 * len(CASES)))
    for i, (label, init, std, act) in enumerate(CASES):
        st = activation_stats(init, act, std=std, samples=samples, seed=seed, keep=True)
        numbers[label] = st.stds
        tables.append(Table(label, ["layer", "mean", "std"] + (["slide 128 std"] if i == 0 else []),
                            [[k + 1, m, s] + ([SLIDE_128[k]] if i == 0 else [])
                             for k, (m, s) in enumerate(zip(st.means, st.stds, strict=True))]))
        for k, a in enumerate(st.activations):
            ax = axes[i, k]
            lim = 1.0 if act == "tanh" else max(float(np.percentile(a, 99.5)), 1e-6)
            ax.hist(a, bins=40, range=(-lim, lim) if act == "tanh" else (0, lim), color="C0")
            ax.set_yticks([])
            ax.tick_params(labelsize=6)
            if k == 0:
                ax.set_ylabel(label.split(" (")[0], fontsize=7)
            if i == 0:
                ax.set_title(f"layer {k + 1}", fontsize=8)
    fig.suptitle("activations per layer: 10 hidden layers of 500 units, N(0, 1) input")
    f = save_figure(fig, out / "init_histograms.png", dpi=80)
    sym = zero_init_symmetry(seed)
    tables.append(Table("distinct hidden units after 30 SGD steps (32 units)", ["init", "distinct units"],
                        [[k, v] for k, v in sym.items()]))
    numbers["symmetry"] = sym
    return LabResult("init", SLIDES, "Weight initialisation",
                     "N(0, 0.01²) weights shrink activations layer by layer until nothing reaches the output; "
                     "N(0, 1) saturates tanh at ±1; Xavier N(0, 1/N) keeps tanh alive; with ReLU Xavier decays "
                     "and He N(0, 2/N) holds. Equal initial weights stay equal: the units never differ.",
                     tables, [f], numbers)
