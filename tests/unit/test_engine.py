"""The engine: the lecture's worked graphs, deep graphs, graph freeing, dtypes, errors."""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import fcnet
import fcnet.functional as F


def test_sigmoid_neuron_slide_77():
    # f(w, x) = 1 / (1 + e^-(w0 x0 + w1 x1 + w2)), w = [2, -3, -3], x = [-1, -2]
    w0, w1, w2 = (fcnet.tensor(np.float64(v), requires_grad=True) for v in (2.0, -3.0, -3.0))
    x0, x1 = (fcnet.tensor(np.float64(v), requires_grad=True) for v in (-1.0, -2.0))
    f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    assert round(f.item(), 2) == 0.73
    f.backward()
    s = 1 / (1 + np.exp(-1.0))
    local = s * (1 - s)  # 0.1966...: the sigmoid gate's local gradient
    assert w0.grad == pytest.approx(-1.0 * local, abs=1e-15)  # -0.20 on the slide
    assert w1.grad == pytest.approx(-2.0 * local, abs=1e-15)  # -0.39
    assert w2.grad == pytest.approx(local, abs=1e-15)  # 0.20
    assert x0.grad == pytest.approx(2.0 * local, abs=1e-15)  # 0.39
    assert x1.grad == pytest.approx(-3.0 * local, abs=1e-15)  # -0.59
    # rounded as on the slide
    assert [round(float(t.grad), 2) for t in (w0, w1, w2, x0, x1)] == [-0.2, -0.39, 0.2, 0.39, -0.59]


def test_sigmoid_neuron_fused_gate_equals_composite():
    w = fcnet.tensor(np.array([2.0, -3.0, -3.0]), requires_grad=True)
    x = fcnet.tensor(np.array([-1.0, -2.0, 1.0]))
    z = (w * x).sum()
    a = F.sigmoid(z)
    a.backward()
    g_fused = w.grad.copy()
    w.grad = None
    b = F.sigmoid_composite((w * x).sum())
    b.backward()
    assert a.item() == pytest.approx(b.item(), rel=1e-15)
    np.testing.assert_allclose(g_fused, w.grad, rtol=1e-14)


@pytest.mark.parametrize("xv,yv", [(1.0, 2.0), (-3.0, 0.5), (0.0, 0.0)])
def test_square_of_sum(xv, yv):
    x = fcnet.tensor(np.float64(xv), requires_grad=True)
    y = fcnet.tensor(np.float64(yv), requires_grad=True)
    f = (x + y) ** 2
    f.backward()
    assert x.grad == 2 * (xv + yv)
    assert y.grad == 2 * (xv + yv)


def test_copy_gate_sums_fanout():
    x = fcnet.tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * x + x  # x fans out three times
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.numpy() + 1)


def test_max_gate_routes():
    x = fcnet.tensor(np.array([[1.0, 5.0, 3.0], [7.0, 2.0, 0.0]]), requires_grad=True)
    x.max(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad, [[0, 1, 0], [1, 0, 0]])


def test_deep_chain_backpropagates_without_recursion():
    x = fcnet.tensor(np.float64(1.0), requires_grad=True)
    y = x
    for _ in range(10_000):
        y = y * 1.0001
    y.backward()
    assert x.grad == pytest.approx(1.0001**10_000, rel=1e-9)


def test_graph_is_freed_after_backward():
    x = fcnet.tensor(np.ones(1000), requires_grad=True)
    h = x * 2.0
    mid = h.exp()
    ref = weakref.ref(mid)
    loss = (mid * 3.0).sum()
    del h, mid
    gc.collect()
    assert ref() is not None  # the graph holds the intermediate until backward
    loss.backward()
    gc.collect()
    assert ref() is None  # released: nothing keeps intermediate values alive


def test_retain_graph_keeps_intermediates_and_allows_second_backward():
    x = fcnet.tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (x.exp() * 2).sum()
    loss.backward(retain_graph=True)
    first = x.grad.copy()
    loss.backward()
    np.testing.assert_allclose(x.grad, 2 * first)


def test_second_backward_on_freed_graph_names_the_fix():
    x = fcnet.tensor(np.array([1.0, 2.0]), requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        loss.backward()


def test_nonscalar_backward_needs_gradient():
    x = fcnet.tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2, 3\).*sum\(\)\.backward\(\)"):
        (x * 2).backward()


def test_incompatible_shapes_named():
    a = fcnet.tensor(np.ones((2, 3)))
    b = fcnet.tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=r"add: shapes \(2, 3\) and \(4,\) cannot be broadcast.*reshape"):
        a + b
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(2, 3\)"):
        a @ a


def test_backward_gradient_shape_checked():
    x = fcnet.tensor(np.ones(3), requires_grad=True)
    with pytest.raises(ValueError, match="shape"):
        (x * 2).backward(np.ones(4))


def test_no_grad_records_nothing():
    x = fcnet.tensor(np.ones(3), requires_grad=True)
    with fcnet.no_grad():
        y = x * 2
    assert not y.requires_grad and y.grad_fn is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.sum().backward()


def test_detach_cuts_the_graph():
    x = fcnet.tensor(np.ones(3), requires_grad=True)
    y = (x * 2).detach() * x
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [2, 2, 2])


def test_dtypes_follow_pytorch():
    assert fcnet.tensor([1.0, 2.0]).dtype == np.float32
    assert fcnet.tensor(1.5).dtype == np.float32
    assert fcnet.tensor(np.zeros(2)).dtype == np.float64
    assert fcnet.tensor(np.float64(2.0)).dtype == np.float64
    x32 = fcnet.tensor(np.ones(2, dtype=np.float32))
    assert (x32 * 2.5).dtype == np.float32  # Python numbers do not promote
    assert (1 / (1 + (-x32).exp())).dtype == np.float32
    assert (x32 + fcnet.tensor(np.ones(2))).dtype == np.float64  # NumPy's promotion


def test_grad_is_array_of_tensor_shape():
    x = fcnet.tensor(np.float64(3.0), requires_grad=True)
    (x * x).backward()
    assert isinstance(x.grad, np.ndarray) and x.grad.shape == ()


def test_leaf_grads_do_not_alias():
    a = fcnet.tensor(np.ones(3), requires_grad=True)
    b = fcnet.tensor(np.ones(3), requires_grad=True)
    (a + b).sum().backward()
    a.grad *= 5
    np.testing.assert_array_equal(b.grad, [1, 1, 1])


def test_integer_tensor_cannot_require_grad():
    with pytest.raises(TypeError, match="floating-point"):
        fcnet.tensor(np.arange(3), requires_grad=True)


def test_item_and_repr():
    t = fcnet.tensor(np.array([[2.0]]))
    assert t.item() == 2.0
    assert "tensor(" in repr(t)
    with pytest.raises(ValueError, match="one element"):
        fcnet.tensor(np.ones(2)).item()


def test_cross_entropy_is_exact_for_tiny_losses():
    s = fcnet.tensor(np.array([[10.0, -100.0, -100.0]]))
    loss = F.cross_entropy(s, [0]).item()
    assert loss == pytest.approx(2 * np.exp(-110.0), rel=1e-12)
    assert loss / np.log(10) == pytest.approx(1.467e-48, rel=1e-3)  # slide 64's 1.5e-48


def test_cross_entropy_stable_for_huge_logits():
    s = fcnet.tensor(np.array([[1e4, -1e4, 0.0], [-1e300, 0.0, 1e300]]), requires_grad=True)
    loss = F.cross_entropy(s, [1, 0])
    assert np.isfinite(loss.item())
    loss.backward()
    assert np.all(np.isfinite(s.grad))


def test_fused_and_composite_agree():
    rng = np.random.default_rng(0)
    for fused, comp, shapes in [
        (F.linear, F.linear_composite, [(6, 5), (4, 5), (4,)]),
        (F.batch_norm, F.batch_norm_composite, [(8, 5), (5,), (5,)]),
        (lambda s: F.cross_entropy(s, [0, 1, 2, 1]), lambda s: F.cross_entropy_composite(s, [0, 1, 2, 1]),
         [(4, 3)]),
        (F.sigmoid, F.sigmoid_composite, [(4, 3)]),
    ]:
        arrays = [rng.standard_normal(s) for s in shapes]
        a = [fcnet.tensor(x, requires_grad=True) for x in arrays]
        b = [fcnet.tensor(x, requires_grad=True) for x in arrays]
        oa, ob = fused(*a), comp(*b)
        np.testing.assert_allclose(oa.numpy(), ob.numpy(), rtol=1e-12, atol=1e-14)
        up = rng.standard_normal(oa.shape)
        oa.backward(up)
        ob.backward(up)
        for x, y in zip(a, b, strict=True):
            np.testing.assert_allclose(x.grad, y.grad, rtol=1e-10, atol=1e-13)


def test_targets_are_checked():
    s = fcnet.tensor(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\[0, 2\]"):
        F.cross_entropy(s, [0, 3])
    with pytest.raises(ValueError, match="shape"):
        F.cross_entropy(s, [0, 1, 2])
    with pytest.raises(ValueError, match="fractional"):
        F.cross_entropy(s, np.array([0.5, 1.0]))


def test_gradcheck_report():
    rep = fcnet.gradcheck(lambda a, b: (a * b).exp().sum(), [np.ones(3) * 0.1, np.arange(3.0)])
    assert rep and rep.ok and rep.max_rel_error < 1e-7
    assert "ok" in str(rep)

    class Wrong(fcnet.Function):
        def forward(self, a):
            return a * a

        def backward(self, g):
            return g * 3.0  # should be 2a

    bad = fcnet.gradcheck(lambda a: Wrong.apply(a).sum(), [np.array([1.0, 2.0])])
    assert not bad and bad.max_rel_error > 0.1
    assert bad.worst["input"] == 0


def test_to_dot_after_freeing_backward_names_the_fix():
    x = fcnet.tensor(np.float64(2.0), requires_grad=True)
    y = x * x
    y.backward()
    with pytest.raises(ValueError, match="retain_graph=True"):
        fcnet.graph.to_dot(y)
    z = x * 3.0
    z.backward(retain_graph=True)
    assert "grad" in fcnet.graph.to_dot(z)  # leaves keep their gradient; no second backward
    assert x.grad == 4.0 + 3.0


def test_to_dot_leaves_every_grad_as_it_found_it():
    x = fcnet.tensor(np.array([1.0, -2.0]), requires_grad=True)
    w = fcnet.tensor(np.array([0.5, 3.0]), requires_grad=True)
    h = x * w
    y = (h + 1.0).relu().sum()
    x.name = "x"
    dot = fcnet.graph.to_dot(y).replace(" ", "")
    assert "x|value[1.,-2.]|grad[0.5,0.]" in dot  # the drawing shows dy/dx ...
    assert x.grad is None and w.grad is None and h.grad is None  # ... without storing it anywhere
    y.backward()  # so a later backward gives exactly the gradient, not twice it
    np.testing.assert_array_equal(x.grad, [0.5, 0.0])
    np.testing.assert_array_equal(w.grad, [1.0, 0.0])
    assert h.grad is None  # and no intermediate node was left retaining its gradient


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_fused_mse_gate_equals_the_sub_mul_mean_chain_bit_for_bit(dtype):
    """F.mse_loss's one MeanSquaredError gate gives the bits of (p - t) * (p - t) then mean."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((37, 6)).astype(dtype)
    w = rng.standard_normal((3, 6)).astype(dtype)
    t = rng.standard_normal((37, 3)).astype(dtype)
    results = []
    for fused in (True, False):
        xs = fcnet.tensor(x, requires_grad=True)
        ws = fcnet.tensor(w, requires_grad=True)
        p = xs @ ws.T
        if fused:
            loss = F.mse_loss(p, t)
            assert loss._ctx.name == "MeanSquaredError"
        else:
            d = p - fcnet.tensor(t)
            loss = (d * d).mean()
        loss.backward()
        results.append((loss.numpy(), xs.grad, ws.grad))
    for a, b in zip(*results, strict=True):
        assert a.dtype == b.dtype == dtype
        assert np.array_equal(a, b)
