"""Activation functions (slides 40-44) as modules: σ, tanh, ReLU, Leaky ReLU."""

from __future__ import annotations

from fcnet.nn.module import Module
from fcnet.tensor import Tensor

__all__ = ["ACTIVATIONS", "LeakyReLU", "ReLU", "Sigmoid", "Tanh"]


class Sigmoid(Module):
    """σ(x) = 1 / (1 + e^-x); σ' = σ(1 - σ) ≤ 1/4, ≈ 0 for |x| > 10 (vanishing gradients)."""

    def forward(self, x: Tensor) -> Tensor:
        """σ(x)."""
        return x.sigmoid()


class Tanh(Module):
    """tanh(x) = (e^x - e^-x) / (e^x + e^-x); tanh' = 1 - tanh² ≤ 1, zero-centred."""

    def forward(self, x: Tensor) -> Tensor:
        """tanh(x)."""
        return x.tanh()


class ReLU(Module):
    """max(0, x); derivative 1 for x > 0 and 0 otherwise (no saturation for x > 0)."""

    def forward(self, x: Tensor) -> Tensor:
        """max(0, x)."""
        return x.relu()


class LeakyReLU(Module):
    """max(αx, x); α = ``negative_slope`` (slide 41 draws 0.1, slide 86 uses 0.01)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        if negative_slope < 0:
            raise ValueError(f"negative_slope must be >= 0, got {negative_slope}")
        self.negative_slope = float(negative_slope)

    def forward(self, x: Tensor) -> Tensor:
        """max(αx, x)."""
        return x.leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "leaky_relu": LeakyReLU,
}
