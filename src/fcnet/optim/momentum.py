"""SGD with momentum (slides 96-101)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from fcnet.backend import xp_of
from fcnet.optim.optimizer import Optimizer
from fcnet.tensor import Tensor

FORMS = ("lecture", "pytorch")


class Momentum(Optimizer):
    """The lecture's momentum: v ← μ v + (1 − μ) g; θ ← θ − ε v (v₀ = 0).

    v is an exponential moving average of gradients: oscillating components cancel, the
    consistent direction accumulates (slide 99).  ``form="pytorch"`` uses v ← μ v + g
    instead, equal to ``torch.optim.SGD(lr=ε, momentum=μ)``; the lecture's form equals
    ``torch.optim.SGD(lr=ε(1 − μ), momentum=μ)``.  ``nesterov=True`` (PyTorch's form only) takes
    Nesterov's look-ahead step θ ← θ − ε (g + μ v) after v ← μ v + g, equal to
    ``torch.optim.SGD(lr=ε, momentum=μ, nesterov=True)`` and, at a constant ε, to scikit-learn's
    ``nesterovs_momentum=True``.

    Args:
        lr: ε.  momentum: μ in [0, 1).  weight_decay: λ (adds λθ to g).  form: "lecture" or "pytorch".
        nesterov: Nesterov's look-ahead (needs ``form="pytorch"``).
    """

    state_names = ("v",)

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, momentum: float = 0.9,
                 weight_decay: float = 0.0, form: str = "lecture", nesterov: bool = False) -> None:
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"Invalid momentum value: {momentum} (must be in [0, 1))")
        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {form!r}")
        if nesterov and form != "pytorch":
            raise ValueError("nesterov=True needs form='pytorch' (v ← μ v + g, as torch.optim.SGD(nesterov=True) "
                             "needs dampening=0); set form='pytorch' or nesterov=False")
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay,
                                  "form": form, "nesterov": bool(nesterov)})

    def compiled_kernel(self, kernels: Any, dtype: Any) -> Callable[..., None]:
        h, f = self.param_groups[0], np.dtype(dtype).type
        lr, mu, wd, lecture = f(h["lr"]), f(h["momentum"]), f(h["weight_decay"]), h["form"] == "lecture"
        if h.get("nesterov", False):
            return lambda p, g, v: kernels.momentum_nesterov(p, g, v, lr, mu, wd)
        return lambda p, g, v: kernels.momentum(p, g, v, lr, mu, wd, lecture)

    def kernel(self, p: Any, g: Any, tmp: Any, v: Any) -> None:
        h = self.param_groups[0]
        mu = h["momentum"]
        if h["form"] == "lecture":  # v ← μ (v − g) + g = μ v + (1 − μ) g, without a temporary
            v -= g
            v *= mu
            v += g
        else:
            v *= mu
            v += g
        if h.get("nesterov", False):  # θ ← θ − ε (g + μ v), v already updated
            xp_of(tmp).multiply(v, mu, out=tmp)
            tmp += g
            tmp *= h["lr"]
        else:
            xp_of(tmp).multiply(v, h["lr"], out=tmp)
        p -= tmp
