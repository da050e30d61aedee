"""Invariant (c): the Numba kernel path equals the NumPy path, and both update every parameter.

Optimizer updates (every optimizer in OPTIONS, hyper-parameters drawn) and activation forward and
backward passes, on float16/32/64 arrays, contiguous or not (a transposed view), of a few elements
or of 2^20 and more.  Bit for bit where the arithmetic is the same, else to 1e-6 (float16: to its
resolution, 1e-3).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fcnet
from fcnet import kernels
from fcnet.nn.module import Parameter
from fcnet.train.options import OPTIONS, validate
from fcnet.train.recipe import OPTIMIZERS
from tests.invariants.options_space import configs, count, examples

TOL = {"float16": 1e-3, "float32": 1e-6, "float64": 1e-12}
SHAPES = {"small": (3, 5), "large": (1024, 1025)}  # 1025·1024 > 2^20 elements


def _array(shape, dtype, contiguous, rng):
    base = rng.normal(size=shape if contiguous else shape[::-1]).astype(dtype)
    return base if contiguous else base.T  # a transposed view: not C-contiguous


def _steps(path, opt_name, cfg, data, grads):
    kernels.use(path)
    p = Parameter(fcnet.Tensor(data.copy(order="K") if data.flags.c_contiguous else data.T.copy().T, _raw=True))
    opt = OPTIMIZERS[opt_name]([p], cfg)
    for g in grads:
        p.grad = g.copy()
        opt.step()
    return np.array(p.data)


@pytest.fixture(autouse=True)
def _restore_kernels():
    before = kernels.active()
    yield
    kernels.use(before)


@settings(max_examples=examples(8, 200), suppress_health_check=list(HealthCheck))
@given(cfg=configs(), opt_name=st.sampled_from(OPTIONS["optimizer"].choices),
       dtype=st.sampled_from(["float16", "float32", "float64"]), size=st.sampled_from(["small", "small", "large"]),
       contiguous=st.booleans(), seed=st.integers(0, 2**16))
def test_optimizer_steps_agree_on_both_paths_and_update_the_parameter(cfg, opt_name, dtype, size, contiguous, seed):
    count("(c) Numba path = NumPy path (optimizer steps)")
    rng = np.random.default_rng(seed)
    data = _array(SHAPES[size], dtype, contiguous, rng)
    grads = [rng.normal(size=SHAPES[size]).astype(dtype) for _ in range(2)]
    cfg = validate({**cfg, "lr": 0.1, "optimizer": opt_name})
    a = _steps("numpy", opt_name, cfg, data, grads)
    b = _steps("numba", opt_name, cfg, data, grads)
    assert a.dtype == b.dtype == np.dtype(dtype)
    # every element moved after ONE step (the gradients are nowhere zero); after two it need not: RMSProp with
    # ρ = 0 steps ε·sign(g), and two gradients of opposite sign bring a weight back where it was.  In float16 a
    # step below half the spacing of the weight (a large δ drawn) rounds away: only steps that the same update
    # in float64 makes larger than the spacing must show
    big = np.abs(_steps("numpy", opt_name, cfg, data.astype(np.float64), [grads[0].astype(np.float64)])
                 - data) > np.spacing(data).astype(np.float64)
    if dtype != "float16":
        big[...] = True
    for path in ("numpy", "numba"):
        one = _steps(path, opt_name, cfg, data, grads[:1])
        if big.any():
            assert np.mean((one != data)[big]) > 0.99, "the parameter was not updated"
    np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=TOL[dtype], atol=TOL[dtype])


@settings(max_examples=examples(6, 200), suppress_health_check=list(HealthCheck))
@given(activation=st.sampled_from(OPTIONS["activation"].choices), slope=st.sampled_from([0.0, 0.01, 0.3, 2.0]),
       dtype=st.sampled_from(["float16", "float32", "float64"]), size=st.sampled_from(["small", "small", "large"]),
       contiguous=st.booleans(), seed=st.integers(0, 2**16))
def test_activations_agree_on_both_paths(activation, slope, dtype, size, contiguous, seed):
    count("(c) Numba path = NumPy path (activations)")
    from fcnet.nn.activations import ACTIVATIONS

    rng = np.random.default_rng(seed)
    x0 = _array(SHAPES[size], dtype, contiguous, rng)
    up = rng.normal(size=SHAPES[size]).astype(dtype)
    out = []
    for path in ("numpy", "numba"):
        kernels.use(path)
        x = fcnet.Tensor(x0, requires_grad=True, _raw=True)
        act = ACTIVATIONS[activation](slope) if activation == "leaky_relu" else ACTIVATIONS[activation]()
        y = act(x)
        y.backward(fcnet.Tensor(up, _raw=True))
        out.append((np.array(y.data), np.array(x.grad)))
    for a, b in zip(out[0], out[1], strict=True):
        assert a.dtype == b.dtype == np.dtype(dtype)
        np.testing.assert_allclose(b.astype(np.float64), a.astype(np.float64), rtol=TOL[dtype], atol=TOL[dtype])


@pytest.mark.parametrize("opt_name", OPTIONS["optimizer"].choices)
def test_a_large_non_contiguous_parameter_is_updated_on_both_paths(opt_name):
    rng = np.random.default_rng(0)
    data = _array(SHAPES["large"], "float32", False, rng)
    grads = [rng.normal(size=SHAPES["large"]).astype("float32")]
    cfg = validate({"optimizer": opt_name, "lr": 0.1})
    a, b = (_steps(path, opt_name, cfg, data, grads) for path in ("numpy", "numba"))
    assert np.mean(a != data) > 0.99 and np.mean(b != data) > 0.99
    np.testing.assert_allclose(b, a, rtol=1e-6, atol=1e-6)


def test_float16_tensors_run_on_the_numba_path():
    kernels.use("numba")
    x = fcnet.tensor(np.array([[-1.0, 2.0]], np.float16), requires_grad=True)
    y = x.relu()
    y.sum().backward()
    assert y.data.dtype == np.float16 and x.grad.tolist() == [[0.0, 1.0]]
