"""Diagnoses from the lecture, turned into warnings a user can act on.

At the start of training (one mini-batch) and per epoch (gradient norms per layer):
- the initial loss should be about ln C for softmax cross-entropy and C − 1 for the hinge
  loss with margin 1 (small random scores); far from it means a bad initialisation scale;
- vanishing gradients (slides 82-86): the first layer's gradient norm orders of magnitude
  below the last layer's (sigmoid/tanh saturation, too-small init);
- exploding gradients (slide 87): very large gradient norms (too-large init or learning rate);
- dead ReLUs: units that output 0 for the whole batch; saturated sigmoid/tanh units.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any

import numpy as np

import fcnet
from fcnet import backend
from fcnet.nn.activations import ReLU, Sigmoid, Tanh
from fcnet.nn.layers import Dropout, Linear
from fcnet.nn.losses import MulticlassHingeLoss
from fcnet.nn.module import Module

__all__ = ["diagnose", "grad_norms", "gradient_warnings"]


def grad_norms(model: Module) -> dict[str, float]:
    """‖∂L/∂W‖ of every Linear layer's weight, by layer name."""
    out = {}
    for name, m in model.named_modules():
        if isinstance(m, Linear) and m.weight.grad is not None:
            out[name or "linear"] = float(backend.xp_of(m.weight.grad).linalg.norm(m.weight.grad))
    return out


def gradient_warnings(norms: dict[str, float], ratio: float = 1e-3, explode: float = 1e3) -> list[str]:
    """Warnings for vanishing (first ≪ last) or exploding (huge) gradient norms."""
    if not norms:
        return []
    vals = list(norms.values())
    names = list(norms)
    msgs = []
    if not all(math.isfinite(v) for v in vals):
        return ["gradients are NaN or inf: lower the learning rate or clip gradients (--clip-norm)"]
    if len(vals) > 1 and vals[-1] > 0 and vals[0] / vals[-1] < ratio:
        msgs.append(
            f"vanishing gradients: layer {names[0]} gets {vals[0]:.2e}, layer {names[-1]} {vals[-1]:.2e} "
            f"(ratio {vals[0] / vals[-1]:.1e}); likely saturated sigmoid/tanh units or too small an "
            "init: try --activation relu, --init he/xavier, or --batchnorm"
        )
    if max(vals) > explode:
        msgs.append(
            f"exploding gradients: norm up to {max(vals):.2e}; likely too large an init or learning "
            "rate: lower --lr, clip with --clip-norm 5, or use --init he/xavier"
        )
    return msgs


def diagnose(model: Module, loss_fn: Any, x: np.ndarray, y: np.ndarray, num_classes: int,
             rng: backend.Generator | int = 0) -> list[str]:
    """Check one mini-batch at initialisation; return warnings (empty when all looks right).

    The batch goes through the model as the first training step would (training mode: batch
    statistics, dropout on), but the model is left exactly as it was found: every module's
    mode, every buffer (BatchNorm's running statistics) and every generator.  Dropout masks
    are drawn from ``rng`` (an explicit generator or seed), never from the model's generators
    or fcnet's default one, so ``--monitor false`` trains the very same model.
    """
    with _untouched(model, backend.get_generator(rng)):
        return _diagnose(model, loss_fn, x, y, num_classes)


@contextlib.contextmanager
def _untouched(model: Module, rng: backend.Generator) -> Iterator[None]:
    """Training mode with dropout drawing from ``rng``; afterwards modes, buffers and generators restored."""
    modes = [(m, m.training) for m in model.modules()]
    buffers = [(b, backend.xp_of(b).array(b, copy=True)) for _, b in model.named_buffers()]
    dropouts = [(m, m.rng) for m in model.modules() if isinstance(m, Dropout)]
    try:
        model.train()
        for m, _ in dropouts:
            m.rng = rng
        yield
    finally:
        for m, mode in modes:
            object.__setattr__(m, "training", mode)
        for b, saved in buffers:
            backend.xp_of(b).copyto(b, saved)
        for m, generator in dropouts:
            m.rng = generator


def _diagnose(model: Module, loss_fn: Any, x: np.ndarray, y: np.ndarray, num_classes: int) -> list[str]:
    msgs: list[str] = []
    with fcnet.no_grad():
        h = fcnet.tensor(x, device=backend.device_of(next(iter(model.parameters())).data))
        for i, layer in enumerate(model.children()):
            h = layer(h)
            a = backend.to_numpy(h.data)
            if isinstance(layer, ReLU):
                dead = float((a.max(axis=0) <= 0).mean())
                if dead > 0.5:
                    msgs.append(f"{dead:.0%} of the ReLU units of layer {i} are dead (0 for the whole "
                                "batch): likely a bad init or huge negative biases: use --init he, lower --lr")
            elif isinstance(layer, Tanh | Sigmoid):
                lo, hi = (-0.99, 0.99) if isinstance(layer, Tanh) else (0.01, 0.99)
                sat = float(((a < lo) | (a > hi)).mean())
                if sat > 0.5:
                    msgs.append(f"{sat:.0%} of the {type(layer).__name__.lower()} units of layer {i} are "
                                "saturated (gradient ≈ 0): the init is too large: use --init xavier")
        loss = float(loss_fn(h, y).item())
    expected = (num_classes - 1.0) if isinstance(loss_fn, MulticlassHingeLoss) else math.log(num_classes)
    # He-initialised nets start somewhat above ln C; an order off means a wrong scale
    if not math.isfinite(loss) or loss > 3.0 * expected + 1.0 or loss < 0.3 * expected:
        what = "C − 1" if isinstance(loss_fn, MulticlassHingeLoss) else "ln C"
        msgs.append(f"initial loss {loss:.3g} is far from {what} = {expected:.3g} expected for small random "
                    "scores: the weight scale is off (try --init he or xavier) or the inputs are not "
                    "standardised")
    return msgs
