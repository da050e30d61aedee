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


# Deep random graphs over shapes: a chain h of shape (3, 4) through at least 8 gates, each step
# mixing in matmuls, broadcasts ((3,1)+(1,4), bias rows, (4,) vectors) and reductions over an axis
# (sum / mean / max, with and without keepdims), with earlier values joining again (fan-out).
CHAIN = {
    "matmul": lambda h, v, p: (h @ p["W"]) * 0.5,
    "matmul_t": lambda h, v, p: (h @ p["W"].T) * 0.5,
    "linear": lambda h, v, p: F.linear(h, p["W"], p["b"]) * 0.5,
    "bias_row": lambda h, v, p: h + p["b"],  # (3, 4) + (4,)
    "scale_row": lambda h, v, p: h * p["r"],  # (3, 4) * (1, 4)
    "shift_col": lambda h, v, p: h - p["c"],  # (3, 4) - (3, 1)
    "outer": lambda h, v, p: h * 0.5 + p["c"] * p["r"],  # (3, 1) * (1, 4) -> (3, 4)
    "center_rows": lambda h, v, p: h - h.mean(axis=1, keepdims=True),
    "norm_cols": lambda h, v, p: h / (h * h).sum(axis=0, keepdims=True).__add__(1.0),
    "max_rows": lambda h, v, p: h + h.max(axis=1, keepdims=True),
    "max_cols": lambda h, v, p: h * 0.5 + h.max(axis=0),  # (4,) broadcast back over rows
    "sum_all": lambda h, v, p: h * (h.sum() * 0.1).tanh(),
    "tanh": lambda h, v, p: h.tanh(),
    "sigmoid": lambda h, v, p: h.sigmoid(),
    "softplus": lambda h, v, p: (h.exp() + 1.0).log(),
    "join": lambda h, v, p: h + v * 0.5,  # an earlier value of the chain: fan-out
    "gate": lambda h, v, p: h * v.sigmoid(),
}
KINDS = {"matmul": {"matmul", "matmul_t", "linear"},
         "broadcast": {"bias_row", "scale_row", "shift_col", "outer"},
         "reduction": {"center_rows", "norm_cols", "max_rows", "max_cols", "sum_all"}}


@st.composite
def deep_programs(draw):
    """8-12 chain steps holding at least one matmul, one broadcast and one reduction."""
    free = draw(st.lists(st.sampled_from(sorted(CHAIN)), min_size=5, max_size=9))
    forced = [draw(st.sampled_from(sorted(KINDS[k]))) for k in sorted(KINDS)]
    names = draw(st.permutations(free + forced))
    joins = [draw(st.integers(0, 99)) for _ in names]
    return list(zip(names, joins, strict=True))


def longest_path(root: fcnet.Tensor) -> int:
    """The number of gates on the longest path from an input to ``root``."""
    depth: dict[int, int] = {}
    for t in fcnet.graph.nodes(root):
        ctx = t._ctx
        parents = getattr(ctx, "parents", ()) if ctx is not None else ()
        depth[id(t)] = 1 + max((depth[id(q)] for q in parents), default=0) if parents else 0
    return depth[id(root)]


def gate_names(root: fcnet.Tensor) -> set[str]:
    return {t._ctx.name for t in fcnet.graph.nodes(root) if t._ctx is not None and hasattr(t._ctx, "name")}


def broadcast_gates(root: fcnet.Tensor) -> int:
    """Gates with an input whose shape differs from the output's (broadcast in forward, summed in backward)."""
    return sum(1 for t in fcnet.graph.nodes(root) if t._ctx is not None and t._ctx.name in
               ("Add", "Sub", "Mul", "Div") and any(q.shape != t.shape for q in t._ctx.parents))


@pytest.mark.parametrize("device", DEVICES)
@settings(max_examples=30, deadline=None)
@given(deep_programs(), st.integers(0, 2**31 - 1))
def test_deep_random_graphs_with_matmul_broadcast_and_reductions_pass_gradcheck(device, steps, seed):
    rng = np.random.default_rng(seed)
    inputs = [rng.standard_normal((3, 4)), rng.standard_normal((4, 4)) * 0.7, rng.standard_normal(4),
              rng.standard_normal((1, 4)), rng.standard_normal((3, 1))]

    def fn(x, w, b, r, c):
        params = {"W": w, "b": b, "r": r, "c": c}
        values = [x]
        for name, j in steps:
            values.append(CHAIN[name](values[-1], values[j % len(values)], params))
        return values[-1]

    with np.errstate(all="ignore"):  # exp of a large value overflows: such programs say nothing here
        out = fn(*[fcnet.tensor(a, requires_grad=True) for a in inputs])
        value = out.numpy()
    assume(np.all(np.isfinite(value)) and np.abs(value).max() < 1e4)
    assert longest_path(out) >= 8, [name for name, _ in steps]
    assert "MatMul" in gate_names(out) or "Linear" in gate_names(out)
    assert gate_names(out) & {"Sum", "Mean", "Max"}
    assert broadcast_gates(out) >= 1
    report = fcnet.gradcheck(fn, inputs, device=device)
    assert report, f"{report}; program {[name for name, _ in steps]}"


def test_longest_path_counts_gates():
    x = fcnet.tensor(np.ones((2, 2)), requires_grad=True)
    y = ((x @ x).tanh() + x).sum(axis=0, keepdims=True)  # matmul, tanh, add, sum: 4 gates deep
    assert longest_path(y) == 4
    assert longest_path(x) == 0
