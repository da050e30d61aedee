"""The Numba twins of the reference kernels: one compiled pass over memory each.

Each function repeats, operation for operation and in the same order, the arithmetic of its
NumPy reference in ``reference.py`` (the scalars arrive already cast to the arrays' dtype, as
NumPy casts a Python float beside a float32 array), and is compiled without ``fastmath``:
so the optimizer updates give the same bits as the NumPy path, only in one pass instead of
five to twelve.  Every loop is serial and releases the GIL (``nogil``): the backend runs large
ones in chunks on its own thread pool, whose threads sleep between steps instead of spinning
against OpenBLAS's (see docs/design.md, "Threads").

Compiled lazily on first call and cached on disk (``cache=True``), one specialisation per dtype.
"""

from __future__ import annotations

import math

from numba import njit

_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "boundscheck": False}

# --- optimizer updates (flat, C-contiguous views of one parameter) ---------------------------


@njit(**_JIT)
def sgd(p, g, lr, wd):  # pragma: no cover - compiled
    """SGD: θ ← θ − ε G, G = g + λθ when λ ≠ 0."""
    for i in range(p.size):
        gi = g[i]
        if wd != 0:
            gi = p[i] * wd + gi
        p[i] = p[i] - gi * lr


@njit(**_JIT)
def momentum(p, g, v, lr, mu, wd, lecture):  # pragma: no cover - compiled
    """Momentum: v ← μ(v − G) + G (the lecture's) or v ← μ v + G (PyTorch's); θ ← θ − ε v."""
    for i in range(p.size):
        gi = g[i]
        if wd != 0:
            gi = p[i] * wd + gi
        if lecture:
            vi = (v[i] - gi) * mu + gi
        else:
            vi = v[i] * mu + gi
        v[i] = vi
        p[i] = p[i] - vi * lr


@njit(**_JIT)
def momentum_nesterov(p, g, v, lr, mu, wd):  # pragma: no cover - compiled
    """Nesterov momentum (PyTorch's): v ← μ v + G; θ ← θ − ε (G + μ v)."""
    for i in range(p.size):
        gi = g[i]
        if wd != 0:
            gi = p[i] * wd + gi
        vi = v[i] * mu + gi
        v[i] = vi
        p[i] = p[i] - (vi * mu + gi) * lr


@njit(**_JIT)
def rmsprop(p, g, r, lr, rho, eps, wd):  # pragma: no cover - compiled
    """RMSProp: r ← ρ(r − G²) + G²; θ ← θ − ε G / (√r + δ)."""
    for i in range(p.size):
        gi = g[i]
        if wd != 0:
            gi = p[i] * wd + gi
        g2 = gi * gi
        ri = (r[i] - g2) * rho + g2
        r[i] = ri
        p[i] = p[i] - (gi / (math.sqrt(ri) + eps)) * lr


@njit(**_JIT)
def adam(p, g, v, r, mu, rho, shrink, wd, add, step, inside):  # pragma: no cover - compiled
    """Adam: v ← μ(v − G) + G; r ← ρ(r − G²) + G²; θ ← θ − s v / √(r + a) (inside) or / (√r + a).

    ``s``, ``a`` are the folded scalars of the reference (ε √c2 / c1 and δ c2 or δ √c2);
    ``shrink`` is 1 − ελ for decoupled decay (1 when none), ``wd`` λ for coupled decay (0 when none).
    """
    for i in range(p.size):
        pi = p[i]
        if shrink != 1:
            pi = pi * shrink
        gi = g[i]
        if wd != 0:
            gi = pi * wd + gi
        vi = (v[i] - gi) * mu + gi
        g2 = gi * gi
        ri = (r[i] - g2) * rho + g2
        v[i] = vi
        r[i] = ri
        if inside:
            d = math.sqrt(ri + add)
        else:
            d = math.sqrt(ri) + add
        p[i] = pi - (vi / d) * step


# --- activations and losses ----------------------------------------------------------------


@njit(**_JIT)
def relu_backward(g, out, gx):  # pragma: no cover - compiled
    """ReLU backward: gx = g where out > 0, else 0 (one pass, no boolean temporary)."""
    zero = g.dtype.type(0)
    for i in range(g.size):
        gx[i] = g[i] if out[i] > 0 else zero


@njit(**_JIT)
def leaky_relu_backward(g, pos, slope, gx):  # pragma: no cover - compiled
    """Leaky ReLU backward: gx = g where a > 0, else α g (one pass)."""
    for i in range(g.size):
        gx[i] = g[i] if pos[i] else g[i] * slope


@njit(**_JIT)
def sigmoid_backward(g, out, gx):  # pragma: no cover - compiled
    """Sigmoid backward: gx = g · (σ (1 - σ)) from the saved output σ (one pass)."""
    one = g.dtype.type(1)
    for i in range(g.size):
        o = out[i]
        gx[i] = g[i] * (o * (one - o))


@njit(**_JIT)
def tanh_backward(g, out, gx):  # pragma: no cover - compiled
    """Tanh backward: gx = g · (1 - tanh²) from the saved output (one pass)."""
    one = g.dtype.type(1)
    for i in range(g.size):
        o = out[i]
        gx[i] = g[i] * (one - o * o)


@njit(**_JIT)
def bias_activation(out, b, kind, slope):  # pragma: no cover - compiled
    """In place on the GEMM output: out = act(out + b), one pass over (N, C).

    ``kind``: 0 none, 1 ReLU, 2 leaky ReLU (slope α), 3 sigmoid, 4 tanh; the arithmetic of
    each is that of its gate's NumPy forward.
    """
    zero = out.dtype.type(0)
    one = out.dtype.type(1)
    n, c = out.shape
    for i in range(n):
        for j in range(c):
            v = out[i, j] + b[j]
            if kind == 1:
                v = zero if v <= zero else v
            elif kind == 2:
                v = v if v > zero else v * slope
            elif kind == 3:
                e = math.exp(-abs(v))
                v = one / (one + e) if v >= zero else e / (one + e)
            elif kind == 4:
                v = math.tanh(v)
            out[i, j] = v


@njit(**_JIT)
def relu_backward_bias(g, out, gz, gb):  # pragma: no cover - compiled
    """Linear + ReLU backward's elementwise part in one pass over (N, C): gz = g where out > 0, else 0,
    and db = Σ_N gz (summed row after row, as NumPy's axis-0 sum).
    """
    zero = g.dtype.type(0)
    n, c = g.shape
    for j in range(c):
        gb[j] = zero
    for i in range(n):
        for j in range(c):
            v = g[i, j] if out[i, j] > zero else zero
            gz[i, j] = v
            gb[j] += v


@njit(**_JIT)
def relu_forward(a, out):  # pragma: no cover - compiled
    """ReLU forward: out = max(a, 0), as NumPy's maximum: NaN stays NaN, -0 becomes +0."""
    zero = a.dtype.type(0)
    for i in range(a.size):
        out[i] = zero if a[i] <= zero else a[i]


@njit(**_JIT)
def softmax_ce_forward(s, t, ls, losses, p):  # pragma: no cover - compiled
    """Softmax-cross-entropy forward, per row: L = (m − s_y) + log1p(rest), p = e^(s − m) / (1 + rest).

    m = max_j s_j, rest = Σ_{j≠argmax} e^(s_j − m); L is mixed with the uniform target's loss
    when the label smoothing ``ls`` ≠ 0.
    """
    n, c = s.shape
    one = s.dtype.type(1)
    for i in range(n):
        arg = 0
        m = s[i, 0]
        for j in range(1, c):
            if s[i, j] > m:
                m = s[i, j]
                arg = j
        rest = s.dtype.type(0)
        total = s.dtype.type(0)
        for j in range(c):
            e = math.exp(s[i, j] - m)
            p[i, j] = e
            total += s[i, j]
            if j != arg:
                rest += e
        p[i, arg] = one
        denom = one + rest
        for j in range(c):
            p[i, j] = p[i, j] / denom
        l1p = math.log1p(rest)
        loss = (m - s[i, t[i]]) + l1p
        if ls != 0:
            loss = (one - ls) * loss + ls * ((m - total / s.dtype.type(c)) + l1p)
        losses[i] = loss


@njit(**_JIT)
def softmax_ce_backward(p, t, off, hit, scale, grad):  # pragma: no cover - compiled
    """Softmax-cross-entropy backward: grad = (p − q) · scale, q = (1 − ls) onehot(y) + ls / C.

    ``off`` is ls / C and ``hit`` 1 − ls, in the arrays' dtype.
    """
    n, c = p.shape
    for i in range(n):
        y = t[i]
        for j in range(c):
            d = p[i, j] - off
            if j == y:
                d = d - hit
            grad[i, j] = d * scale


# --- batch norm and dropout ----------------------------------------------------------------


@njit(**_JIT)
def batch_norm_forward(x, gamma, beta, eps, y, xhat, mean, var, invstd):  # pragma: no cover - compiled
    """Batch norm forward over x (N, D), the NumPy gate's arithmetic without its temporaries.

    μ = Σ_N x / N, σ² = Σ_N (x-μ)² / N (sums row after row, as NumPy's axis-0 sum),
    1/√(σ²+eps), x̂ = (x-μ)/√(σ²+eps), y = γ x̂ + β; writes y, x̂, μ, σ², 1/√(σ²+eps).
    """
    n, d = x.shape
    nf = x.dtype.type(n)
    one = x.dtype.type(1)
    for j in range(d):
        mean[j] = 0
        var[j] = 0
    for i in range(n):
        for j in range(d):
            mean[j] += x[i, j]
    for j in range(d):
        mean[j] = mean[j] / nf
    for i in range(n):
        for j in range(d):
            c = x[i, j] - mean[j]
            xhat[i, j] = c
            var[j] += c * c
    for j in range(d):
        var[j] = var[j] / nf
        invstd[j] = one / math.sqrt(var[j] + eps)
    for i in range(n):
        for j in range(d):
            h = xhat[i, j] * invstd[j]
            xhat[i, j] = h
            y[i, j] = h * gamma[j] + beta[j]


@njit(**_JIT)
def batch_norm_backward(g, xhat, gamma, invstd, gx, ggamma, gbeta, want_gx):  # pragma: no cover - compiled
    """Batch norm backward: dβ = Σ_N g, dγ = Σ_N g x̂, dx = (γ/√(σ²+eps)/N) (N g - dβ - x̂ dγ)."""
    n, d = g.shape
    nf = g.dtype.type(n)
    for j in range(d):
        gbeta[j] = 0
        ggamma[j] = 0
    for i in range(n):
        for j in range(d):
            gbeta[j] += g[i, j]
            ggamma[j] += g[i, j] * xhat[i, j]
    if want_gx:
        for i in range(n):
            for j in range(d):
                c = gamma[j] * invstd[j] / nf
                gx[i, j] = c * ((nf * g[i, j] - gbeta[j]) - xhat[i, j] * ggamma[j])


@njit(**_JIT)
def dropout_mask(u, p, scale, mask):  # pragma: no cover - compiled
    """Inverted dropout's mask in one pass: 1/(1-p) where the uniform draw u ≥ p, else 0."""
    zero = mask.dtype.type(0)
    for i in range(u.size):
        mask[i] = scale if u[i] >= p else zero
