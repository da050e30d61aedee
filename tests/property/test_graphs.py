"""Property tests: random expression graphs pass gradcheck; shapes and softmax invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fcnet
import fcnet.functional as F
from tests.conftest import DEVICES

UNARY = [
    lambda a: a.tanh(),
    lambda a: a.sigmoid(),
    lambda a: (a * a + 1.0).log(),
    lambda a: (a * 0.5).exp(),
    lambda a: a.leaky_relu(0.1),
    lambda a: -a,
    lambda a: (a * a + 0.5) ** 0.5,
]
BINARY = [
    lambda a, b: a + b,
    lambda a, b: a - b,
    lambda a, b: a * b,
    lambda a, b: a / (b * b + 1.0),
    lambda a, b: fcnet.maximum(a, b * 0.7 + 0.05),
]


@st.composite
def programs(draw):
    depth = draw(st.integers(4, 7))
    steps = [(draw(st.integers(0, 1)), draw(st.integers(0, 99)), draw(st.integers(0, 99)),
              draw(st.integers(0, 99))) for _ in range(depth)]
    return steps


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=40, deadline=None)
@given(programs(), st.integers(0, 2**31 - 1))
def test_random_graphs_pass_gradcheck(device, steps, seed):
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((3, 4)), rng.standard_normal((4,)), rng.standard_normal((3, 1))]

    def fn(x, y, z):
        values = [x, y, z]
        for kind, i, j, op in steps:
            a = values[i % len(values)]
            if kind == 0:
                values.append(UNARY[op % len(UNARY)](a))
            else:
                b = values[j % len(values)]  # may be a itself: fan-out
                values.append(BINARY[op % len(BINARY)](a, b))
        # every value contributes, so every path is checked
        return sum((v.sum() for v in values[3:]), values[-1].mean())

    with np.errstate(all="ignore"):  # chains of exp can overflow: such programs say nothing here
        value = fn(*[fcnet.tensor(a) for a in inputs]).item()
    assume(np.isfinite(value) and abs(value) < 1e6)
    report = fcnet.gradcheck(fn, inputs, device=device)
    assert report, str(report)


shapes = hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=4)


@settings(max_examples=60, deadline=None)
@given(hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4),
       st.sampled_from(["add", "sub", "mul", "div", "maximum"]))
def test_gradient_shape_equals_input_shape_under_broadcasting(shp, op):
    rng = np.random.default_rng(0)
    a = fcnet.tensor(rng.uniform(1, 2, shp.input_shapes[0]), requires_grad=True)
    b = fcnet.tensor(rng.uniform(1, 2, shp.input_shapes[1]), requires_grad=True)
    out = {"add": lambda: a + b, "sub": lambda: a - b, "mul": lambda: a * b,
           "div": lambda: a / b, "maximum": lambda: fcnet.maximum(a, b)}[op]()
    assert out.shape == shp.result_shape
    out.sum().backward()
    assert a.grad.shape == a.shape and b.grad.shape == b.shape


@settings(max_examples=60, deadline=None)
@given(hnp.arrays(np.float64, st.tuples(st.integers(1, 5), st.integers(1, 6)),
                  elements=st.floats(-50, 50)), st.floats(-100, 100))
def test_softmax_rows_sum_to_one_and_shift_invariant(x, shift):
    p = F.softmax(fcnet.tensor(x), axis=1).numpy()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    q = F.softmax(fcnet.tensor(x + shift), axis=1).numpy()
    np.testing.assert_allclose(p, q, rtol=1e-9, atol=1e-12)


@settings(max_examples=30, deadline=None)
@given(shapes, st.integers(0, 1000))
def test_same_seed_same_bits(shape, seed):
    a = fcnet.nn.init.he(fcnet.tensor(np.zeros((2, *shape), np.float32)), rng=seed).numpy()
    b = fcnet.nn.init.he(fcnet.tensor(np.zeros((2, *shape), np.float32)), rng=seed).numpy()
    assert a.tobytes() == b.tobytes()
