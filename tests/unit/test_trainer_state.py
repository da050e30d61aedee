"""Trainer.load_state_dict restores a checkpoint all or nothing."""

from __future__ import annotations

import numpy as np
import pytest

from fcnet import nn, optim
from fcnet.errors import FcnetError, ModelFileError
from fcnet.nn.layers import Dropout
from fcnet.train.callbacks import EarlyStopping, LRScheduler
from fcnet.train.trainer import Trainer


def _data(n=64, d=8, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, c, n)


def _trainer(callbacks=(), dropout_rng=None, seed=0):
    net = nn.FullyConnectedNet(8, [16], 3, rng=seed)
    if dropout_rng is not None:
        net._modules["drop"] = Dropout(0.2, rng=dropout_rng)
    opt = optim.SGD(net.parameters(), lr=0.1)
    cbs = [cb(opt) if callable(cb) and not isinstance(cb, type) else cb for cb in callbacks]
    return Trainer(net, opt, callbacks=cbs, seed=seed, progress=False, log=lambda _: None)


def _schedule(opt):
    return LRScheduler(optim.StepLR(opt, step_size=1, gamma=0.5))


def _snapshot(t):
    return ({k: v.copy() for k, v in t.model.state_dict().items()}, t.optimizer.lr, t.epoch,
            t.rng.bit_generator.state, [cb.state_dict() for cb in t.callbacks])


def _assert_unchanged(t, snap):
    weights, lr, epoch, rng, cbs = snap
    for k, v in t.model.state_dict().items():
        np.testing.assert_array_equal(v, weights[k])
    assert (t.optimizer.lr, t.epoch, t.rng.bit_generator.state) == (lr, epoch, rng)
    assert [cb.state_dict() for cb in t.callbacks] == cbs


@pytest.mark.parametrize("other", [
    pytest.param(lambda: _trainer([EarlyStopping("loss")], seed=1), id="a callback missing"),
    pytest.param(lambda: _trainer([EarlyStopping("loss"), _schedule, EarlyStopping("loss")], seed=1),
                 id="a callback more"),
    pytest.param(lambda: _trainer([_schedule, EarlyStopping("loss")], seed=1), id="callbacks reordered"),
])
def test_mismatched_callbacks_are_refused_and_nothing_is_restored(other):
    x, y = _data()
    src = _trainer([EarlyStopping("loss"), _schedule])
    src.fit(x, y, epochs=2, batch_size=16)
    arrays, state = src.state_dict()
    dst = other()
    snap = _snapshot(dst)
    with pytest.raises(ModelFileError, match="callbacks") as info:
        dst.load_state_dict(arrays, state)
    assert "\n" not in str(info.value) and isinstance(info.value, FcnetError)
    _assert_unchanged(dst, snap)


def test_mismatched_dropout_generators_are_refused():
    x, y = _data()
    src = _trainer(dropout_rng=3)
    src.fit(x, y, epochs=1, batch_size=16)
    arrays, state = src.state_dict()
    dst = _trainer(seed=1)  # no dropout layer with its own generator
    snap = _snapshot(dst)
    with pytest.raises(ModelFileError, match="dropout"):
        dst.load_state_dict(arrays, state)
    _assert_unchanged(dst, snap)


def test_another_model_or_optimizer_is_refused_before_anything_changes():
    x, y = _data()
    src = _trainer()
    src.fit(x, y, epochs=1, batch_size=16)
    arrays, state = src.state_dict()
    state["optimizer"]["type"] = "Adam"
    dst = _trainer(seed=1)
    snap = _snapshot(dst)
    with pytest.raises(ModelFileError, match="optimizer Adam"):
        dst.load_state_dict(arrays, state)
    _assert_unchanged(dst, snap)


def test_a_matching_checkpoint_restores_everything():
    x, y = _data()
    src = _trainer([EarlyStopping("loss"), _schedule])
    src.fit(x, y, epochs=2, batch_size=16)
    arrays, state = src.state_dict()
    dst = _trainer([EarlyStopping("loss"), _schedule], seed=1)
    dst.load_state_dict(arrays, state)
    _assert_unchanged(dst, _snapshot(src))


def test_callbacks_without_state_may_differ():
    from fcnet.train.callbacks import GradientMonitor

    x, y = _data()
    src = _trainer([GradientMonitor(), EarlyStopping("loss"), _schedule])
    src.fit(x, y, epochs=2, batch_size=16)
    arrays, state = src.state_dict()
    dst = _trainer([EarlyStopping("loss"), _schedule], seed=1)  # --monitor false on resume: nothing lost
    dst.load_state_dict(arrays, state)
    _assert_unchanged(dst, (*_snapshot(src)[:4], [cb.state_dict() for cb in src.callbacks[1:]]))
