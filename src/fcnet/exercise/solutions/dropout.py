"""Reference solution: dropout in the slide's form and the inverted form (slides 155-158)."""

import numpy as np  # noqa: F401 - as in the student file


def dropout_forward(x, p, train, rng, inverted=True):
    if not train:
        return (x.copy() if inverted else x * (1.0 - p)), None
    mask = rng.random(x.shape) >= p
    out = x * mask
    if inverted:
        out = out / (1.0 - p)
    return out, mask


def dropout_backward(g, mask, p, inverted=True):
    dx = g * mask
    return dx / (1.0 - p) if inverted else dx
