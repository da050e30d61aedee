"""Reference solution: softmax cross-entropy and the multiclass hinge loss (slides 52-64)."""

import numpy as np


def softmax(s):
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def softmax_ce(s, y):
    n = s.shape[0]
    rows = np.arange(n)
    m = s.max(axis=1, keepdims=True)
    e = np.exp(s - m)
    p = e / e.sum(axis=1, keepdims=True)
    e[rows, s.argmax(axis=1)] = 0.0  # the arg-max term is exactly 1: sum the others alone
    losses = (m[:, 0] - s[rows, y]) + np.log1p(e.sum(axis=1))
    ds = p.copy()
    ds[rows, y] -= 1.0
    return losses.mean(), ds / n


def hinge(s, y):
    n = s.shape[0]
    rows = np.arange(n)
    margins = np.maximum(0.0, s - s[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    ds = (margins > 0).astype(float)
    ds[rows, y] = -ds.sum(axis=1)
    return margins.sum() / n, ds / n
