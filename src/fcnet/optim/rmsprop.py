"""RMSProp (slides 104-108)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from fcnet.backend import xp_of
from fcnet.optim.optimizer import Optimizer
from fcnet.tensor import Tensor


class RMSProp(Optimizer):
    """r ← ρ r + (1 − ρ) g²; θ ← θ − ε g / (√r + δ).

    Each coordinate's step is divided by the root of its running mean square gradient, so
    steep (oscillating) directions slow down and flat ones speed up (slide 106).  Equal to
    ``torch.optim.RMSprop(lr=ε, alpha=ρ, eps=δ)``.

    Args:
        lr: ε.  rho: ρ (decay, slide default 0.999).  eps: δ (default 1e-5).
    """

    state_names = ("r",)

    def __init__(self, params: Iterable[Tensor], lr: float = 0.001, rho: float = 0.999,
                 eps: float = 1e-5, weight_decay: float = 0.0) -> None:
        if not 0.0 <= rho < 1.0:
            raise ValueError(f"Invalid rho value: {rho} (must be in [0, 1))")
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, {"lr": lr, "rho": rho, "eps": eps, "weight_decay": weight_decay})

    def compiled_kernel(self, kernels: Any, dtype: Any) -> Callable[..., None]:
        h, f = self.param_groups[0], np.dtype(dtype).type
        lr, rho, eps, wd = f(h["lr"]), f(h["rho"]), f(h["eps"]), f(h["weight_decay"])
        return lambda p, g, r: kernels.rmsprop(p, g, r, lr, rho, eps, wd)

    def kernel(self, p: Any, g: Any, tmp: Any, r: Any) -> None:
        h = self.param_groups[0]
        xp = xp_of(tmp)
        xp.multiply(g, g, out=tmp)  # r ← ρ (r − g²) + g² = ρ r + (1 − ρ) g²
        r -= tmp
        r *= h["rho"]
        r += tmp
        xp.sqrt(r, out=tmp)  # θ ← θ − ε g / (√r + δ)
        tmp += h["eps"]
        xp.divide(g, tmp, out=tmp)
        tmp *= h["lr"]
        p -= tmp
