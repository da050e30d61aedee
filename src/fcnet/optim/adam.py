"""Adam (slides 110-116): momentum and RMSProp together, with bias correction."""

from __future__ import annotations

import math
from collections.abc import Iterable

from fcnet.backend import xp_of
from fcnet.optim.optimizer import Optimizer
from fcnet.tensor import Tensor


class Adam(Optimizer):
    """v ← μ v + (1 − μ) g; r ← ρ r + (1 − ρ) g²; ṽ = v / (1 − μᵗ), r̃ = r / (1 − ρᵗ);
    θ ← θ − ε ṽ / √(r̃ + δ)  (δ inside the root, as on slide 112).

    Bias correction makes the first steps as large as later ones although v₀ = r₀ = 0.
    ``eps_inside=False`` uses θ ← θ − ε ṽ / (√r̃ + δ), equal to ``torch.optim.Adam(lr=ε,
    betas=(μ, ρ), eps=δ)``; ``decoupled_weight_decay=True`` shrinks θ ← θ(1 − ελ) before the
    update instead of adding λθ to g (``torch.optim.AdamW``).

    Args:
        lr: ε.  betas: (μ, ρ), default (0.9, 0.999).  eps: δ (default 1e-5).
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 0.001,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-5,
                 weight_decay: float = 0.0, eps_inside: bool = True,
                 decoupled_weight_decay: bool = False) -> None:
        mu, rho = betas
        if not 0.0 <= mu < 1.0 or not 0.0 <= rho < 1.0:
            raise ValueError(f"Invalid beta parameters: {betas} (each must be in [0, 1))")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, {"lr": lr, "betas": (float(mu), float(rho)), "eps": eps,
                                  "weight_decay": weight_decay, "eps_inside": eps_inside,
                                  "decoupled_weight_decay": decoupled_weight_decay})

    def step(self) -> None:
        """One Adam update of every parameter with a gradient (t counts steps from 1)."""
        h = self.param_groups[0]
        mu, rho = h["betas"]
        t = self.steps + 1
        self._c1 = 1.0 - mu**t
        self._c2 = 1.0 - rho**t
        super().step()

    def _update(self, i: int, p: Tensor) -> None:
        h = self.param_groups[0]
        mu, rho = h["betas"]
        lr, eps = h["lr"], h["eps"]
        if h["decoupled_weight_decay"] and h["weight_decay"]:
            p.data *= 1.0 - lr * h["weight_decay"]
        g = self._grad(i)
        v, r = self._buffer(i, "v"), self._buffer(i, "r")
        tmp = self._tmp(i)
        xp = xp_of(tmp)
        v *= mu  # v ← μ v + (1 − μ) g
        xp.multiply(g, 1.0 - mu, out=tmp)
        v += tmp
        xp.multiply(g, g, out=tmp)  # r ← ρ r + (1 − ρ) g²
        tmp *= 1.0 - rho
        r *= rho
        r += tmp
        if h["eps_inside"]:  # √(r / c2 + δ)
            xp.multiply(r, 1.0 / self._c2, out=tmp)
            tmp += eps
            xp.sqrt(tmp, out=tmp)
        else:  # √r / √c2 + δ (PyTorch)
            xp.sqrt(r, out=tmp)
            tmp *= 1.0 / math.sqrt(self._c2)
            tmp += eps
        xp.divide(v, tmp, out=tmp)
        tmp *= lr / self._c1
        p.data -= tmp
