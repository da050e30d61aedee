"""Adam (slides 110-116): momentum and RMSProp together, with bias correction."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

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

    state_names = ("v", "r")
    fused = (
        "T g, float64 lr, float64 mu, float64 rho, float64 eps, float64 c1, float64 c2, float64 wd, "
        "int32 inside, int32 decoupled",
        "T p, T v, T r",
        """
        T gg = g;
        if (wd != 0.0) { if (decoupled) { p = p * (T)(1.0 - lr * wd); } else { gg = g + (T)wd * p; } }
        v = (T)mu * v + (T)(1.0 - mu) * gg;
        r = (T)rho * r + (T)(1.0 - rho) * gg * gg;
        T denom = inside ? sqrt(r / (T)c2 + (T)eps) : sqrt(r) / (T)sqrt(c2) + (T)eps;
        p = p - (T)(lr / c1) * v / denom;
        """,
        "fcnet_adam",
    )

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

    def prepare(self) -> None:
        """Bias corrections 1 − μᵗ and 1 − ρᵗ for this step t."""
        mu, rho = self.param_groups[0]["betas"]
        self._c1 = 1.0 - mu**self.steps
        self._c2 = 1.0 - rho**self.steps

    def fused_scalars(self) -> tuple[float, ...]:
        """lr, μ, ρ, δ, 1 − μᵗ, 1 − ρᵗ, λ, δ inside the root, decoupled decay (the GPU kernel's)."""
        h = self.param_groups[0]
        return (h["lr"], *h["betas"], h["eps"], self._c1, self._c2, h["weight_decay"], int(h["eps_inside"]),
                int(h["decoupled_weight_decay"]))

    def compiled_kernel(self, kernels: Any, dtype: Any) -> Callable[..., None]:
        h, f = self.param_groups[0], np.dtype(dtype).type
        mu, rho = h["betas"]
        lr, eps, wd = h["lr"], h["eps"], h["weight_decay"]
        decoupled = bool(h["decoupled_weight_decay"] and wd)
        shrink = f(1.0 - lr * wd) if decoupled else f(1.0)
        coupled = f(0.0) if decoupled else f(wd)
        root = math.sqrt(self._c2)  # the same folded scalars as ``kernel`` below, so the same bits
        add = f(eps * self._c2) if h["eps_inside"] else f(eps * root)
        step, inside = f(lr * root / self._c1), bool(h["eps_inside"])
        fmu, frho = f(mu), f(rho)
        return lambda p, g, v, r: kernels.adam(p, g, v, r, fmu, frho, shrink, coupled, add, step, inside)

    def kernel(self, p: Any, g: Any, tmp: Any, v: Any, r: Any) -> None:
        h = self.param_groups[0]
        mu, rho = h["betas"]
        lr, eps = h["lr"], h["eps"]
        xp = xp_of(tmp)
        if h["decoupled_weight_decay"] and h["weight_decay"]:
            p *= 1.0 - lr * h["weight_decay"]
        v -= g  # v ← μ (v − g) + g = μ v + (1 − μ) g
        v *= mu
        v += g
        xp.multiply(g, g, out=tmp)  # r ← ρ (r − g²) + g²
        r -= tmp
        r *= rho
        r += tmp
        root = math.sqrt(self._c2)
        if h["eps_inside"]:  # ε ṽ / √(r / c2 + δ) = (ε √c2 / c1) v / √(r + δ c2)
            xp.add(r, eps * self._c2, out=tmp)
            xp.sqrt(tmp, out=tmp)
        else:  # ε ṽ / (√r / √c2 + δ) = (ε √c2 / c1) v / (√r + δ √c2)  (PyTorch's form)
            xp.sqrt(r, out=tmp)
            tmp += eps * root
        xp.divide(v, tmp, out=tmp)  # the scalars are folded so each form makes 5 passes, not 6
        tmp *= lr * root / self._c1
        p -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay in PyTorch's form: θ ← θ(1 − ελ), then Adam with δ outside the root.

    Equal to ``torch.optim.AdamW(lr=ε, betas=(μ, ρ), eps=δ, weight_decay=λ)`` (same defaults).
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 0.001, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.01) -> None:
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, eps_inside=False,
                         decoupled_weight_decay=True)
