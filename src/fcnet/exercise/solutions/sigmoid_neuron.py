"""Reference solution: the sigmoid neuron of slides 70-77."""

import numpy as np


def neuron_forward(w, x):
    s = np.dot(w[:-1], x) + w[-1]
    return 1.0 / (1.0 + np.exp(-s))


def neuron_backward(w, x):
    s = np.dot(w[:-1], x) + w[-1]
    f = 1.0 / (1.0 + np.exp(-s))
    ds = (1.0 - f) * f
    dw = np.append(ds * x, ds)
    dx = ds * w[:-1]
    return dw, dx
