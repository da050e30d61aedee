"""The compiled optimizer step keeps a plan between steps: it must notice every change a user can make.

Each case changes something between steps (loaded state, replaced data or buffer, a parameter without
a gradient, a new dtype) and compares the result with a fresh optimizer that never had a plan.
"""

from __future__ import annotations

import numpy as np
import pytest

from fcnet import kernels, optim
from fcnet.tensor import Tensor

pytestmark = pytest.mark.skipif(kernels.compiled() is None, reason="the plan is the compiled path's")


def _params(seed=0):
    rng = np.random.default_rng(seed)
    return [Tensor(rng.standard_normal(s).astype(np.float32), requires_grad=True) for s in ((5, 3), (3,), (4, 2))]


def _grads(params, seed):
    rng = np.random.default_rng(seed)
    for p in params:
        p.grad = rng.standard_normal(p.shape).astype(p.dtype)


# every optimizer: the plan is the base class's, each runs it with its own state (Adagrad, with no compiled
# kernel, takes the reference path and must give the same steps all the same)
OPTIMIZERS = {
    "sgd": lambda ps: optim.SGD(ps, lr=0.01),
    "momentum": lambda ps: optim.Momentum(ps, lr=0.01, momentum=0.9),
    "nesterov": lambda ps: optim.Momentum(ps, lr=0.01, momentum=0.9, form="pytorch", nesterov=True),
    "rmsprop": lambda ps: optim.RMSProp(ps, lr=0.01),
    "adagrad": lambda ps: optim.Adagrad(ps, lr=0.01),
    "adam": lambda ps: optim.Adam(ps, lr=0.01),
    "adamw": lambda ps: optim.AdamW(ps, lr=0.01, weight_decay=0.1),
}


def _fresh_step(make, params, sd, seed):
    """One step of a new optimizer (no plan) loaded with ``sd``, on copies of ``params``."""
    copies = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    opt = make(copies)
    opt.load_state_dict(sd)
    for c, p in zip(copies, params, strict=True):
        c.grad = None if p.grad is None else p.grad.copy()
    opt.step()
    return [c.data for c in copies]


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@pytest.mark.parametrize("change", ["none", "load_state", "replace_data", "replace_buffer", "grad_none", "dtype",
                                    "replace_param"])
def test_each_step_equals_a_fresh_optimizer_after_any_change(change, name):
    make = OPTIMIZERS[name]
    params = _params()
    opt = make(params)
    for s in range(3):
        _grads(params, s)
        opt.step()
    if opt.compiled_kernel(kernels.compiled(), np.float32) is not None:  # Adagrad has none: the reference path
        assert opt._plan is not None  # the compiled path kept a plan, which the change below must not fool
    if change == "load_state":
        other = make(_params(1))
        _grads(other.params, 7)
        other.step()
        opt.load_state_dict(other.state_dict())
    elif change == "replace_data":
        params[0].data = np.full((5, 3), 0.5, np.float32)
    elif change == "replace_buffer":
        if not opt.state_names:
            pytest.skip(f"{name} keeps no state buffer")
        opt.state[2][opt.state_names[0]] = np.full((4, 2), 0.25, np.float32)
    elif change == "replace_param":  # another parameter in the same place (the old one keeps its gradient)
        params[0] = opt.params[0] = Tensor(np.full((5, 3), 0.5, np.float32), requires_grad=True)
    elif change == "dtype":
        params[1].data = params[1].data.astype(np.float64)
        opt.state[1] = {n: v.astype(np.float64) for n, v in opt.state[1].items()}
    _grads(params, 11)
    if change == "grad_none":
        params[1].grad = None
    before = [p.data.copy() for p in params]
    expected = _fresh_step(make, params, opt.state_dict(), 11)
    opt.step()
    for i, (p, e) in enumerate(zip(params, expected, strict=True)):
        assert p.data.dtype == e.dtype
        np.testing.assert_array_equal(p.data, e, err_msg=f"parameter {i} after {change}")
    if change == "grad_none":
        np.testing.assert_array_equal(params[1].data, before[1])
    else:
        assert all((p.data != b).any() for p, b in zip(params, before, strict=True))
