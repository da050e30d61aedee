"""Reference solution: batch normalisation, training and test modes (slides 137-141)."""

import numpy as np


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    xhat = (x - mean) / np.sqrt(var + eps)
    return gamma * xhat + beta, mean, var


def batchnorm_test(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta


def batchnorm_backward(g, x, gamma, eps=1e-5):
    mean = x.mean(axis=0)
    var = ((x - mean) ** 2).mean(axis=0)
    invstd = 1.0 / np.sqrt(var + eps)
    xhat = (x - mean) * invstd
    dgamma = (g * xhat).sum(axis=0)
    dbeta = g.sum(axis=0)
    dx = gamma * invstd * (g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0))
    return dx, dgamma, dbeta
