"""Reference solution: activation functions and their local gradients (slides 82-86)."""

import numpy as np


def relu(x):
    return np.maximum(x, 0.0)


def relu_backward(g, x):
    return g * (x > 0)


def leaky_relu(x, alpha=0.01):
    return np.where(x > 0, x, alpha * x)


def leaky_relu_backward(g, x, alpha=0.01):
    return np.where(x > 0, g, alpha * g)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def sigmoid_backward(g, x):
    s = sigmoid(x)
    return g * s * (1.0 - s)


def tanh(x):
    return np.tanh(x)


def tanh_backward(g, x):
    t = np.tanh(x)
    return g * (1.0 - t * t)
