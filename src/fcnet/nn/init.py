"""Weight initialisation (slides 124-136), all as one variance-scaling rule.

Each function fills a tensor in place from N(0, σ²) (or U(-a, a) of the same variance)
and returns it.  With N = fan-in = ``in_features`` (the second axis of W (out, in)):
``normal`` σ = std (slide 127: 0.01), ``xavier`` σ² = 1/N (slide 132), ``he`` σ² = 2/N
(slide 135).  ``glorot`` is Glorot and Bengio's own rule, σ² = 2/(N_in + N_out) drawn uniformly
(Keras's ``glorot_uniform``, PyTorch's ``xavier_uniform_``, scikit-learn's MLP): the lecture's
Xavier keeps only N_in.  Draws are float64 from an explicit generator, so the same seed gives the
same weights in every dtype and on every device.
"""

from __future__ import annotations

import math
from typing import Any

from fcnet import backend
from fcnet.tensor import Tensor

__all__ = ["INITS", "constant", "fan_in", "fan_out", "glorot", "he", "normal", "ones", "variance_scaling", "xavier",
           "zeros"]

# the names a Linear layer, `fcnet train --init` and the estimators take
INITS = ("he", "xavier", "glorot", "normal", "zeros")


def fan_in(t: Tensor) -> int:
    """N of the lecture: inputs per unit (``in_features`` for W of shape (out, in))."""
    if t.ndim < 2:
        raise ValueError(f"fan-in needs a weight of at least 2 dimensions, got shape {t.shape}")
    return int(math.prod(t.shape[1:]))


def fan_out(t: Tensor) -> int:
    """Outputs per input: ``out_features`` for W of shape (out, in)."""
    if t.ndim < 2:
        raise ValueError(f"fan-out needs a weight of at least 2 dimensions, got shape {t.shape}")
    return int(t.shape[0] * math.prod(t.shape[2:]))


def _fill(t: Tensor, values: Any) -> Tensor:
    xp = backend.xp_of(t.data)
    t.data[...] = xp.asarray(values, dtype=t.dtype)
    return t


def constant(t: Tensor, value: float) -> Tensor:
    """Fill with ``value``."""
    t.data[...] = value
    return t


def zeros(t: Tensor) -> Tensor:
    """All zeros (slide 126: every unit then computes the same thing, forever)."""
    return constant(t, 0.0)


def ones(t: Tensor) -> Tensor:
    """All ones."""
    return constant(t, 1.0)


def variance_scaling(t: Tensor, scale: float, distribution: str = "normal",
                     rng: backend.Generator | int | None = None) -> Tensor:
    """Fill with zero-mean values of variance ``scale / fan_in`` (normal or uniform)."""
    return _draw(t, scale / fan_in(t), distribution, rng)


def _draw(t: Tensor, var: float, distribution: str, rng: backend.Generator | int | None) -> Tensor:
    """Fill t with zero-mean values of variance ``var``: N(0, var) or U(-a, a) with a = √(3 var)."""
    gen = backend.get_generator(rng)
    if distribution == "normal":
        values = gen.standard_normal(t.shape) * math.sqrt(var)
    elif distribution == "uniform":
        a = math.sqrt(3.0 * var)
        values = gen.uniform(-a, a, size=t.shape)
    else:
        raise ValueError(f"distribution must be 'normal' or 'uniform', got {distribution!r}")
    return _fill(t, values)


def normal(t: Tensor, std: float = 0.01, mean: float = 0.0,
           rng: backend.Generator | int | None = None) -> Tensor:
    """W ~ N(mean, std²) (slide 127 uses std 0.01, slide 130 std 1)."""
    if std < 0:
        raise ValueError(f"std must be non-negative, got {std}")
    gen = backend.get_generator(rng)
    return _fill(t, gen.standard_normal(t.shape) * std + mean)


def xavier(t: Tensor, gain: float = 1.0, distribution: str = "normal",
           rng: backend.Generator | int | None = None) -> Tensor:
    """Xavier: W ~ N(0, gain²/N), N = fan-in (slide 132: Var(w) = 1/N keeps tanh alive)."""
    return variance_scaling(t, gain * gain, distribution, rng)


def glorot(t: Tensor, gain: float = 1.0, distribution: str = "uniform",
           rng: backend.Generator | int | None = None) -> Tensor:
    """Glorot: Var(w) = gain² · 2/(N_in + N_out), by default W ~ U(-a, a) with a = gain √(6/(N_in + N_out))."""
    return _draw(t, gain * gain * 2.0 / (fan_in(t) + fan_out(t)), distribution, rng)


def he(t: Tensor, distribution: str = "normal",
       rng: backend.Generator | int | None = None) -> Tensor:
    """He (Kaiming): W ~ N(0, 2/N), N = fan-in (slide 135: for ReLU, which zeroes half)."""
    return variance_scaling(t, 2.0, distribution, rng)
