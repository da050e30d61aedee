"""entropy(p) and kl_div(p, q): gradients with respect to both arguments (gradcheck and PyTorch)."""

from __future__ import annotations

import numpy as np
import pytest

import fcnet
import fcnet.functional as F


def _dist(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    """Probability rows bounded away from 0 (the gradient of p log p is -inf at 0)."""
    a = rng.uniform(0.2, 1.0, size=shape)
    return a / a.sum(axis=-1, keepdims=True)


@pytest.mark.parametrize("base", [None, 10.0])
def test_entropy_gradcheck_wrt_p(rng, base):
    p = _dist(rng, (3, 5))
    report = fcnet.gradcheck(lambda t: F.entropy(t, base=base), [p])
    assert report, str(report)


@pytest.mark.parametrize("base", [None, 10.0])
def test_kl_div_gradcheck_wrt_p_and_q(rng, base):
    p, q = _dist(rng, (3, 5)), _dist(rng, (3, 5))
    report = fcnet.gradcheck(lambda a, b: F.kl_div(a, b, base=base), [p, q])
    assert report, str(report)


def test_entropy_gradient_is_minus_log_p_minus_one():
    # d/dp_j (−Σ p log p) = −(log p_j + 1): the "+1" is what a constant log p drops
    p = fcnet.tensor(np.array([0.2, 0.3, 0.5]), requires_grad=True)
    F.entropy(p).backward()
    np.testing.assert_allclose(p.grad, -(np.log([0.2, 0.3, 0.5]) + 1.0), rtol=1e-12)


def test_zero_probabilities_stay_finite():
    p = fcnet.tensor(np.array([0.0, 0.25, 0.75]), requires_grad=True)
    q = fcnet.tensor(np.array([0.1, 0.4, 0.5]), requires_grad=True)
    h, kl = F.entropy(p), F.kl_div(p, q)
    assert np.isfinite(h.item()) and np.isfinite(kl.item())
    (h + kl).backward()
    assert np.isfinite(q.grad).all()
    assert np.isfinite(p.grad[1:]).all()


def test_entropy_and_kl_match_torch_values_and_gradients(rng):
    torch = pytest.importorskip("torch")
    p_np, q_np = _dist(rng, (4, 6)), _dist(rng, (4, 6))
    p, q = fcnet.tensor(p_np, requires_grad=True), fcnet.tensor(q_np, requires_grad=True)
    tp = torch.tensor(p_np, dtype=torch.float64, requires_grad=True)
    tq = torch.tensor(q_np, dtype=torch.float64, requires_grad=True)

    h = F.entropy(p).sum()
    th = torch.special.entr(tp).sum()
    h.backward()
    th.backward()
    np.testing.assert_allclose(h.item(), th.item(), rtol=1e-12)
    np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10)

    p.grad = None
    tp.grad = None
    # fcnet's order is the lecture's KL(p‖q); PyTorch's kl_div takes (log q, p)
    for reduction, ours in (("sum", F.kl_div(p, q).sum()), ("batchmean", F.kl_div(p, q).mean())):
        theirs = torch.nn.functional.kl_div(tq.log(), tp, reduction=reduction)
        np.testing.assert_allclose(ours.item(), theirs.item(), rtol=1e-12)
        ours.backward()
        theirs.backward()
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(q.grad, tq.grad.numpy(), rtol=1e-10)
        p.grad = q.grad = tp.grad = tq.grad = None
