"""Functions on tensors: each gate as a function, and the composites built from gates.

Composites (softmax, log_softmax, the hinge loss, entropy, dropout, the unfused linear and
batch norm) have no backward code of their own: the engine differentiates them through
their gates.  Where a fused gate exists (``linear``, ``sigmoid``, ``cross_entropy``,
``batch_norm``), the ``*_composite`` twin computes the same thing gate by gate, and the
tests prove the two agree (the lecture's granularity, slide 78).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fcnet import backend, ops
from fcnet.tensor import Tensor, is_grad_enabled, tensor

__all__ = [
    "abs", "batch_norm", "batch_norm_composite", "cross_entropy", "cross_entropy_composite",
    "dropout", "entropy", "exp", "kl_div", "leaky_relu", "linear", "linear_activation", "linear_composite", "log",
    "log_softmax", "matmul", "max", "maximum", "mean", "mse_loss", "multiclass_hinge", "relu",
    "reshape", "sigmoid", "sigmoid_composite", "softmax", "sum", "tanh", "transpose",
]

_builtin_abs, _builtin_max, _builtin_sum = abs, max, sum


def _t(x: Any) -> Tensor:
    return x if isinstance(x, Tensor) else tensor(x)


# --- gates as functions (fcnet.exp(x) is x.exp()) ----------------------------------------


def exp(x: Any) -> Tensor:
    """e^x elementwise."""
    return _t(x).exp()


def log(x: Any) -> Tensor:
    """Ln x elementwise."""
    return _t(x).log()


def abs(x: Any) -> Tensor:
    """|x| elementwise."""
    return _t(x).abs()


def sum(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Σ x over ``axis``."""
    return _t(x).sum(axis=axis, keepdims=keepdims)


def mean(x: Any, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean of x over ``axis``."""
    return _t(x).mean(axis=axis, keepdims=keepdims)


def max(x: Any, axis: int | None = None, keepdims: bool = False) -> Tensor:
    """Max of x over ``axis``; the gradient routes to the arg-max."""
    return _t(x).max(axis=axis, keepdims=keepdims)


def maximum(a: Any, b: Any) -> Tensor:
    """max(a, b) elementwise."""
    return ops.Maximum.apply(a, b)


def matmul(a: Any, b: Any) -> Tensor:
    """A @ b."""
    return ops.MatMul.apply(a, b)


def reshape(x: Any, *shape: Any) -> Tensor:
    """X with another shape."""
    return _t(x).reshape(*shape)


def transpose(x: Any, *axes: int) -> Tensor:
    """X with permuted axes (reversed when none are given)."""
    return _t(x).transpose(*axes)


def relu(x: Any) -> Tensor:
    """max(0, x)."""
    return _t(x).relu()


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """max(αx, x) with α = ``negative_slope`` (0.1 on slide 41, 0.01 on slide 86)."""
    return _t(x).leaky_relu(negative_slope)


def sigmoid(x: Any) -> Tensor:
    """σ(x) = 1 / (1 + e^-x), one fused and stable gate."""
    return _t(x).sigmoid()


def sigmoid_composite(x: Any) -> Tensor:
    """σ(x) = 1 / (1 + e^-x) built from the neg, exp, add and div gates (slide 75)."""
    return 1.0 / (1.0 + (-_t(x)).exp())


def tanh(x: Any) -> Tensor:
    """tanh(x)."""
    return _t(x).tanh()


# --- layers as functions -----------------------------------------------------------------


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """F = x Wᵀ + b for x (N, in), W (out, in), b (out,): one fused gate."""
    args = (x, weight) if bias is None else (x, weight, bias)
    return ops.Linear.apply(*args)


_ACTIVATION_KIND = {"relu": 1, "leaky_relu": 2, "sigmoid": 3, "tanh": 4}


def linear_activation(x: Any, weight: Tensor, bias: Tensor | None = None, activation: str = "relu",
                      negative_slope: float = 0.01) -> Tensor:
    """One hidden layer of slide 22, h = act(x Wᵀ + b) of slide 22 (act: "relu", "leaky_relu", "sigmoid", "tanh").

    With a graph to record it is the linear gate followed by the activation gate, fused into the
    one gate ``ops.LinearReLU`` for a ReLU with a bias (the same numbers).  Without one
    (inside ``no_grad``, or when nothing requires grad: inference) nothing keeps the
    pre-activation, so the bias and the activation are applied in place on the matrix product's
    output, in one compiled pass (NumPy path: the activation gate's own arithmetic, in place
    where it can be).
    """
    if activation not in _ACTIVATION_KIND:
        raise ValueError(f"unknown activation {activation!r}: choose one of {', '.join(_ACTIVATION_KIND)}")
    x = _t(x)
    graph = is_grad_enabled() and (x.requires_grad or weight.requires_grad
                                   or (bias is not None and bias.requires_grad))
    xd, wd = x.data, weight.data
    if graph and activation == "relu" and bias is not None and xd.ndim == 2:
        return ops.LinearReLU.apply(x, weight, bias)  # one gate, the same numbers as linear then relu
    if (graph or not isinstance(xd, np.ndarray) or not isinstance(wd, np.ndarray) or xd.ndim != 2
            or xd.shape[1] != wd.shape[1]):
        h = linear(x, weight, bias)
        return h.leaky_relu(negative_slope) if activation == "leaky_relu" else getattr(h, activation)()
    out = xd @ wd.T  # the Linear gate's product, so the bits are the gate's
    b = np.zeros(out.shape[1], out.dtype) if bias is None else bias.data
    k = backend.cpu_kernels(out, b)
    if k is not None and b.dtype == out.dtype and out.flags.c_contiguous:
        k.bias_activation(out, b, _ACTIVATION_KIND[activation], out.dtype.type(negative_slope))
        return Tensor(out, _raw=True)
    if bias is not None:
        out += b
    if activation == "relu":
        return Tensor(np.maximum(out, 0, out=out), _raw=True)
    h = Tensor(out, _raw=True)
    return h.leaky_relu(negative_slope) if activation == "leaky_relu" else getattr(h, activation)()


def linear_composite(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """F = x Wᵀ + b from the matmul, transpose and add gates."""
    out = _t(x) @ weight.T
    return out if bias is None else out + bias


def batch_norm(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    """Y = γ (x - μ_B) / √(σ²_B + eps) + β with batch statistics (slide 139): one fused gate."""
    return ops.BatchNorm.apply(x, gamma, beta, eps=eps)


def batch_norm_composite(x: Tensor, gamma: Tensor, beta: Tensor, eps: float = 1e-5) -> Tensor:
    """The same batch norm built gate by gate."""
    mu = x.mean(axis=0)
    xc = x - mu
    var = (xc * xc).mean(axis=0)
    return xc / (var + eps) ** 0.5 * gamma + beta


def dropout(x: Tensor, p: float = 0.5, training: bool = True,
            rng: backend.Generator | int | None = None, mask: Any = None) -> Tensor:
    """Inverted dropout: y = x * m / (1 - p) with m ~ Bernoulli(1 - p); identity when not training.

    ``p`` is the fraction of units set to zero (slide 155).  Dividing by 1 - p at training
    time keeps E[y] = x, so evaluation needs no rescaling.  A fixed ``mask`` may be given.
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout probability must be in [0, 1), got {p}")
    if not training or p == 0.0:
        return x
    xp = backend.xp_of(x.data)
    if mask is None:
        u = backend.get_generator(rng).random(x.shape, dtype=np.float32)
        k = backend.cpu_kernels(x.data)
        if k is not None:
            # the mask in one compiled pass instead of a comparison, a cast and a product
            mask = np.empty(x.shape, x.dtype)
            k.dropout_mask(u.reshape(-1), np.float32(p), x.dtype.type(1.0 / (1.0 - p)), mask.reshape(-1))
            return x * Tensor(mask, _raw=True)
        mask = xp.asarray((u >= p).astype(x.dtype) * x.dtype.type(1.0 / (1.0 - p)))
    else:
        mask = xp.asarray(mask, dtype=x.dtype) / (1.0 - p)
    return x * Tensor(mask, _raw=True)


# --- softmax and losses ------------------------------------------------------------------


def softmax(x: Any, axis: int = -1) -> Tensor:
    """p_j = e^(s_j) / Σ_k e^(s_k) (slide 51), shifted by max s for stability."""
    return log_softmax(x, axis=axis).exp()


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """Log p_j = s_j - log Σ_k e^(s_k), computed as (s_j - m) - log Σ_k e^(s_k - m)."""
    x = _t(x)
    shifted = x - Tensor(x.data.max(axis=axis, keepdims=True), _raw=True)
    return shifted - shifted.exp().sum(axis=axis, keepdims=True).log()


def _targets(targets: Any, scores: Tensor) -> Any:
    """Class indices as an integer array on the scores' device, checked against the scores."""
    if isinstance(targets, Tensor):
        targets = targets.data
    xp = backend.xp_of(scores.data)
    t = xp.asarray(targets)
    if scores.ndim != 2:
        raise ValueError(f"scores must have shape (N, C), got {scores.shape}")
    if t.ndim != 1 or t.shape[0] != scores.shape[0]:
        raise ValueError(
            f"targets must be N={scores.shape[0]} class indices of shape ({scores.shape[0]},), "
            f"got shape {tuple(t.shape)}"
        )
    if t.dtype.kind == "f":
        if t.size and not bool((t == xp.round(t)).all()):
            raise ValueError("targets must be integer class indices, got fractional values")
    elif t.dtype.kind not in "iu":
        raise TypeError(f"targets must be integer class indices, got dtype {t.dtype}")
    t = t.astype(np.int64, copy=False)
    c = scores.shape[1]
    # on a GPU the range check would cost a host round trip per step: labels there were checked
    # when the data set was loaded (``data.check_arrays``)
    if xp is np and t.size and (int(t.min()) < 0 or int(t.max()) >= c):
        raise ValueError(
            f"targets must lie in [0, {c - 1}] for {c} classes, got values from "
            f"{int(t.min())} to {int(t.max())}"
        )
    return t


_REDUCTIONS = ("mean", "sum", "none")


def _reduce(losses: Tensor, reduction: str) -> Tensor:
    if reduction == "mean":
        return losses.mean()
    if reduction == "sum":
        return losses.sum()
    return losses


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}")


def cross_entropy(scores: Tensor, targets: Any, reduction: str = "mean",
                  label_smoothing: float = 0.0) -> Tensor:
    """L = (1/N) Σ_i -log softmax(s_i)[y_i] (slides 51-57): one fused, exact gate."""
    _check_reduction(reduction)
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing}")
    t = _targets(targets, scores)
    return ops.SoftmaxCrossEntropy.apply(scores, targets=t, reduction=reduction,
                                         label_smoothing=float(label_smoothing),
                                         in_range=backend.xp_of(scores.data) is np)  # _targets checked it


def cross_entropy_composite(scores: Tensor, targets: Any, reduction: str = "mean") -> Tensor:
    """The same loss built from log_softmax and indexing gates."""
    _check_reduction(reduction)
    t = _targets(targets, scores)
    rows = backend.xp_of(scores.data).arange(scores.shape[0])
    return _reduce(-log_softmax(scores, axis=1)[rows, t], reduction)


def multiclass_hinge(scores: Tensor, targets: Any, margin: float = 1.0,
                     reduction: str = "mean") -> Tensor:
    """L_i = Σ_{j≠y_i} max(0, s_ij - s_iy_i + margin) (slide 48), averaged over the batch.

    No division by the number of classes (PyTorch's ``multi_margin_loss`` divides by C).
    """
    _check_reduction(reduction)
    t = _targets(targets, scores)
    xp = backend.xp_of(scores.data)
    n, c = scores.shape
    rows = xp.arange(n)
    correct = scores[rows, t].reshape(n, 1)
    margins = (scores - correct + margin).relu()
    others = xp.ones((n, c), dtype=scores.dtype)
    others[rows, t] = 0.0
    return _reduce((margins * Tensor(others, _raw=True)).sum(axis=1), reduction)


def mse_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """L = mean (pred - target)²; the mean over a target of pred's shape is one fused gate."""
    _check_reduction(reduction)
    target = _t(target).detach()
    if reduction == "mean" and target.shape == pred.shape and target.dtype == pred.dtype:
        return ops.MeanSquaredError.apply(pred, target)
    d = pred - target
    sq = d * d
    return sq.mean() if reduction == "mean" else _reduce(sq, reduction)


def entropy(p: Any, axis: int = -1, base: float | None = None) -> Tensor:
    """H(p) = -Σ_j p_j log p_j (0 log 0 = 0); ``base=10`` gives log10 as on slide 64."""
    p = _t(p)
    return -(p * _log(_positive(p), base)).sum(axis=axis)


def kl_div(p: Any, q: Any, axis: int = -1, base: float | None = None) -> Tensor:
    """KL(p‖q) = Σ_j p_j log(p_j / q_j) of two probability distributions (slide 60).

    Lecture order: p is the true distribution, q the prediction; H(p, q) = H(p) + KL(p‖q).
    (PyTorch's ``kl_div(input, target)`` takes log q first; this function takes p, q.)
    """
    p, q = _t(p), _t(q)
    return (p * (_log(_positive(p), base) - _log(q, base))).sum(axis=axis)


def _positive(p: Tensor) -> Tensor:
    """The probabilities with zeros turned into 1, as p + [p ≤ 0]: p log p is then 0 there, not NaN.

    Adding the constant mask keeps p in the graph (d/dp log p = 1/p where p > 0); replacing p
    by a constant copy would drop the "+1" of d(p log p)/dp = log p + 1.
    """
    mask = (p.data <= 0).astype(p.dtype)
    return p + Tensor(mask, _raw=True)


def _log(x: Tensor, base: float | None) -> Tensor:
    return x.log() if base is None else x.log() / float(np.log(base))
