"""Layers: Linear (slide 4), BatchNorm1d (slides 137-141), Dropout (slide 155), Flatten, Sequential."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from fcnet import backend, ops
from fcnet import functional as F
from fcnet.nn import init as init_
from fcnet.nn.module import Module, Parameter
from fcnet.tensor import Tensor, is_grad_enabled, tensor

__all__ = ["BatchNorm1d", "Dropout", "Flatten", "Identity", "Linear", "Sequential"]

INITS = init_.INITS


class Linear(Module):
    """f = x Wᵀ + b: the linear classifier of slide 4, one layer of a fully-connected net.

    Args:
        in_features: D, the length of each input vector.
        out_features: the number of units (classes, for the last layer).
        bias: learn b.
        init: "he" (N(0, 2/D), default), "xavier" (N(0, 1/D)), "glorot" (U(-a, a), a = √(6/(D + out))),
            "normal" (N(0, std²)), "zeros".
        std: σ for ``init="normal"`` (default 0.01, slide 127).
        dtype: parameter dtype (float32 by default, as PyTorch).
        rng: a generator or seed for the initial weights (fcnet's default generator if None).

    Shape: input (N, D), output (N, out_features).  ``weight`` has shape (out, in): its rows
    are the class templates of slides 12-17.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, init: str = "he",
                 std: float | None = None, dtype: Any = np.float32,
                 rng: backend.Generator | int | None = None, device: str | None = None) -> None:
        super().__init__()
        if int(in_features) <= 0 or int(out_features) <= 0:
            raise ValueError(f"Linear needs positive sizes, got in={in_features}, out={out_features}")
        if init not in INITS:
            raise ValueError(f"unknown init {init!r}: choose one of {', '.join(INITS)}")
        self.in_features, self.out_features, self.init = int(in_features), int(out_features), init
        xp = backend.xp_for(device)
        self.weight = Parameter(xp.zeros((self.out_features, self.in_features), dtype=dtype))
        self.bias = Parameter(xp.zeros((self.out_features,), dtype=dtype)) if bias else None
        self.reset_parameters(std=std, rng=rng)

    def reset_parameters(self, std: float | None = None,
                         rng: backend.Generator | int | None = None) -> None:
        """Draw W again from the layer's init; b = 0."""
        if self.init == "he":
            init_.he(self.weight, rng=rng)
        elif self.init == "xavier":
            init_.xavier(self.weight, rng=rng)
        elif self.init == "glorot":
            init_.glorot(self.weight, rng=rng)
        elif self.init == "normal":
            init_.normal(self.weight, std=0.01 if std is None else std, rng=rng)
        else:
            init_.zeros(self.weight)
        if self.bias is not None:
            init_.zeros(self.bias)

    def forward(self, x: Tensor) -> Tensor:
        """X Wᵀ + b."""
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}, init={self.init!r}")


class BatchNorm1d(Module):
    """y = γ (x - μ) / √(σ² + eps) + β per feature (slide 139).

    Training: μ, σ² of the mini-batch; the running statistics follow PyTorch's convention,
    r ← (1 - momentum) r + momentum · batch statistic, with the *unbiased* batch variance
    (n / (n - 1) σ²) in the running variance.  Evaluation: the running statistics (slide 141),
    so a single sample gets a deterministic output.

    Shape: input (N, D), output (N, D).
    """

    def __init__(self, num_features: int, momentum: float = 0.1, eps: float = 1e-5,
                 affine: bool = True, dtype: Any = np.float32, device: str | None = None) -> None:
        super().__init__()
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"momentum must be in [0, 1], got {momentum}")
        xp = backend.xp_for(device)
        self.num_features, self.momentum, self.eps, self.affine = int(num_features), momentum, eps, affine
        self.weight = Parameter(xp.ones((self.num_features,), dtype=dtype), requires_grad=affine)
        self.bias = Parameter(xp.zeros((self.num_features,), dtype=dtype), requires_grad=affine)
        self.register_buffer("running_mean", xp.zeros((self.num_features,), dtype=dtype))
        self.register_buffer("running_var", xp.ones((self.num_features,), dtype=dtype))

    def forward(self, x: Tensor) -> Tensor:
        """Normalise with batch statistics (training) or running statistics (evaluation)."""
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(
                f"BatchNorm1d({self.num_features}) expects (N, {self.num_features}), got {x.shape}"
            )
        if self.training:
            n = x.shape[0]
            if n < 2:
                raise ValueError(
                    "BatchNorm1d in training mode needs at least 2 samples per batch to estimate "
                    "a variance; use a larger batch or call model.eval() for single samples"
                )
            out = ops.BatchNorm.apply(x, self.weight, self.bias, eps=self.eps)
            ctx = out.grad_fn
            mean, var = (ctx.mean, ctx.var) if ctx is not None else _stats(x.data)
            m = self.momentum
            rm, rv = self.running_mean, self.running_var
            rm *= 1.0 - m
            rm += m * mean
            rv *= 1.0 - m
            rv += (m * n / (n - 1)) * var
            return out
        xp = backend.xp_of(x.data)
        invstd = 1.0 / xp.sqrt(self.running_var + self.eps)
        xhat = (x - Tensor(self.running_mean, _raw=True)) * Tensor(invstd.astype(x.dtype), _raw=True)
        return xhat * self.weight + self.bias

    def extra_repr(self) -> str:
        return f"{self.num_features}, momentum={self.momentum}, eps={self.eps}"


def _stats(x: Any) -> tuple[Any, Any]:
    mean = x.mean(axis=0)
    return mean, ((x - mean) ** 2).mean(axis=0)


class Dropout(Module):
    """Inverted dropout (slides 155-160): zero each unit with probability p, scale the rest by 1/(1-p).

    Identity in evaluation mode.  ``rng`` (a generator or seed) makes masks reproducible;
    by default fcnet's default generator is used, whose state checkpoints save.
    """

    def __init__(self, p: float = 0.5, rng: backend.Generator | int | None = None) -> None:
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p}")
        self.p = float(p)
        self.rng = None if rng is None else backend.get_generator(rng)

    def forward(self, x: Tensor) -> Tensor:
        """X ⊙ m / (1 - p) in training, x in evaluation."""
        return F.dropout(x, self.p, self.training, rng=self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Flatten(Module):
    """(N, d1, d2, ...) → (N, d1·d2·...): an image becomes a vector (slide 2)."""

    def __init__(self, start_dim: int = 1) -> None:
        super().__init__()
        self.start_dim = start_dim

    def forward(self, x: Any) -> Tensor:
        """Flatten all dimensions from ``start_dim``."""
        x = x if isinstance(x, Tensor) else tensor(x)
        return x.flatten(self.start_dim)


class Identity(Module):
    """y = x."""

    def forward(self, x: Tensor) -> Tensor:
        """Return x."""
        return x


class Sequential(Module):
    """Modules applied one after another; ``model[i]`` is the i-th, ``len(model)`` their number."""

    def __init__(self, *modules: Module | Iterable[Module]) -> None:
        super().__init__()
        if len(modules) == 1 and not isinstance(modules[0], Module):
            modules = tuple(modules[0])
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes Modules, got {type(m).__name__} at position {i}")
            setattr(self, str(i), m)

    def forward(self, x: Any) -> Any:
        """Apply each module in turn.

        Without a graph (``no_grad``), a Linear followed by an activation runs as one
        ``F.linear_activation``: bias and activation in place on the product (same numbers);
        with one, a Linear followed by a ReLU runs as the one gate ``ops.LinearReLU`` (same numbers).
        """
        mods = list(self._modules.values())
        n = len(mods)
        fuse = not is_grad_enabled()
        i = 0
        while i < n:
            m = mods[i]
            if i + 1 < n and _plain(m, Linear):
                nxt = mods[i + 1]
                act = _activation_of(nxt)
                if act is not None and (fuse or act == "relu"):  # with a graph only Linear + ReLU has a fused gate
                    # the slope is a plain attribute of LeakyReLU (a lookup, not a failed getattr per step);
                    # one held elsewhere (a buffer, a parameter) is found as the module's forward finds it
                    d = vars(nxt)
                    slope = d["negative_slope"] if "negative_slope" in d else getattr(nxt, "negative_slope", 0.01)
                    x = F.linear_activation(x, m.weight, m.bias, act, slope)
                    i += 2
                    continue
            x = m(x)
            i += 1
        return x

    def __getitem__(self, i: int) -> Module:
        return list(self._modules.values())[i]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._modules.values())

    def append(self, module: Module) -> Sequential:
        """Add a module at the end."""
        setattr(self, str(len(self)), module)
        return self

    # --- Keras's Sequential: add, layers, pop ---------------------------------------------------
    def add(self, layer: Module) -> None:
        """Keras's ``Sequential.add``: ``append`` the layer at the end."""
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential.add takes a Module, got {type(layer).__name__}")
        self.append(layer)

    @property
    def layers(self) -> list[Module]:
        """Keras's ``Sequential.layers``: the modules, in order."""
        return list(self._modules.values())

    def pop(self) -> Module:
        """Keras's ``Sequential.pop``: remove the last module and return it."""
        if not self._modules:
            raise IndexError("pop from an empty Sequential")
        return self._modules.popitem()[1]


def _plain(m: Module, cls: type) -> bool:
    """Whether m is exactly a ``cls`` whose forward nobody replaced (so fusing it changes nothing)."""
    return type(m) is cls and "forward" not in vars(m)


_ACTIVATION_NAMES: dict[type, str] = {}


def _activation_of(m: Module) -> str | None:
    """The activation name ``F.linear_activation`` takes for module m, or None."""
    if not _ACTIVATION_NAMES:  # filled on first use: activations.py imports this module
        from fcnet.nn import activations as A

        _ACTIVATION_NAMES.update({A.ReLU: "relu", A.LeakyReLU: "leaky_relu", A.Sigmoid: "sigmoid", A.Tanh: "tanh"})
    name = _ACTIVATION_NAMES.get(type(m))
    return name if name is not None and "forward" not in vars(m) else None
