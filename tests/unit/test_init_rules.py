"""Each init name draws the variance its formula says; Glorot's is PyTorch's ``xavier_uniform_``."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fcnet import nn
from fcnet.nn import init
from fcnet.train.options import OPTIONS

# name -> Var(w) for W of shape (out, in)
VARIANCE = {
    "he": lambda n_in, n_out: 2.0 / n_in,
    "xavier": lambda n_in, n_out: 1.0 / n_in,
    "glorot": lambda n_in, n_out: 2.0 / (n_in + n_out),
    "normal": lambda n_in, n_out: 0.01 ** 2,
}


def test_every_name_has_a_rule_and_the_cli_offers_each():
    assert set(init.INITS) == {*VARIANCE, "zeros"}
    assert tuple(OPTIONS["init"].choices) == init.INITS


@settings(max_examples=30, deadline=None)
@given(name=st.sampled_from(sorted(VARIANCE)), n_in=st.integers(40, 400), n_out=st.integers(40, 400),
       seed=st.integers(0, 2 ** 32 - 1))
def test_each_init_draws_its_variance(name, n_in, n_out, seed):
    w = nn.Linear(n_in, n_out, init=name, rng=seed, dtype=np.float64).weight.numpy()
    var = VARIANCE[name](n_in, n_out)
    n = w.size
    # the sample variance of n draws has a relative standard error ≤ √(2/n) (normal) and less for uniform
    assert abs(w.var() / var - 1) < 6 * math.sqrt(2 / n)
    assert abs(w.mean()) < 6 * math.sqrt(var / n)


@pytest.mark.parametrize("shape", [(100, 300), (10, 64), (512, 784)])
def test_glorot_is_pytorchs_xavier_uniform(shape):
    torch = pytest.importorskip("torch")
    n_out, n_in = shape
    w = nn.Linear(n_in, n_out, init="glorot", rng=0, dtype=np.float64).weight.numpy()
    t = torch.empty(shape, dtype=torch.float64)
    torch.manual_seed(0)
    torch.nn.init.xavier_uniform_(t)
    bound = math.sqrt(6.0 / (n_in + n_out))
    # both are U(-a, a) with the same a: inside it, and reaching near its edges
    for sample in (w, t.numpy()):
        assert np.abs(sample).max() <= bound
        assert np.abs(sample).max() > bound * (1 - 20 / sample.size)
    assert abs(w.var() / t.numpy().var() - 1) < 12 * math.sqrt(1 / w.size)


def test_glorot_is_not_the_lectures_xavier():
    # the lecture's Xavier keeps only the fan-in; with N_out ≫ N_in the two differ by far
    g = nn.Linear(10, 1000, init="glorot", rng=1, dtype=np.float64).weight.numpy().var()
    x = nn.Linear(10, 1000, init="xavier", rng=1, dtype=np.float64).weight.numpy().var()
    assert g == pytest.approx(2 / 1010, rel=0.05)
    assert x == pytest.approx(1 / 10, rel=0.05)


def test_fan_out_needs_a_matrix():
    with pytest.raises(ValueError, match="fan-out needs a weight of at least 2 dimensions"):
        init.fan_out(nn.Linear(3, 2).bias)
