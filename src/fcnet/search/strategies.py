"""Search strategies (slides 170-176): grid, random, and the narrowing of coarse-to-fine."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from fcnet.search.space import Choice, Param

__all__ = ["edge_warnings", "grid_points", "narrow_space", "random_points"]


def grid_points(space: dict[str, Param], n_trials: int) -> list[dict[str, Any]]:
    """A grid of about ``n_trials`` points: k levels per continuous dimension with k^d ≤ n_trials.

    With 9 trials and two continuous parameters, each gets 3 levels (slide 172).
    """
    cont = [k for k, p in space.items() if not isinstance(p, Choice) and len(p.grid(2)) > 1]
    fixed = math.prod(len(p.grid(0)) for k, p in space.items() if k not in cont) or 1
    per = max(1, math.floor((n_trials / fixed) ** (1 / max(len(cont), 1)) + 1e-9))
    axes = {k: (p.grid(per) if k in cont else p.grid(0)) for k, p in space.items()}
    names = list(axes)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*axes.values())][:n_trials]


def random_points(space: dict[str, Param], n_trials: int, rng: np.random.Generator) -> list[dict[str, Any]]:
    """``n_trials`` independent samples (slide 173: every trial tries a new value of every parameter)."""
    return [{k: p.sample(rng) for k, p in space.items()} for _ in range(n_trials)]


def narrow_space(space: dict[str, Param], best: list[dict[str, Any]], factor: float = 0.25) -> dict[str, Param]:
    """The fine stage's space: each range narrowed around the best coarse trials (slides 175-176)."""
    return {k: p.narrow([b[k] for b in best if k in b], factor) for k, p in space.items()}


def edge_warnings(space: dict[str, Param], best: dict[str, Any], margin: float = 0.1) -> list[str]:
    """Warn when the best value lies at the edge of its range: the optimum may lie outside."""
    msgs = []
    for k, p in space.items():
        if isinstance(p, Choice) or k not in best:
            continue
        v = best[k]
        if p.log:
            pos = (math.log(v) - math.log(p.low)) / (math.log(p.high) - math.log(p.low))
        else:
            pos = (v - p.low) / (p.high - p.low) if p.high > p.low else 0.5
        if pos < margin or pos > 1 - margin:
            side = "lower" if pos < margin else "upper"
            msgs.append(f"the best {k} = {v:.4g} lies at the {side} edge of its range "
                        f"[{p.low:g}, {p.high:g}]: widen the range and search again")
    return msgs
