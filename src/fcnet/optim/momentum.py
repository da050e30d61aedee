"""SGD with momentum (slides 96-101)."""

from __future__ import annotations

from collections.abc import Iterable

from fcnet.backend import xp_of
from fcnet.optim.optimizer import Optimizer
from fcnet.tensor import Tensor

FORMS = ("lecture", "pytorch")


class Momentum(Optimizer):
    """The lecture's momentum: v ← μ v + (1 − μ) g; θ ← θ − ε v (v₀ = 0).

    v is an exponential moving average of gradients: oscillating components cancel, the
    consistent direction accumulates (slide 99).  ``form="pytorch"`` uses v ← μ v + g
    instead, equal to ``torch.optim.SGD(lr=ε, momentum=μ)``; the lecture's form equals
    ``torch.optim.SGD(lr=ε(1 − μ), momentum=μ)``.

    Args:
        lr: ε.  momentum: μ in [0, 1).  weight_decay: λ (adds λθ to g).
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, momentum: float = 0.9,
                 weight_decay: float = 0.0, form: str = "lecture") -> None:
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"Invalid momentum value: {momentum} (must be in [0, 1))")
        if form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}, got {form!r}")
        super().__init__(params, {"lr": lr, "momentum": momentum, "weight_decay": weight_decay,
                                  "form": form})

    def _update(self, i: int, p: Tensor) -> None:
        h = self.param_groups[0]
        mu = h["momentum"]
        g = self._grad(i)
        v = self._buffer(i, "v")
        v *= mu
        if h["form"] == "lecture":
            tmp = self._tmp(i)
            xp_of(tmp).multiply(g, 1.0 - mu, out=tmp)
            v += tmp
        else:
            v += g
        tmp = self._tmp(i)
        xp_of(tmp).multiply(v, h["lr"], out=tmp)
        p.data -= tmp
