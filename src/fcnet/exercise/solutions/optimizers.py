"""Reference solution: one step of each optimizer (slides 92-122)."""

import numpy as np


def sgd_step(theta, g, lr):
    return theta - lr * g


def momentum_step(theta, g, v, lr, mu):
    v = mu * v + (1.0 - mu) * g
    return theta - lr * v, v


def rmsprop_step(theta, g, r, lr, rho, eps):
    r = rho * r + (1.0 - rho) * g * g
    return theta - lr * g / (np.sqrt(r) + eps), r


def adagrad_step(theta, g, r, lr, eps):
    r = r + g * g
    return theta - lr * g / np.sqrt(r + eps), r


def adam_step(theta, g, v, r, t, lr, mu, rho, eps, bias_correction=True):
    v = mu * v + (1.0 - mu) * g
    r = rho * r + (1.0 - rho) * g * g
    if bias_correction:
        v_hat = v / (1.0 - mu**t)
        r_hat = r / (1.0 - rho**t)
    else:
        v_hat, r_hat = v, r
    return theta - lr * v_hat / np.sqrt(r_hat + eps), v, r
