"""2-D toy data sets for decision boundaries (slides 18-21, 45-47)."""

from __future__ import annotations

import numbers

import numpy as np

__all__ = ["TOYS", "make_toy"]


def _xor(n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1, 1, (n, 2))
    y = ((x[:, 0] > 0) ^ (x[:, 1] > 0)).astype(np.int64)
    return x, y


def _spirals(n: int, rng: np.random.Generator, arms: int = 3) -> tuple[np.ndarray, np.ndarray]:
    xs, ys = [], []
    for k in range(arms):
        per = n // arms + (k < n % arms)  # the remainder goes to the first arms: n points in all
        r = np.linspace(0.05, 1.0, per)
        t = np.linspace(k * 2 * np.pi / arms, k * 2 * np.pi / arms + 4.0, per) + rng.normal(0, 0.15, per)
        xs.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        ys.append(np.full(per, k))
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)


def make_toy(name: str, n: int = 1000, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Exactly ``n`` points (n, 2) and their labels of the named toy problem, from a seed."""
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be an integer ≥ 1 (the number of points), got {n!r}")
    from sklearn.datasets import make_blobs, make_circles, make_moons  # only when a toy is made

    rng = np.random.default_rng(seed)
    rs = int(rng.integers(2**31 - 1))
    if name == "blobs":
        x, y = make_blobs(n, centers=3, cluster_std=1.2, random_state=rs)
    elif name == "xor":
        x, y = _xor(n, rng)
    elif name == "circles":
        x, y = make_circles(n, noise=0.08, factor=0.5, random_state=rs)
    elif name == "moons":
        x, y = make_moons(n, noise=0.15, random_state=rs)
    elif name == "spirals":
        x, y = _spirals(n, rng)
    else:
        raise ValueError(f"unknown toy data set {name!r}: choose one of {', '.join(TOYS)}")
    return x.astype(np.float32), np.asarray(y, dtype=np.int64)


TOYS = ("blobs", "xor", "circles", "spirals", "moons")
