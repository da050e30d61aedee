"""Losses (slides 48-64) and the regularisation term λ R(W) (slides 150-153)."""

from __future__ import annotations

from typing import Any

from fcnet import functional as F
from fcnet.nn.module import Module
from fcnet.tensor import Tensor

__all__ = ["CrossEntropyLoss", "MSELoss", "MulticlassHingeLoss", "l1_penalty", "l2_penalty",
           "regularization"]


class CrossEntropyLoss(Module):
    """L = (1/N) Σ_i -log( e^(s_iy) / Σ_j e^(s_ij) ): softmax and cross-entropy fused and exact.

    Called as ``loss(scores (N, C), targets (N,) class indices)``.
    """

    def __init__(self, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__()
        self.reduction, self.label_smoothing = reduction, label_smoothing

    def forward(self, scores: Tensor, targets: Any) -> Tensor:
        """The mean (or sum, or per-sample) cross-entropy."""
        return F.cross_entropy(scores, targets, self.reduction, self.label_smoothing)


class MulticlassHingeLoss(Module):
    """L = (1/N) Σ_i Σ_{j≠y_i} max(0, s_ij - s_iy_i + margin): the multiclass SVM loss (slide 48)."""

    def __init__(self, margin: float = 1.0, reduction: str = "mean") -> None:
        super().__init__()
        self.margin, self.reduction = float(margin), reduction

    def forward(self, scores: Tensor, targets: Any) -> Tensor:
        """The mean hinge loss."""
        return F.multiclass_hinge(scores, targets, self.margin, self.reduction)

    def extra_repr(self) -> str:
        return f"margin={self.margin}"


class MSELoss(Module):
    """L = mean (pred - target)²."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        self.reduction = reduction

    def forward(self, pred: Tensor, target: Any) -> Tensor:
        """Mean squared error."""
        return F.mse_loss(pred, target, self.reduction)


def _weights(model: Module) -> list[Tensor]:
    """The weight matrices (ndim >= 2): regularised; biases and batch-norm scales are not."""
    return [p for name, p in model.named_parameters() if p.ndim >= 2 and name.endswith("weight")]


def l2_penalty(model: Module) -> Tensor:
    """R(W) = Σ_k Σ_l W_kl² over every weight matrix (slide 151)."""
    ws = _weights(model)
    return sum(((w * w).sum() for w in ws[1:]), (ws[0] * ws[0]).sum())


def l1_penalty(model: Module) -> Tensor:
    """R(W) = Σ_k Σ_l |W_kl| over every weight matrix."""
    ws = _weights(model)
    return sum((w.abs().sum() for w in ws[1:]), ws[0].abs().sum())


def regularization(model: Module, l2: float = 0.0, l1: float = 0.0) -> Tensor | float:
    """λ₂ R₂(W) + λ₁ R₁(W), added to the data loss: L = (1/N) Σ L_i + λ R(W)."""
    total: Tensor | float = 0.0
    if l2:
        total = total + l2 * l2_penalty(model)
    if l1:
        total = total + l1 * l1_penalty(model)
    return total
