"""Property tests of the engine's bookkeeping: the backward order of any graph, and the loss mean's bits."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import fcnet
from fcnet import ops
from fcnet.tensor import _FREED


def _reference_order(root: fcnet.Tensor, constants: bool) -> list[int]:
    """Post-order DFS with a node's inputs visited last to first: the order gradients are summed in."""
    order, visited, stack = [], set(), [(root, False)]
    while stack:
        node, done = stack.pop()
        if done:
            order.append(id(node))
            continue
        if id(node) in visited:
            continue
        visited.add(id(node))
        stack.append((node, True))
        ctx = node._ctx
        if ctx is not None and ctx is not _FREED:
            for p in ctx.parents:
                if (constants or p.requires_grad) and id(p) not in visited:
                    stack.append((p, False))
    return order


@st.composite
def graphs(draw):
    """A random graph with fan-out, constants and repeated inputs (x * x)."""
    n_leaves = draw(st.integers(1, 4))
    nodes = [fcnet.Tensor(np.array(float(i) + 0.5), requires_grad=draw(st.booleans())) for i in range(n_leaves)]
    nodes.append(fcnet.Tensor(np.array(0.25), requires_grad=True))
    for _ in range(draw(st.integers(1, 14))):
        a = nodes[draw(st.integers(0, len(nodes) - 1))]
        b = nodes[draw(st.integers(0, len(nodes) - 1))]
        op = draw(st.integers(0, 2))
        nodes.append(a + b if op == 0 else a * b if op == 1 else (a * 0.5 + b).tanh())
    return nodes[-1]


@settings(max_examples=200, deadline=None)
@given(graphs(), st.booleans())
def test_topological_order_is_the_depth_first_post_order(root, constants):
    order = root._topological_order(constants)
    ids = [id(t) for t in order]
    assert ids == _reference_order(root, constants)
    assert len(set(ids)) == len(ids) and ids[-1] == id(root)
    place = {i: k for k, i in enumerate(ids)}
    for t in order:  # every node comes after each of its inputs that is in the order
        ctx = t._ctx
        for p in (ctx.parents if ctx is not None and ctx is not _FREED else ()):
            if id(p) in place:
                assert place[id(p)] < place[id(t)]


@settings(max_examples=300, deadline=None)
@given(hnp.arrays(st.sampled_from([np.float32, np.float64]), st.integers(1, 600),
                  elements=st.floats(allow_nan=False, allow_infinity=False, width=32)))
def test_loss_mean_has_the_bits_of_numpy_mean(a):
    with np.errstate(over="ignore"):  # not np.seterr: that would leave overflows silenced for later tests
        got, want = ops._mean(a), a.mean()
    assert type(got) is type(want) and np.asarray(got).tobytes() == np.asarray(want).tobytes()
