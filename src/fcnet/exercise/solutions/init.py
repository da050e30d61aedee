"""Reference solution: Xavier and He initialisation (slides 131-135)."""

import numpy as np


def xavier_init(n_in, n_out, rng):
    return rng.standard_normal((n_out, n_in)) * np.sqrt(1.0 / n_in)


def he_init(n_in, n_out, rng):
    return rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)
