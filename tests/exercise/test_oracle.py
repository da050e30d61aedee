"""The reference solutions students are graded against, checked independently against PyTorch (float64)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest

from fcnet.exercise import solution_source

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch


def _module(name, tmp_path):
    path = tmp_path / f"{name}.py"
    path.write_text(solution_source(name))
    spec = importlib.util.spec_from_file_location(f"ref_{name}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _t(a):
    return torch.tensor(a, dtype=torch.float64, requires_grad=True)


def test_losses_and_two_layer_match_torch(tmp_path):
    rng = np.random.default_rng(0)
    s, y = rng.standard_normal((6, 4)) * 3, rng.integers(0, 4, 6)
    losses = _module("losses", tmp_path)
    loss, ds = losses.softmax_ce(s, y)
    st_ = _t(s)
    ref = torch.nn.functional.cross_entropy(st_, torch.tensor(y))
    ref.backward()
    assert np.isclose(loss, ref.item(), rtol=1e-12) and np.allclose(ds, st_.grad.numpy(), rtol=1e-12)
    hl, hds = losses.hinge(s, y)
    sh = _t(s)
    href = torch.nn.functional.multi_margin_loss(sh, torch.tensor(y), margin=1.0) * s.shape[1]  # torch divides by C
    href.backward()
    assert np.isclose(hl, href.item(), rtol=1e-12) and np.allclose(hds, sh.grad.numpy() * 1.0, rtol=1e-12)
    x, w1, b1, w2, b2 = (rng.standard_normal(k) for k in [(6, 3), (5, 3), 5, (4, 5), 4])
    two = _module("two_layer", tmp_path)
    tl, grads = two.two_layer_loss(x, y, w1, b1, w2, b2)
    ts = [_t(a) for a in (w1, b1, w2, b2)]
    h = torch.relu(torch.tensor(x) @ ts[0].T + ts[1])
    out = torch.nn.functional.cross_entropy(h @ ts[2].T + ts[3], torch.tensor(y))
    out.backward()
    assert np.isclose(tl, out.item(), rtol=1e-12)
    for k, t in zip(("w1", "b1", "w2", "b2"), ts, strict=True):
        assert np.allclose(grads[k], t.grad.numpy(), rtol=1e-10, atol=1e-14), k


def test_batchnorm_and_clipping_match_torch(tmp_path):
    rng = np.random.default_rng(1)
    x, gamma, beta, g = rng.standard_normal((7, 3)) * 2 + 1, rng.standard_normal(3), rng.standard_normal(3), \
        rng.standard_normal((7, 3))
    bn = _module("batchnorm", tmp_path)
    y, mean, var = bn.batchnorm_forward(x, gamma, beta)
    assert np.allclose(mean, x.mean(axis=0)) and np.allclose(var, x.var(axis=0))  # σ²_B divides by m (slide 141)
    xt, gt, bt = _t(x), _t(gamma), _t(beta)
    ref = torch.nn.functional.batch_norm(xt, None, None, gt, bt, training=True, eps=1e-5)
    (ref * torch.tensor(g)).sum().backward()
    assert np.allclose(y, ref.detach().numpy(), rtol=1e-10)
    dx, dgamma, dbeta = bn.batchnorm_backward(g, x, gamma)
    for a, b in ((dx, xt), (dgamma, gt), (dbeta, bt)):
        assert np.allclose(a, b.grad.numpy(), rtol=1e-9, atol=1e-12)
    clip = _module("clipping", tmp_path)
    grads = [rng.standard_normal((3, 4)) * 5, rng.standard_normal(4) * 5]
    out, total = clip.clip_grad_norm(grads, 1.0)
    ps = [torch.zeros(a.shape, dtype=torch.float64, requires_grad=True) for a in grads]
    for p, a in zip(ps, grads, strict=True):
        p.grad = torch.tensor(a)
    ref_total = torch.nn.utils.clip_grad_norm_(ps, 1.0)
    assert np.isclose(total, ref_total.item(), rtol=1e-12)
    for o, p in zip(out, ps, strict=True):
        assert np.allclose(o, p.grad.numpy(), rtol=1e-5)  # torch divides by ‖g‖ + 1e-6


def test_adam_rmsprop_adagrad_match_torch_in_torch_form(tmp_path):
    """With δ = 0 the lecture's forms (δ inside or outside the root) and PyTorch's coincide."""
    rng = np.random.default_rng(2)
    opt = _module("optimizers", tmp_path)
    theta0, grads = rng.standard_normal(5), [rng.standard_normal(5) for _ in range(4)]
    for kind in ("adam", "rmsprop", "adagrad", "momentum"):
        p = torch.tensor(theta0.copy(), requires_grad=True)
        ref = {"adam": lambda: torch.optim.Adam([p], lr=0.1, betas=(0.9, 0.999), eps=0.0),
               "rmsprop": lambda: torch.optim.RMSprop([p], lr=0.1, alpha=0.9, eps=0.0),
               "adagrad": lambda: torch.optim.Adagrad([p], lr=0.1, eps=0.0),
               "momentum": lambda: torch.optim.SGD([p], lr=0.1 * (1 - 0.8), momentum=0.8)}[kind]()
        th, v, r = theta0.copy(), np.zeros(5), np.zeros(5)
        for t, g in enumerate(grads, start=1):
            p.grad = torch.tensor(g)
            ref.step()
            if kind == "adam":
                th, v, r = opt.adam_step(th, g, v, r, t=t, lr=0.1, mu=0.9, rho=0.999, eps=0.0)
            elif kind == "rmsprop":
                th, r = opt.rmsprop_step(th, g, r, lr=0.1, rho=0.9, eps=0.0)
            elif kind == "adagrad":
                th, r = opt.adagrad_step(th, g, r, lr=0.1, eps=0.0)
            else:
                th, v = opt.momentum_step(th, g, v, lr=0.1, mu=0.8)
        assert np.allclose(th, p.detach().numpy(), rtol=1e-10), kind
