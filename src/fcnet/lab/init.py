"""Slides 124-136: how weight initialisation shapes the activations of a deep net."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import fcnet
from fcnet import nn

__all__ = ["CASES", "LayerStats", "activation_stats"]

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
