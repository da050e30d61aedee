"""Losses (slides 48-64) and the regularisation term λ R(W) (slides 150-153)."""

from __future__ import annotations

from typing import Any

from fcnet import functional as F
from fcnet.backend import xp_of
from fcnet.nn.module import Module
from fcnet.tensor import Function, Tensor

__all__ = ["BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "MulticlassHingeLoss", "l1_penalty",
           "l2_penalty", "regularization", "weighted_loss"]


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


class SigmoidBinaryCrossEntropy(Function):
    """out_ik = max(s,0) − s t + log(1 + e^(−|s|)) = −t log σ(s) − (1−t) log(1−σ(s)); ds = g (σ(s) − t).

    One fused, stable gate (no overflow of e^s, no log 0); targets ``t`` in [0, 1] are constants.
    """

    def forward(self, s, *, targets):
        xp = xp_of(s)
        self.t = xp.asarray(targets, dtype=s.dtype)
        e = xp.exp(-abs(s))
        self.sig = xp.where(s >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(s.dtype, copy=False)
        return (xp.maximum(s, 0) - s * self.t + xp.log1p(e)).astype(s.dtype, copy=False)

    def backward(self, g):
        return g * (self.sig - self.t)


class BCEWithLogitsLoss(Module):
    """L = (1/(N K)) Σ_i Σ_k −t_ik log σ(s_ik) − (1 − t_ik) log(1 − σ(s_ik)): K independent yes/no outputs.

    Called as ``loss(scores (N, K), targets (N, K) in [0, 1])``; ``reduction="none"`` gives the
    (N, K) terms, as ``torch.nn.BCEWithLogitsLoss``.  Used for multilabel classification.
    """

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        if reduction not in ("mean", "sum", "none"):
            raise ValueError(f"reduction must be one of ('mean', 'sum', 'none'), got {reduction!r}")
        self.reduction = reduction

    def forward(self, scores: Tensor, targets: Any) -> Tensor:
        """The mean (or sum, or element-wise) binary cross-entropy of σ(scores)."""
        t = targets.data if isinstance(targets, Tensor) else targets
        if tuple(getattr(t, "shape", ())) != tuple(scores.shape):
            raise ValueError(f"targets must have the scores' shape {tuple(scores.shape)}, "
                             f"got {tuple(getattr(t, 'shape', ()))}")
        out = SigmoidBinaryCrossEntropy.apply(scores, targets=t)
        if self.reduction == "mean":
            return out.mean()
        return out.sum() if self.reduction == "sum" else out


def check_weightable(loss_fn: Module) -> None:
    """Raise ValueError unless ``loss_fn`` has per-row terms (``reduction="none"``) to weight."""
    if getattr(loss_fn, "reduction", None) not in ("mean", "sum", "none"):
        raise ValueError(f"sample weights need a loss with a reduction='none' mode, and {type(loss_fn).__name__} "
                         "has none: use an fcnet loss (CrossEntropyLoss, MSELoss, ...) or give no weights")


def weighted_loss(loss_fn: Module, scores: Tensor, targets: Any, weights: Any) -> Tensor:
    """L = (1/B) Σ_i w_i L_i over a batch of B rows: Keras's ``sum_over_batch_size`` (divided by B, not by Σ w).

    ``L_i`` is ``loss_fn``'s per-row loss: its ``reduction="none"`` terms, averaged over the outputs
    where there are several (MSE, BCE), as Keras averages them; ``loss_fn``'s own reduction is set aside
    for the call.  ``weights`` (B,) are constants (``sample_weight`` times ``class_weight``).
    """
    check_weightable(loss_fn)
    kept = loss_fn.reduction
    loss_fn.reduction = "none"
    try:
        per = loss_fn(scores, targets)
    finally:
        loss_fn.reduction = kept
    if per.ndim > 1:
        per = per.reshape(per.shape[0], -1).mean(axis=1)
    w = weights.data if isinstance(weights, Tensor) else weights
    w = xp_of(per.data).asarray(w, dtype=per.dtype)
    if w.shape != (per.shape[0],):
        raise ValueError(f"weights must have shape ({per.shape[0]},), one per row, got {tuple(w.shape)}")
    return (per * Tensor(w, _raw=True)).mean()


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
