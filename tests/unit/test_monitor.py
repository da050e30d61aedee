"""The monitor's diagnoses: each lecture failure mode gives a warning naming its cause and fix."""

from __future__ import annotations

import numpy as np

import fcnet
from fcnet import nn
from fcnet.train.monitor import diagnose, grad_norms, gradient_warnings


def _batch(n=256, d=64, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, 10, n)


def test_healthy_net_gets_no_warning():
    x, y = _batch()
    net = nn.FullyConnectedNet(64, [128, 64], 10, rng=0)
    assert diagnose(net, nn.CrossEntropyLoss(), x, y, 10) == []


def test_saturated_tanh_and_bad_initial_loss():
    x, y = _batch()
    net = nn.FullyConnectedNet(64, [256, 256], 10, activation="tanh", init="normal", std=1.0, rng=0)
    msgs = diagnose(net, nn.CrossEntropyLoss(), x, y, 10)
    assert any("saturated" in m and "xavier" in m for m in msgs)
    assert any("initial loss" in m and "ln C" in m for m in msgs)


def test_dead_relus():
    x, y = _batch()
    net = nn.FullyConnectedNet(64, [128], 10, rng=0)
    net[0].bias.data[...] = -100.0
    msgs = diagnose(net, nn.CrossEntropyLoss(), x, y, 10)
    assert any("dead" in m for m in msgs)


def test_hinge_expectation_is_c_minus_1():
    x, y = _batch()
    net = nn.FullyConnectedNet(64, [128], 10, init="normal", std=1.0, rng=0)
    msgs = diagnose(net, nn.MulticlassHingeLoss(), x, y, 10)
    assert any("C − 1" in m for m in msgs)


def test_vanishing_and_exploding_gradients():
    x, y = _batch()
    fcnet.manual_seed(0)
    deep = nn.FullyConnectedNet(64, [64] * 8, 10, activation="sigmoid", init="xavier")
    nn.CrossEntropyLoss()(deep(fcnet.tensor(x)), y).backward()
    msgs = gradient_warnings(grad_norms(deep))
    assert any("vanishing" in m and "relu" in m for m in msgs)
    assert any("exploding" in m and "--clip-norm" in m for m in gradient_warnings({"0": 5e3, "2": 1e4}))
    assert gradient_warnings({"0": 1.0, "2": 2.0}) == []
