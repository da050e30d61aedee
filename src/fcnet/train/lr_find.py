"""The learning-rate range test: train with an exponentially growing ε and watch the loss (slides 164-169).

ε_i = ε_start (ε_end / ε_start)^(i / (n − 1)); the loss (smoothed by an exponential moving
average) first barely moves (ε too small), then falls fastest, then blows up (ε too
large).  The suggestion is the ε where the smoothed loss falls fastest per decade.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import fcnet
from fcnet.data.loader import batches
from fcnet.errors import ConfigError
from fcnet.nn.module import Module
from fcnet.optim.optimizer import Optimizer

__all__ = ["LRFinderResult", "lr_find"]


@dataclass
class LRFinderResult:
    """Learning rates tried, smoothed losses, and the suggested starting ε."""

    lrs: list[float]
    losses: list[float]
    suggestion: float
    min_loss_lr: float


def lr_find(model: Module, optimizer: Optimizer, loss_fn: Module, x: np.ndarray, y: np.ndarray,
            batch_size: int = 64, start: float = 1e-6, end: float = 10.0, steps: int = 100,
            beta: float = 0.9, seed: int = 0) -> LRFinderResult:
    """Run the range test for ``steps`` mini-batches (cycling through the data)."""
    if not 0 < start < end:
        raise ConfigError(f"--start and --end need 0 < start < end < end, got {start}, {end}")
    if steps < 10:
        raise ConfigError(f"--steps must be at least 10, got {steps}")
    rng = np.random.default_rng(seed)
    from fcnet.nn.layers import BatchNorm1d

    # batch norm cannot normalise a batch of one sample: leave such a last batch out (drop_last)
    drop_last = (len(y) > batch_size and len(y) % batch_size == 1
                 and any(isinstance(m, BatchNorm1d) for m in model.modules()))
    lrs, losses = [], []
    avg, best = 0.0, math.inf
    it = iter(())
    model.train()
    for i in range(steps):
        lr = start * (end / start) ** (i / (steps - 1))
        optimizer.lr = lr
        try:
            xb, yb = next(it)
        except StopIteration:
            it = iter(batches(x, y, batch_size, rng, drop_last))
            xb, yb = next(it)
        optimizer.zero_grad()
        loss = loss_fn(model(fcnet.Tensor(xb.copy(), _raw=True)), yb)
        value = float(loss.data)
        if not math.isfinite(value):
            break
        loss.backward()
        optimizer.step()
        avg = beta * avg + (1 - beta) * value
        smoothed = avg / (1 - beta ** (i + 1))
        lrs.append(lr)
        losses.append(smoothed)
        best = min(best, smoothed)
        if smoothed > 4 * best and i > 5:
            break
    if len(losses) < 3:
        raise ConfigError("the loss diverged at once: lower --start")
    k = int(np.argmin(losses))
    slope = np.gradient(np.array(losses[: k + 1]), np.log10(lrs[: k + 1])) if k >= 2 else np.array([0.0])
    steep = int(np.argmin(slope)) if k >= 2 else 0
    return LRFinderResult(lrs, losses, float(lrs[steep]), float(lrs[k]))
