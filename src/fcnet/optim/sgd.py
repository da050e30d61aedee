"""Mini-batch stochastic gradient descent (slide 91)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from fcnet.backend import xp_of
from fcnet.optim.optimizer import Optimizer
from fcnet.tensor import Tensor


class SGD(Optimizer):
    """θ ← θ − ε g, with g the mini-batch gradient (plus λθ with ``weight_decay``).

    Equal to ``torch.optim.SGD(params, lr)``.
    """

    def __init__(self, params: Iterable[Tensor], lr: float = 0.01, weight_decay: float = 0.0) -> None:
        super().__init__(params, {"lr": lr, "weight_decay": weight_decay})

    def compiled_kernel(self, kernels: Any, dtype: Any) -> Callable[..., None]:
        f = np.dtype(dtype).type
        lr, wd = f(self.lr), f(self.param_groups[0]["weight_decay"])
        return lambda p, g: kernels.sgd(p, g, lr, wd)

    def kernel(self, p: Any, g: Any, tmp: Any) -> None:
        xp_of(tmp).multiply(g, self.lr, out=tmp)  # ε g
        p -= tmp
