"""What the per-step speed-ups must keep: errors, graphs and numbers as before them."""

from __future__ import annotations

import numpy as np
import pytest

import fcnet
from fcnet import nn
from fcnet.data.loader import batches


@pytest.mark.parametrize("reuse", [False, True])
def test_batches_with_fewer_rows_in_x_than_labels_raise_as_before(reuse):
    x, y = np.arange(10.0).reshape(5, 2), np.arange(8)  # a permutation of 8 indexes past x's 5 rows
    with pytest.raises(IndexError, match="out of bounds"):
        list(batches(x, y, 4, np.random.default_rng(0), reuse=reuse))


def test_batches_gather_the_same_rows_with_and_without_the_buffer():
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, 3)).astype(np.float32), np.arange(50)
    plain = [(a.copy(), b) for a, b in batches(x, y, 8, np.random.default_rng(1))]
    reused = [(a.copy(), b) for a, b in batches(x, y, 8, np.random.default_rng(1), reuse=True)]
    for (a, b), (c, d) in zip(plain, reused, strict=True):
        assert np.array_equal(a, c) and np.array_equal(b, d) and np.array_equal(a, x[b])


def test_a_truthy_requires_grad_records_the_graph():
    x = fcnet.Tensor(np.array([1.0, 2.0])).requires_grad_(2)
    y = (x * 3.0).sum()
    assert y.requires_grad
    y.backward()
    assert x.grad.tolist() == [3.0, 3.0]


def test_a_leaky_slope_held_as_a_buffer_fuses_to_the_same_numbers():
    lin, act = nn.Linear(3, 4, rng=0), nn.LeakyReLU(0.3)
    del act.__dict__["negative_slope"]
    act.register_buffer("negative_slope", 0.3)
    x = fcnet.Tensor(-5 * np.ones((2, 3), np.float32))
    with fcnet.no_grad():
        fused = nn.Sequential(lin, act)(x).numpy()
        unfused = act(lin(x)).numpy()
    assert np.array_equal(fused, unfused)
