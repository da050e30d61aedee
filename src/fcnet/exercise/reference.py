"""fcnet's own answers to every exercise, computed by its gates, losses and optimizers (the graders' oracle)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import fcnet
from fcnet import ops
from fcnet.nn import functional as F


def autograd(fn: Callable[..., Any], arrays: Sequence[np.ndarray], g: np.ndarray | None = None
             ) -> tuple[np.ndarray, list[np.ndarray]]:
    """Fn's value on float64 ``arrays`` and dL/d(each array) for L = Σ out ⊙ g (g = 1 by default)."""
    ts = [fcnet.tensor(np.asarray(a, dtype=np.float64), requires_grad=True) for a in arrays]
    out = fn(*ts)
    upstream = np.ones(out.shape) if g is None else np.asarray(g, dtype=np.float64)
    (out * fcnet.tensor(upstream)).sum().backward()
    grads = [np.zeros(t.shape) if t.grad is None else np.asarray(t.grad, dtype=np.float64) for t in ts]
    return out.numpy(), grads


def neuron(w: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    """Slides 70-77: f = σ(Σ w_i x_i + w_N) gate by gate; returns f, df/dw, df/dx."""
    def f(wt: Any, xt: Any) -> Any:
        return 1 / (1 + (-((wt[:-1] * xt).sum() + wt[-1])).exp())
    out, (dw, dx) = autograd(f, [w, x])
    return float(out), dw, dx


def gate(name: str, g: np.ndarray, *xs: np.ndarray) -> list[np.ndarray]:
    """Local gradient times upstream ``g`` of the add, mul, max, exp and 1/x gates (fcnet.ops)."""
    fns: dict[str, Callable[..., Any]] = {
        "add": lambda a, b: a + b, "mul": lambda a, b: a * b, "max": lambda a, b: F.maximum(a, b),
        "exp": lambda a: a.exp(), "inv": lambda a: 1 / a}
    return autograd(fns[name], xs, g)[1]


def affine(x: np.ndarray, w: np.ndarray, b: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Out = x Wᵀ + b (fcnet's Linear gate) and dx, dW, db for upstream g."""
    return autograd(lambda x_, w_, b_: ops.Linear.apply(x_, w_, b_), [x, w, b], g)


ACTIVATIONS: dict[str, Callable[..., Any]] = {
    "relu": F.relu, "leaky_relu": F.leaky_relu, "sigmoid": F.sigmoid, "tanh": F.tanh}


def activation(name: str, x: np.ndarray, g: np.ndarray, alpha: float = 0.01) -> tuple[np.ndarray, np.ndarray]:
    """An activation's output and dx for upstream g (fcnet's gates)."""
    fn = ACTIVATIONS[name]
    call = (lambda t: fn(t, alpha)) if name == "leaky_relu" else fn
    out, (dx,) = autograd(call, [x], g)
    return out, dx


def softmax(s: np.ndarray) -> np.ndarray:
    """Row-wise softmax (fcnet)."""
    return F.softmax(fcnet.tensor(np.asarray(s, dtype=np.float64)), axis=1).numpy()


def loss(name: str, s: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean softmax cross-entropy (``ce``) or multiclass hinge (``hinge``) loss and ds (fcnet's losses)."""
    if name == "ce":
        fn: Callable[..., Any] = lambda t: F.cross_entropy(t, y)  # noqa: E731
    else:
        fn = lambda t: F.multiclass_hinge(t, y)  # noqa: E731
    out, (ds,) = autograd(fn, [s])
    return float(out), ds


def two_layer(x: np.ndarray, y: np.ndarray, w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray
              ) -> tuple[float, dict[str, np.ndarray]]:
    """Slide 6's f = W₂ max(0, W₁x + b₁) + b₂ with softmax cross-entropy, by fcnet's autograd."""
    def fn(w1_: Any, b1_: Any, w2_: Any, b2_: Any) -> Any:
        h = F.relu(F.linear(fcnet.tensor(x), w1_, b1_))
        return F.cross_entropy(F.linear(h, w2_, b2_), y)
    out, grads = autograd(fn, [w1, b1, w2, b2])
    return float(out), dict(zip(("w1", "b1", "w2", "b2"), grads, strict=True))


def optimizer_run(kind: str, theta: np.ndarray, grads: Sequence[np.ndarray], **hyper: Any) -> np.ndarray:
    """θ after fcnet's optimizer ``kind`` took one step per gradient in ``grads``."""
    from fcnet import optim

    p = fcnet.tensor(np.array(theta, dtype=np.float64), requires_grad=True)
    classes = {"sgd": optim.SGD, "momentum": optim.Momentum, "rmsprop": optim.RMSProp,
               "adagrad": optim.Adagrad, "adam": optim.Adam}
    opt = classes[kind]([p], **hyper)
    for g in grads:
        p.grad = np.array(g, dtype=np.float64)
        opt.step()
    return p.numpy().copy()


def batchnorm(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, g: np.ndarray, eps: float = 1e-5
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[np.ndarray]]:
    """Training-mode batch norm (fcnet's BatchNorm gate): y, μ_B, σ²_B and dx, dγ, dβ for upstream g."""
    y, grads = autograd(lambda x_, g_, b_: ops.BatchNorm.apply(x_, g_, b_, eps=eps), [x, gamma, beta], g)
    mean = x.mean(axis=0)
    return y, mean, ((x - mean) ** 2).mean(axis=0), grads


def batchnorm_eval(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, rm: np.ndarray, rv: np.ndarray,
                   eps: float = 1e-5) -> np.ndarray:
    """Test-mode batch norm with running statistics (fcnet's BatchNorm1d in eval mode)."""
    from fcnet import nn

    bn = nn.BatchNorm1d(x.shape[1], eps=eps, dtype=np.float64)
    bn.weight.data[...] = gamma
    bn.bias.data[...] = beta
    bn.running_mean[...] = rm
    bn.running_var[...] = rv
    bn.eval()
    with fcnet.no_grad():
        return bn(fcnet.tensor(x)).numpy()


def clip(grads: Sequence[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    """fcnet.optim.clip.clip_grad_norm on copies of ``grads``; returns them and the total norm."""
    from fcnet.optim.clip import clip_grad_norm

    ps = []
    for g in grads:
        p = fcnet.tensor(np.zeros_like(g, dtype=np.float64), requires_grad=True)
        p.grad = np.array(g, dtype=np.float64)
        ps.append(p)
    total = clip_grad_norm(ps, max_norm)
    return [np.asarray(p.grad) for p in ps], float(total)
