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


def test_diagnose_leaves_the_model_and_every_generator_as_it_found_them():
    from fcnet import backend
    from fcnet.nn.layers import BatchNorm1d, Dropout

    x, y = _batch()
    net = nn.FullyConnectedNet(64, [32, 32], 10, batchnorm=True, dropout=0.5, rng=0)
    own = Dropout(0.5, rng=7)  # a dropout layer with its own generator
    net._modules[next(n for n, m in net._modules.items() if isinstance(m, Dropout))] = own
    net.eval()
    net[1].train()  # a mixed mode must come back as it was, module by module
    modes = [m.training for m in net.modules()]
    buffers = {k: v.copy() for k, v in net.state_dict().items()}
    own_state = own.rng.bit_generator.state
    default_state = backend.default_generator().bit_generator.state
    assert any(isinstance(m, BatchNorm1d) for m in net.modules())

    diagnose(net, nn.CrossEntropyLoss(), x, y, 10)

    assert [m.training for m in net.modules()] == modes
    for k, v in net.state_dict().items():  # BatchNorm's running statistics included
        np.testing.assert_array_equal(v, buffers[k], err_msg=k)
    assert own.rng.bit_generator.state == own_state
    assert backend.default_generator().bit_generator.state == default_state


def test_monitor_on_and_off_train_bit_identical_weights(tmp_path):
    from fcnet.train import io
    from fcnet.train.options import resolve
    from fcnet.train.recipe import run

    weights = []
    for monitor in (True, False):
        opts = resolve({"data": "digits", "subset": 300, "hidden": [32, 16], "batchnorm": True,
                        "dropout": 0.3, "epochs": 2, "batch_size": 32, "monitor": monitor})
        run(opts, tmp_path / str(monitor), progress=False, log=lambda _: None, checkpoint=False, plots=False)
        weights.append(io.load_arrays(tmp_path / str(monitor) / "model.safetensors"))
    assert weights[0].keys() == weights[1].keys()
    assert any("running_mean" in k for k in weights[0])
    for k in weights[0]:
        np.testing.assert_array_equal(weights[0][k], weights[1][k], err_msg=k)
