"""Issue-3 claims of the lecture: initialisation tables, symmetry, dropout, overfitting, gradcheck."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.datasets import load_digits

import fcnet
import fcnet.nn as nn
import fcnet.optim as optim
from fcnet.lab.init import activation_stats

SLIDE_128 = [0.214021, 0.047655, 0.010683, 0.002390, 0.000532, 0.000119, 0.000027, 0.000006]


def test_small_normal_init_vanishes_as_on_slide_128():
    stats = activation_stats("normal", "tanh", std=0.01)
    for ours, slide in zip(stats.stds, SLIDE_128, strict=False):
        assert ours == pytest.approx(slide, rel=0.10)
    assert stats.stds[-1] < 1e-6


def test_unit_normal_init_saturates_tanh_as_on_slide_130():
    stats = activation_stats("normal", "tanh", std=1.0)
    for s in stats.stds:
        assert s == pytest.approx(0.98, abs=0.01)


def test_xavier_keeps_tanh_alive():
    stats = activation_stats("xavier", "tanh")
    assert min(stats.stds) > 0.2 and max(stats.stds) < 0.7
    assert stats.stds[-1] / stats.stds[0] > 0.3


def test_xavier_relu_decays_and_he_relu_holds():
    xav = activation_stats("xavier", "relu").stds
    he = activation_stats("he", "relu").stds
    assert xav[-1] < xav[0] / 10  # halves in variance each layer
    assert max(he) / min(he) < 2.0


def _digits(n=None, seed=0):
    d = load_digits()
    x = (d.data / 16.0).astype(np.float64)
    y = d.target
    if n is not None:
        idx = np.random.default_rng(seed).permutation(len(y))[:n]
        x, y = x[idx], y[idx]
    return x, y


def test_zero_init_keeps_hidden_units_identical():
    x, y = _digits(100)
    for init, same in [("zeros", True), ("he", False)]:
        net = nn.FullyConnectedNet(64, [16], 10, activation="tanh", init=init, dtype=np.float64, rng=0)
        if init == "zeros":
            # a zero last layer keeps every gradient zero; symmetry needs only equal hidden rows
            net[0].weight.data[...] = 0.1
        opt = optim.SGD(net.parameters(), lr=0.5)
        for _ in range(20):
            opt.zero_grad()
            nn.CrossEntropyLoss()(net(fcnet.tensor(x)), y).backward()
            opt.step()
        w = net[0].weight.numpy()
        identical = np.allclose(w, w[0:1], atol=1e-12)
        assert identical is same


@pytest.mark.parametrize("opt_name,lr", [("sgd", 0.5), ("momentum", 0.5), ("rmsprop", 0.01),
                                         ("adagrad", 0.05), ("adam", 0.01)])
def test_two_layer_net_overfits_50_samples(opt_name, lr):
    x, y = _digits(50, seed=1)
    net = nn.FullyConnectedNet(64, [100], 10, rng=0)
    opt = optim.OPTIMIZERS[opt_name](net.parameters(), lr=lr)
    xt = fcnet.tensor(x.astype(np.float32))
    for _ in range(300):
        opt.zero_grad()
        nn.CrossEntropyLoss()(net(xt), y).backward()
        opt.step()
    with fcnet.no_grad():
        acc = (net(xt).numpy().argmax(1) == y).mean()
    assert acc == 1.0


def test_gradcheck_small_net_with_batchnorm_dropout_both_losses():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, 5))
    y = np.array([0, 1, 2, 1, 0, 2])
    mask = (rng.random((6, 4)) > 0.3).astype(np.float64)  # a fixed dropout mask
    net = nn.FullyConnectedNet(5, [4], 3, batchnorm=True, dropout=0.3, dtype=np.float64, rng=1)
    F = nn.functional

    def make(loss):
        def fn(xx, w0, b0, gamma, beta, w1, b1):
            h = F.batch_norm(F.linear(xx, w0, b0), gamma, beta).relu()
            return loss(F.linear(F.dropout(h, 0.3, mask=mask), w1, b1), y)
        return fn

    params = [p.numpy() for p in net.parameters()]
    for loss in (nn.CrossEntropyLoss(), nn.MulticlassHingeLoss()):
        rep = fcnet.gradcheck(make(loss), [x, *params])
        assert rep, str(rep)


def test_l2_penalty_only_on_weights():
    net = nn.FullyConnectedNet(3, [4], 2, batchnorm=True, dtype=np.float64, rng=0)
    expected = sum((p.numpy() ** 2).sum() for n, p in net.named_parameters() if p.ndim == 2)
    assert nn.l2_penalty(net).item() == pytest.approx(expected)
    reg = nn.regularization(net, l2=0.1)
    reg.backward()
    assert net[0].bias.grad is None and net[1].weight.grad is None
    np.testing.assert_allclose(net[0].weight.grad, 0.2 * net[0].weight.numpy())


def test_summary_names_the_net_both_ways():
    net = nn.FullyConnectedNet(3072, [100, 50], 10)
    s = net.summary()
    assert "3-layer network, 2 hidden layers" in s
    assert f"{3072 * 100 + 100 + 100 * 50 + 50 + 50 * 10 + 10:,}" in s
    assert "1-layer network, 0 hidden layers" in nn.FullyConnectedNet(4, [], 3).summary()


LAYERS = [
    (nn.Linear, (4, 3), (5, 4), (5, 3), 15),
    (nn.BatchNorm1d, (4,), (5, 4), (5, 4), 8),
    (nn.Dropout, (0.5,), (5, 4), (5, 4), 0),
    (nn.ReLU, (), (5, 4), (5, 4), 0),
    (nn.LeakyReLU, (0.1,), (5, 4), (5, 4), 0),
    (nn.Sigmoid, (), (5, 4), (5, 4), 0),
    (nn.Tanh, (), (5, 4), (5, 4), 0),
    (nn.Flatten, (), (5, 2, 3), (5, 6), 0),
]


@pytest.mark.parametrize("cls,args,in_shape,out_shape,count", LAYERS)
def test_layer_table(cls, args, in_shape, out_shape, count):
    layer = cls(*args)
    out = layer(fcnet.tensor(np.random.default_rng(0).standard_normal(in_shape).astype(np.float32)))
    assert out.shape == out_shape
    assert layer.num_parameters() == count
    assert out.dtype == np.float32


def test_state_dict_roundtrip():
    a = nn.FullyConnectedNet(4, [3], 2, batchnorm=True, rng=0)
    b = nn.FullyConnectedNet(4, [3], 2, batchnorm=True, rng=1)
    b.load_state_dict(a.state_dict())
    for (n1, v1), (n2, v2) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert n1 == n2 and v1.tobytes() == v2.tobytes()
    with pytest.raises(KeyError, match="missing"):
        b.load_state_dict({})
    with pytest.raises(ValueError, match="shape"):
        nn.FullyConnectedNet(4, [5], 2, batchnorm=True).load_state_dict(a.state_dict())


def test_adagrad_accumulates_every_squared_gradient():
    """r ← r + g²: after g = 1, 2, 3 the accumulator is 14 and each step is ε g / √(r + δ)."""
    p = fcnet.tensor(np.zeros(1), requires_grad=True)
    opt = optim.Adagrad([p], lr=0.1, eps=0.0)
    expected, r = 0.0, 0.0
    for g in (1.0, 2.0, 3.0):
        p.grad = np.array([g])
        opt.step()
        r += g * g
        expected -= 0.1 * g / np.sqrt(r)
    assert opt.state[0]["r"][0] == pytest.approx(14.0)
    assert p.numpy()[0] == pytest.approx(expected, rel=1e-12)
    # unlike RMSProp's running mean, the effective step ε/√r only shrinks under a constant gradient
    steps = []
    for _ in range(5):
        before = p.numpy()[0]
        p.grad = np.array([1.0])
        opt.step()
        steps.append(before - p.numpy()[0])
    assert all(a > b for a, b in itertools.pairwise(steps))


def test_adagrad_rejects_negative_eps():
    with pytest.raises(ValueError, match="epsilon"):
        optim.Adagrad([fcnet.tensor(np.zeros(1), requires_grad=True)], eps=-1.0)
