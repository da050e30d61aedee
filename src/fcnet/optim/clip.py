"""Gradient clipping against exploding gradients (slide 88)."""

from __future__ import annotations

import math
from collections.abc import Iterable

from fcnet.backend import xp_of
from fcnet.tensor import Tensor

__all__ = ["clip_grad_norm", "clip_grad_value"]


def clip_grad_norm(params: Iterable[Tensor], max_norm: float, norm_type: float = 2.0) -> float:
    """If ‖g‖ > max_norm, rescale every gradient in place by max_norm / (‖g‖ + 1e-6).

    ‖g‖ is the norm of all gradients together; returns it (before clipping), as
    ``torch.nn.utils.clip_grad_norm_`` does.
    """
    if max_norm <= 0:
        raise ValueError(f"max_norm must be positive, got {max_norm}")
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return 0.0
    if norm_type == math.inf:
        total = max(float(abs(g).max()) for g in grads)
    else:
        total = float(sum(float((abs(g) ** norm_type).sum()) for g in grads)) ** (1.0 / norm_type)
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for g in grads:
            g *= coef
    return total


def clip_grad_value(params: Iterable[Tensor], clip: float) -> None:
    """Clamp every gradient entry to [-clip, clip] in place."""
    if clip <= 0:
        raise ValueError(f"clip value must be positive, got {clip}")
    for p in params:
        if p.grad is not None:
            xp_of(p.grad).clip(p.grad, -clip, clip, out=p.grad)
