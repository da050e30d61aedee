"""AdaGrad (slide 110's adaptive gradient method): every squared gradient is accumulated."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fcnet.backend import xp_of
from fcnet.optim.optimizer import Optimizer
from fcnet.tensor import Tensor


class Adagrad(Optimizer):
    """r ← r + g²; θ ← θ − ε g / √(r + δ)  (δ inside the root, as fcnet writes Adam's).

    Slide 110 names the adaptive gradient methods (smaller steps where the squared gradient is
    large, the oscillating direction; larger where it is small) and slides 112-114 give RMSProp,
    which replaces AdaGrad's sum by a running mean r ← ρ r + (1 − ρ) g².  The lecture prints no
    AdaGrad pseudocode; this is the standard rule (Duchi et al., 2011).  Because r only grows,
    the effective step ε / √r shrinks over training.  ``eps_inside=False`` uses
    θ ← θ − ε g / (√r + δ), equal to ``torch.optim.Adagrad(lr=ε, eps=δ)``.

    Args:
        lr: ε.  eps: δ (default 1e-5).  eps_inside: δ inside (default) or outside the root.
    """

    state_names = ("r",)

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, eps: float = 1e-5,
                 weight_decay: float = 0.0, eps_inside: bool = True) -> None:
        if not eps >= 0.0:
            raise ValueError(f"Invalid epsilon value: {eps}")
        super().__init__(params, {"lr": lr, "eps": eps, "weight_decay": weight_decay,
                                  "eps_inside": bool(eps_inside)})

    def kernel(self, p: Any, g: Any, tmp: Any, r: Any) -> None:
        h = self.param_groups[0]
        xp = xp_of(tmp)
        xp.multiply(g, g, out=tmp)  # r ← r + g²
        r += tmp
        if h["eps_inside"]:  # θ ← θ − ε g / √(r + δ)
            xp.add(r, h["eps"], out=tmp)
            xp.sqrt(tmp, out=tmp)
        else:  # θ ← θ − ε g / (√r + δ)
            xp.sqrt(r, out=tmp)
            tmp += h["eps"]
        xp.divide(g, tmp, out=tmp)
        tmp *= h["lr"]
        p -= tmp
