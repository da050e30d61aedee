"""The gates of the computation graph (slides 65-79): forward and local gradient side by side.

Each gate's ``backward`` gets the upstream gradient ``g`` = dL/d(out) and returns
dL/d(input) for each input: upstream times local gradient.  Gradients may keep the
broadcast shape; the engine sums them back to each input's shape.  No gate mutates ``g``.

The fused gates (Linear, SoftmaxCrossEntropy, BatchNorm, Sigmoid) compute what a chain of
elementary gates computes, in fewer passes over memory and with better numerics: this is
the lecture's "granularity" (slide 78).  ``tests`` prove both forms agree.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fcnet.backend import cpu_kernels, fused_kernel, scatter_add, xp_of
from fcnet.tensor import Function

# --- arithmetic -------------------------------------------------------------------------


class Add(Function):
    """out = a + b; the add gate distributes g to both inputs."""

    def forward(self, a, b):
        return a + b

    def backward(self, g):
        return g, g


class Sub(Function):
    """out = a - b."""

    def forward(self, a, b):
        return a - b

    def backward(self, g):
        return g, (-g if self.needs[1] else None)


class Mul(Function):
    """out = a * b; the mul gate swaps: da = g * b, db = g * a."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return a * b

    def backward(self, g):
        return (g * self.b if self.needs[0] else None,
                g * self.a if self.needs[1] else None)


class Div(Function):
    """out = a / b; da = g / b, db = -g * a / b²."""

    def forward(self, a, b):
        self.b = b
        self.out = a / b
        return self.out

    def backward(self, g):
        ga = g / self.b if self.needs[0] else None
        gb = -g * self.out / self.b if self.needs[1] else None
        return ga, gb


class Neg(Function):
    """out = -a."""

    def forward(self, a):
        return -a

    def backward(self, g):
        return -g


class Pow(Function):
    """out = a^p for a scalar p; da = g * p * a^(p-1)."""

    def forward(self, a, exponent: float):
        self.a, self.p = a, exponent
        return a**exponent

    def backward(self, g):
        p = self.p
        if p == 2.0:  # the common square: no pow call
            return g * (2.0 * self.a)
        return g * (p * self.a ** (p - 1.0))


class Exp(Function):
    """out = e^a; da = g * out."""

    def forward(self, a):
        self.out = xp_of(a).exp(a)
        return self.out

    def backward(self, g):
        return g * self.out


class Log(Function):
    """out = ln a; da = g / a."""

    def forward(self, a):
        self.a = a
        return xp_of(a).log(a)

    def backward(self, g):
        return g / self.a


class Abs(Function):
    """out = |a|; da = g * sign(a) (0 at 0, as PyTorch)."""

    def forward(self, a):
        self.a = a
        return abs(a)

    def backward(self, g):
        return g * xp_of(self.a).sign(self.a)


class Cast(Function):
    """out = a converted to another dtype; the gradient is converted back."""

    def forward(self, a, dtype: Any):
        self.src = a.dtype
        return a.astype(dtype)

    def backward(self, g):
        return g.astype(self.src)


class MatMul(Function):
    """out = a @ b; da = g @ bᵀ, db = aᵀ @ g (1-D operands as in NumPy)."""

    def forward(self, a, b):
        if a.ndim == 0 or b.ndim == 0:
            raise ValueError("matmul needs operands with at least one dimension; use * for scalars")
        if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
            raise ValueError(
                f"matmul shapes {tuple(a.shape)} @ {tuple(b.shape)} do not fit: the last "
                f"dimension of the left ({a.shape[-1]}) must equal the "
                f"{'second-to-last' if b.ndim > 1 else 'only'} dimension of the right"
            )
        self.a, self.b = a, b
        return a @ b

    def backward(self, g):
        a, b = self.a, self.b
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if b.ndim == 1:
            g2 = g2[..., None]
        if a.ndim == 1:
            g2 = g2[..., None, :]
        ga = gb = None
        if self.needs[0]:
            ga = g2 @ b2.swapaxes(-1, -2)
            if a.ndim == 1:
                ga = ga[..., 0, :]
        if self.needs[1]:
            gb = a2.swapaxes(-1, -2) @ g2
            if b.ndim == 1:
                gb = gb[..., 0]
        return ga, gb


# --- reductions -------------------------------------------------------------------------


def _expand(g, shape, axis, keepdims):
    """Broadcast a reduced gradient back to ``shape``."""
    if axis is not None and not keepdims:
        axes = (axis,) if isinstance(axis, int) else axis
        g = xp_of(g).expand_dims(g, tuple(ax % len(shape) for ax in axes))
    return xp_of(g).broadcast_to(g, shape)


class Sum(Function):
    """out = Σ a over axis; da = g broadcast back (the add gate, many inputs)."""

    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        return a.sum(axis=axis, keepdims=keepdims)

    def backward(self, g):
        return _expand(g, self.shape, self.axis, self.keepdims)


class Mean(Function):
    """out = (1/n) Σ a over axis; da = g / n broadcast back."""

    def forward(self, a, axis=None, keepdims=False):
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        out = a.mean(axis=axis, keepdims=keepdims)
        self.n = a.size // max(out.size, 1) if a.size else 1
        return out

    def backward(self, g):
        return _expand(g / self.n, self.shape, self.axis, self.keepdims)


class Max(Function):
    """out = max a over axis; the max gate routes g to the arg-max, 0 elsewhere.

    NOTE: on ties the whole gradient goes to the first arg-max (PyTorch's ``max(dim)``).
    """

    def forward(self, a, axis=None, keepdims=False):
        if axis is not None and not isinstance(axis, int | np.integer):
            raise TypeError(f"max takes one axis (an int) or None, got {axis!r}")
        xp = xp_of(a)
        self.shape, self.axis, self.keepdims = a.shape, axis, keepdims
        if axis is None:
            self.idx = int(a.argmax())
            out = a.reshape(-1)[self.idx]
            return out.reshape((1,) * a.ndim) if keepdims else xp.asarray(out)
        self.idx = xp.expand_dims(a.argmax(axis=axis), axis)
        out = xp.take_along_axis(a, self.idx, axis=axis)
        return out if keepdims else out.squeeze(axis)

    def backward(self, g):
        xp = xp_of(g)
        if self.axis is None:
            out = xp.zeros(self.shape, dtype=g.dtype)
            out.reshape(-1)[self.idx] = g.reshape(())
            return out
        gk = g if self.keepdims else xp.expand_dims(g, self.axis)
        ax = self.axis % len(self.shape)
        positions = xp.arange(self.shape[ax]).reshape([-1 if i == ax else 1 for i in range(len(self.shape))])
        return (positions == self.idx) * gk  # one-hot along the axis: only the arg-max gets g


class Maximum(Function):
    """out = max(a, b) elementwise; g goes to the larger input (half to each on a tie)."""

    def forward(self, a, b):
        self.a, self.b = a, b
        return xp_of(a).maximum(a, b)

    def backward(self, g):
        a, b = self.a, self.b
        share = (a > b) + 0.5 * (a == b)
        ga = g * share if self.needs[0] else None
        gb = g * (1.0 - share) if self.needs[1] else None
        return ga, gb


# --- shape ------------------------------------------------------------------------------


class Reshape(Function):
    """out = a with another shape; da = g reshaped back."""

    def forward(self, a, shape):
        self.shape = a.shape
        try:
            return a.reshape(shape)
        except ValueError:
            raise ValueError(
                f"cannot reshape a tensor of shape {tuple(a.shape)} ({a.size} elements) into "
                f"{tuple(shape)}"
            ) from None

    def backward(self, g):
        return g.reshape(self.shape)


class Transpose(Function):
    """out = a with permuted axes; da = g with the inverse permutation."""

    def forward(self, a, axes=None):
        self.axes = axes
        return a.transpose(axes) if axes is not None else a.T

    def backward(self, g):
        if self.axes is None:
            return g.T
        return g.transpose(tuple(int(i) for i in np.argsort(self.axes)))


class GetItem(Function):
    """out = a[index]; da is g scattered back (summed where an index repeats)."""

    def forward(self, a, index):
        self.shape, self.index = a.shape, index
        return a[index]

    def backward(self, g):
        xp = xp_of(g)
        out = xp.zeros(self.shape, dtype=g.dtype)
        idx = self.index
        parts = idx if isinstance(idx, tuple) else (idx,)
        if any(hasattr(p, "shape") or isinstance(p, list) for p in parts):
            scatter_add(out, idx, g)  # advanced indexing may repeat an index
        else:
            out[idx] = g
        return out


# --- activations ------------------------------------------------------------------------


def _same_layout(g, saved) -> bool:
    """Whether g and the saved forward array are C-contiguous NumPy arrays of one shape (kernel-ready)."""
    return (isinstance(g, np.ndarray) and isinstance(saved, np.ndarray) and g.shape == saved.shape
            and g.flags.c_contiguous and saved.flags.c_contiguous and g.dtype.kind == "f")


def _fused_backward(name, g, out):
    """The gradient gx from the compiled one-pass kernel ``name``(g, out, gx), or None on the NumPy path."""
    k = cpu_kernels(g, out)
    if k is None or not _same_layout(g, out) or g.dtype != out.dtype:
        return None
    gx = np.empty_like(g)
    getattr(k, name)(g.reshape(-1), out.reshape(-1), gx.reshape(-1))
    return gx


class Sigmoid(Function):
    """out = σ(a) = 1 / (1 + e^-a); da = g * out * (1 - out) (at most g / 4).

    Fused and stable: e^-|a| never overflows, and σ of large negative a keeps full
    relative precision (computed as e^a / (1 + e^a)).
    """

    def forward(self, a):
        xp = xp_of(a)
        e = xp.exp(-abs(a))
        self.out = xp.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)
        return self.out

    def backward(self, g):
        out = self.out
        gx = _fused_backward("sigmoid_backward", g, out)
        return gx if gx is not None else g * (out * (1.0 - out))


class Tanh(Function):
    """out = tanh(a); da = g * (1 - out²)."""

    def forward(self, a):
        self.out = xp_of(a).tanh(a)
        return self.out

    def backward(self, g):
        gx = _fused_backward("tanh_backward", g, self.out)
        return gx if gx is not None else g * (1.0 - self.out * self.out)


class ReLU(Function):
    """out = max(0, a); da = g where a > 0, else 0.

    NOTE: the gradient at exactly 0 is 0, as in PyTorch.
    """

    def forward(self, a):
        k = cpu_kernels(a)
        if k is not None and a.flags.c_contiguous:
            out = np.empty_like(a)  # one compiled pass: NumPy's maximum with a Python 0 is a slow loop
            k.relu_forward(a.reshape(-1), out.reshape(-1))
        else:
            out = xp_of(a).maximum(a, 0)
        if self.needs[0]:
            self.out = out
        return out

    CUDA_BACKWARD = ("T g, T out", "T gx", "gx = out > (T)0 ? g : (T)0", "fcnet_relu_backward")

    def backward(self, g):
        kernel = fused_kernel(g, *self.CUDA_BACKWARD)  # one launch on a GPU instead of two
        if kernel is not None:
            return kernel(g, self.out)
        k = cpu_kernels(g, self.out)
        if k is not None and g.shape == self.out.shape and g.dtype == self.out.dtype and g.flags.c_contiguous:
            gx = np.empty_like(g)  # one compiled pass instead of a comparison and a product
            k.relu_backward(g.reshape(-1), self.out.reshape(-1), gx.reshape(-1))
            return gx
        return g * (self.out > 0)


class LeakyReLU(Function):
    """out = a if a > 0 else α a; da = g if a > 0 else α g (α at 0, as PyTorch)."""

    def forward(self, a, negative_slope=0.01):
        self.pos = a > 0
        self.slope = negative_slope
        return xp_of(a).where(self.pos, a, a * negative_slope)

    def backward(self, g):
        k = cpu_kernels(g)
        if k is not None and _same_layout(g, self.pos) and isinstance(self.slope, (int, float)):
            gx = np.empty_like(g)
            k.leaky_relu_backward(g.reshape(-1), self.pos.reshape(-1), g.dtype.type(self.slope), gx.reshape(-1))
            return gx
        return xp_of(g).where(self.pos, g, g * self.slope)


# --- fused gates for speed and numerics -------------------------------------------------


class Linear(Function):
    """out = x @ Wᵀ + b with W of shape (out, in), b of shape (out,).

    dx = g @ W, dW = gᵀ @ x, db = Σ_N g.  Fused: one matmul and one in-place add forward.
    """

    def forward(self, x, w, b=None):
        if x.shape[-1] != w.shape[1]:
            raise ValueError(
                f"linear layer expects inputs with {w.shape[1]} features, got shape {tuple(x.shape)}: "
                f"flatten images to (N, {w.shape[1]}) first"
            )
        self.x, self.w = x, w
        out = x @ w.T
        if b is not None:
            k = cpu_kernels(out, b)
            if k is not None and out.ndim == 2 and b.dtype == out.dtype and out.flags.c_contiguous:
                k.bias_activation(out, b, 0, out.dtype.type(0))  # out += b, one compiled pass
            else:
                out += b
        return out

    def backward(self, g):
        x, w = self.x, self.w
        gx = g @ w if self.needs[0] else None
        if self.needs[1]:
            if x.ndim == 2:
                gw = g.T @ x
            else:  # fold leading dimensions into the batch
                gw = g.reshape(-1, g.shape[-1]).T @ x.reshape(-1, x.shape[-1])
        else:
            gw = None
        gb = None
        if len(self.needs) > 2 and self.needs[2]:
            gb = g.reshape(-1, g.shape[-1]).sum(axis=0)
        return gx, gw, gb


class LinearReLU(Function):
    """out = max(0, x Wᵀ + b) for x (N, in): the Linear and ReLU gates as one, in training.

    dz = g where out > 0, else 0; dx = dz W, dW = dzᵀ x, db = Σ_N dz.  The same operations in
    the same order as the two gates (so the same bits), with one fewer gate, array and pass
    each way: the bias and the ReLU are applied in place on the product, and the ReLU's
    backward and the bias gradient are one pass.
    """

    def forward(self, x, w, b):
        if x.shape[-1] != w.shape[1]:
            raise ValueError(f"linear layer expects inputs with {w.shape[1]} features, got shape {tuple(x.shape)}")
        self.x, self.w = x, w
        out = x @ w.T
        k = cpu_kernels(out, b)
        if k is not None and out.ndim == 2 and b.dtype == out.dtype and out.flags.c_contiguous:
            k.bias_activation(out, b, 1, out.dtype.type(0))
        else:
            out += b
            xp_of(out).maximum(out, 0, out=out)
        self.out = out
        return out

    def backward(self, g):
        out = self.out
        k = cpu_kernels(g, out)
        if k is not None and _same_layout(g, out) and g.ndim == 2 and g.dtype == out.dtype:
            gz, gb = np.empty_like(g), np.empty(g.shape[1], g.dtype)
            k.relu_backward_bias(g, out, gz, gb)
        else:
            gz = g * (out > 0)
            gb = gz.sum(axis=0)
        gx = gz @ self.w if self.needs[0] else None
        gw = gz.T @ self.x if self.needs[1] else None
        return gx, gw, (gb if self.needs[2] else None)


class MeanSquaredError(Function):
    """L = (1/n) Σ (p - t)² over all n entries of p; dL/dp = g (1/n)(p - t) · 2, dL/dt is not taken.

    The Sub, Mul and Mean gates as one (t is a constant target of p's shape): the same operations
    in the same order — forward d = p - t, mean of d·d; backward u = (g/n)·d, then u + u as the
    copy gate sums the mul gate's two equal branches — so the same bits with two fewer gates.
    """

    def forward(self, p, t):
        self.d = p - t
        self.n = max(self.d.size, 1)
        return (self.d * self.d).mean()

    def backward(self, g):
        u = (g / self.n) * self.d
        return u + u, None


def _mean(a):
    """``a.mean()``, the same bits without ``np.mean``'s Python layers for a host float32/float64 vector.

    np.mean is add.reduce, then the sum divided by the count in float64 (for float32, too), cast back
    to the array's dtype: the same operations here, on Python floats (NumPy's mixed scalars are slow).
    """
    if type(a) is np.ndarray and a.ndim == 1 and a.size and a.dtype.char in "fd":
        return a.dtype.type(float(np.add.reduce(a)) / a.size)
    return a.mean()


class SoftmaxCrossEntropy(Function):
    """L_i = -log softmax(s_i)[y_i] = log Σ_j e^(s_ij) - s_iy; dL_i/ds_i = p_i - onehot(y_i).

    Exact where the naive form rounds to zero: with m = max_j s_j,
    log Σ_j e^(s_j) = m + log1p(Σ_{j≠argmax} e^(s_j - m)), so for scores [10, -100, -100]
    and y = 0 the loss is 2e^-110 ≈ 3.4e-48, not 0.  ``label_smoothing`` ε mixes the
    one-hot target with the uniform one: q = (1-ε) onehot + ε/C.
    """

    # On a GPU each direction is one kernel (one thread per row, then per entry) instead of ~20
    # launches; the arithmetic is the same as the NumPy form below.
    CUDA_FORWARD = (
        "raw T s, raw int64 t, int32 C, float64 ls",
        "T loss, raw T p",
        """
        const long base = (long)i * C;
        T m = s[base]; int arg = 0; T total = 0;
        for (int j = 1; j < C; ++j) { if (s[base + j] > m) { m = s[base + j]; arg = j; } }
        T rest = 0;
        for (int j = 0; j < C; ++j) {
            T e = exp(s[base + j] - m);
            if (j != arg) rest += e;
            p[base + j] = e;
            total += s[base + j];
        }
        for (int j = 0; j < C; ++j) p[base + j] = p[base + j] / ((T)1 + rest);
        T l1p = log1p(rest);
        T l = (m - s[base + t[i]]) + l1p;
        if (ls != 0.0) l = (T)(1.0 - ls) * l + (T)ls * ((m - total / (T)C) + l1p);
        loss = l;
        """,
        "fcnet_softmax_ce_forward",
    )
    CUDA_BACKWARD = (
        "T p, raw int64 t, int32 C, float64 ls, raw T gs, int32 per_row, float64 scale",
        "T grad",
        """
        const int row = i / C;
        T v = p - (T)(ls / C);
        if (i % C == t[row]) v -= (T)(1.0 - ls);
        grad = v * gs[per_row ? row : 0] * (T)scale;
        """,
        "fcnet_softmax_ce_backward",
    )

    def forward(self, s, targets, reduction="mean", label_smoothing=0.0, in_range=False):
        xp = xp_of(s)
        n, c = s.shape
        self.reduction, self.targets, self.eps = reduction, targets, label_smoothing
        self.n, self.c = n, c
        kernel = fused_kernel(s, *self.CUDA_FORWARD)
        k = None
        if kernel is None and s.dtype.kind == "f" and getattr(targets, "dtype", np.dtype(float)).kind in "iu":
            # out-of-range targets take the reference path, which indexes (and errs) as NumPy does;
            # ``in_range``: the caller has checked 0 <= targets < C already (F.cross_entropy)
            k = cpu_kernels(s) if n and (in_range or (0 <= targets.min() and targets.max() < c)) else None
        if kernel is not None:
            s = xp.ascontiguousarray(s)
            losses, p = xp.empty(n, dtype=s.dtype), xp.empty_like(s)
            kernel(s, xp.ascontiguousarray(targets), c, float(label_smoothing), losses, p)
            self.p = p
        elif k is not None:  # the CPU's compiled twin: one pass per row, the same formulas
            s = np.ascontiguousarray(s)
            losses, p = np.empty(n, dtype=s.dtype), np.empty_like(s)
            self.targets = targets = np.ascontiguousarray(targets, dtype=np.int64)
            k.softmax_ce_forward(s, targets, s.dtype.type(label_smoothing), losses, p)
            self.p = p
        else:
            rows = xp.arange(n)
            arg = s.argmax(axis=1)
            m = s[rows, arg]
            e = xp.exp(s - m[:, None])
            e[rows, arg] = 0.0  # the arg-max term is exactly 1: sum the others without cancellation
            rest = e.sum(axis=1)
            e[rows, arg] = 1.0
            log1p_rest = xp.log1p(rest)
            # (m - s_y) + log1p(rest), not lse - s_y: keeps losses far below 1 ulp of m exact
            losses = (m - s[rows, targets]) + log1p_rest
            if label_smoothing:
                uniform = (m - s.mean(axis=1)) + log1p_rest
                losses = (1.0 - label_smoothing) * losses + label_smoothing * uniform
            if self.needs[0]:
                e /= (1.0 + rest)[:, None]  # softmax probabilities, in place
                self.p = e
        if reduction == "mean":
            return _mean(losses)
        if reduction == "sum":
            return losses.sum()
        return losses

    def backward(self, g):
        xp = xp_of(g)
        kernel = fused_kernel(g, *self.CUDA_BACKWARD)
        if kernel is not None:
            per_row = self.reduction not in ("mean", "sum")
            gs = xp.ascontiguousarray(g.reshape(-1))
            scale = 1.0 / self.n if self.reduction == "mean" else 1.0
            return kernel(self.p, self.targets, self.c, float(self.eps), gs, int(per_row), scale), None
        k = cpu_kernels(self.p)
        if k is not None and self.reduction in ("mean", "sum"):
            f = self.p.dtype.type
            # the reference's scalars: g / n (or g) in the array's dtype, ls / C and 1 − ls
            scale = f(g / self.n) if self.reduction == "mean" else f(g)
            grad = np.empty_like(self.p)
            k.softmax_ce_backward(self.p, self.targets, f(self.eps / self.c), f(1.0 - self.eps), scale, grad)
            return grad, None
        grad = self.p.copy()
        rows = xp.arange(self.n)
        if self.eps:
            grad -= self.eps / self.c
        grad[rows, self.targets] -= 1.0 - self.eps
        if self.reduction == "mean":
            grad *= g / self.n
        elif self.reduction == "sum":
            grad *= g
        else:
            grad *= g[:, None]
        return grad, None


class BatchNorm(Function):
    """Training-mode batch norm (slide 139) over the batch axis of x (N, D).

    μ = mean_N x, σ² = mean_N (x-μ)², x̂ = (x-μ)/√(σ²+eps), y = γ x̂ + β.
    dx = (γ/√(σ²+eps)) (g - mean(g) - x̂ mean(g x̂)); dγ = Σ g x̂; dβ = Σ g.
    """

    def forward(self, x, gamma, beta, eps=1e-5):
        xp = xp_of(x)
        k = cpu_kernels(x, gamma, beta)
        if k is not None and x.ndim == 2 and x.dtype == gamma.dtype == beta.dtype and x.flags.c_contiguous:
            # one compiled kernel instead of ~10 NumPy passes and their temporaries
            y, self.xhat = np.empty_like(x), np.empty_like(x)
            self.mean, self.var, self.invstd = (np.empty(x.shape[1], x.dtype) for _ in range(3))
            k.batch_norm_forward(x, gamma, beta, x.dtype.type(eps), y, self.xhat, self.mean, self.var,
                                 self.invstd)
            self.gamma = gamma
            return y
        self.mean = x.mean(axis=0)
        xc = x - self.mean
        self.var = (xc * xc).mean(axis=0)
        self.invstd = 1.0 / xp.sqrt(self.var + eps)
        xc *= self.invstd
        self.xhat, self.gamma = xc, gamma
        return xc * gamma + beta

    def backward(self, g):
        xhat = self.xhat
        k = cpu_kernels(g, xhat, self.gamma)
        if k is not None and _same_layout(g, xhat) and g.ndim == 2 and g.dtype == xhat.dtype == self.gamma.dtype:
            gx = np.empty_like(g)
            ggamma, gbeta = np.empty_like(self.gamma), np.empty_like(self.gamma)
            k.batch_norm_backward(g, xhat, self.gamma, self.invstd, gx, ggamma, gbeta, bool(self.needs[0]))
            return (gx if self.needs[0] else None), ggamma, gbeta
        gbeta = g.sum(axis=0)
        ggamma = (g * xhat).sum(axis=0)
        gx = None
        if self.needs[0]:
            n = g.shape[0]
            gx = (self.gamma * self.invstd / n) * (n * g - gbeta - xhat * ggamma)
        return gx, ggamma, gbeta
