"""Modules, losses and optimizers against PyTorch in float64."""

from __future__ import annotations

import numpy as np
import pytest

import fcnet
import fcnet.nn as nn
import fcnet.optim as optim
from fcnet import backend
from tests.conftest import DEVICES

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def _pair(shape, seed=0, scale=1.0, device="cpu"):
    a = np.random.default_rng(seed).standard_normal(shape) * scale
    return (fcnet.tensor(a, requires_grad=True, device=device),
            torch.tensor(a, requires_grad=True, device=device))


def _close(a, b, rtol=1e-9, atol=1e-12):
    b = b.detach().cpu().numpy() if hasattr(b, "detach") else backend.to_numpy(b)
    a = a.numpy() if isinstance(a, fcnet.Tensor) else backend.to_numpy(a)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


ACTS = [
    (nn.Sigmoid(), torch.nn.Sigmoid()),
    (nn.Tanh(), torch.nn.Tanh()),
    (nn.ReLU(), torch.nn.ReLU()),
    (nn.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1)),
    (nn.LeakyReLU(0.01), torch.nn.LeakyReLU(0.01)),
]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("i", range(len(ACTS)))
def test_activation_modules(i, device):
    ours, theirs = ACTS[i]
    x, xt = _pair((5, 7), i, 3.0, device)
    y, yt = ours(x), theirs(xt)
    _close(y.numpy(), yt)
    up = np.random.default_rng(9).standard_normal(y.shape)
    y.backward(up)
    yt.backward(torch.tensor(up, device=device))
    _close(x.grad, xt.grad)


@pytest.mark.parametrize("device", DEVICES)
def test_linear_module_layout_and_gradients(device):
    lin = nn.Linear(4, 3, dtype=np.float64, rng=0, device=device)
    ref = torch.nn.Linear(4, 3).double().to(device)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(lin.weight.numpy()))
        ref.bias.copy_(torch.tensor(np.arange(3.0)))
    lin.bias.data[...] = backend.to_device(np.arange(3.0), device)
    assert lin.weight.shape == (3, 4)  # (out, in), as PyTorch
    x, xt = _pair((6, 4), 1, device=device)
    y, yt = lin(x), ref(xt)
    _close(y.numpy(), yt)
    y.sum().backward()
    yt.sum().backward()
    _close(x.grad, xt.grad)
    _close(lin.weight.grad, ref.weight.grad)
    _close(lin.bias.grad, ref.bias.grad)


@pytest.mark.parametrize("device", DEVICES)
def test_batchnorm_training_and_running_stats(device):
    bn = nn.BatchNorm1d(5, momentum=0.1, dtype=np.float64, device=device)
    ref = torch.nn.BatchNorm1d(5, momentum=0.1).double().to(device)
    bn.weight.data[...] = backend.to_device(np.linspace(0.5, 2, 5), device)
    bn.bias.data[...] = backend.to_device(np.linspace(-1, 1, 5), device)
    with torch.no_grad():
        ref.weight.copy_(torch.tensor(bn.weight.numpy()))
        ref.bias.copy_(torch.tensor(bn.bias.numpy()))
    for step in range(3):
        x, xt = _pair((8, 5), step, 2.0, device)
        y, yt = bn(x), ref(xt)
        _close(y.numpy(), yt, rtol=1e-9, atol=1e-10)
        up = np.random.default_rng(step + 7).standard_normal(y.shape)
        y.backward(up)
        yt.backward(torch.tensor(up, device=device))
        _close(x.grad, xt.grad, rtol=1e-8, atol=1e-10)
        _close(bn.weight.grad, ref.weight.grad, rtol=1e-8, atol=1e-10)
        _close(bn.bias.grad, ref.bias.grad, rtol=1e-8, atol=1e-10)
        bn.zero_grad()
        ref.zero_grad()
    _close(bn.running_mean, ref.running_mean)
    _close(bn.running_var, ref.running_var)  # unbiased, PyTorch's convention
    bn.eval()
    ref.eval()
    x, xt = _pair((1, 5), 42, device=device)
    _close(bn(x).numpy(), ref(xt), rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("device", DEVICES)
def test_cross_entropy_module(device):
    s, st = _pair((6, 4), 3, 4.0, device)
    y = np.array([0, 3, 1, 2, 2, 0])
    loss, ref = nn.CrossEntropyLoss()(s, y), TF.cross_entropy(st, torch.tensor(y, device=device))
    _close(loss.numpy(), ref)
    loss.backward()
    ref.backward()
    _close(s.grad, st.grad)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(6, 3), (5,)])
def test_mse_module(device, reduction, shape):
    p, pt = _pair(shape, 5, 2.0, device)
    t = np.random.default_rng(6).standard_normal(shape)
    loss = nn.MSELoss(reduction)(p, t)
    ref = TF.mse_loss(pt, torch.tensor(t, device=device), reduction=reduction)
    _close(loss.numpy(), ref)
    (loss.sum() if reduction == "none" else loss).backward()
    (ref.sum() if reduction == "none" else ref).backward()
    _close(p.grad, pt.grad)


@pytest.mark.parametrize("device", DEVICES)
def test_hinge_is_lecture_sum_not_torch_mean_over_classes(device):
    s, st = _pair((6, 4), 4, 2.0, device)
    y = np.array([0, 3, 1, 2, 2, 0])
    loss = nn.MulticlassHingeLoss(margin=1.0)(s, y)
    ref = TF.multi_margin_loss(st, torch.tensor(y, device=device), margin=1.0) * 4  # torch divides by C
    _close(loss.numpy(), ref)
    loss.backward()
    ref.backward()
    _close(s.grad, st.grad)


def test_hinge_slide_example():
    # slide 48-49: scores of a cat image [3.2, 5.1, -1.7], label cat → loss 2.9
    s = fcnet.tensor(np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]]))
    per = nn.MulticlassHingeLoss(reduction="none")(s, [0, 1, 2]).numpy()
    np.testing.assert_allclose(per, [2.9, 0.0, 12.9], atol=1e-12)


def test_softmax_entropy_kl_identity():
    p = np.array([0.1, 0.6, 0.3])
    q = np.array([0.2, 0.5, 0.3])
    h = nn.functional.entropy(p).item()
    kl = nn.functional.kl_div(p, q).item()
    ce = -(p * np.log(q)).sum()
    assert h + kl == pytest.approx(ce, rel=1e-12)
    ref = TF.kl_div(torch.tensor(np.log(q)), torch.tensor(p), reduction="sum").item()
    assert kl == pytest.approx(ref, rel=1e-12)


def test_dropout_eval_identity_and_train_statistics():
    d = nn.Dropout(0.3, rng=0)
    x = fcnet.tensor(np.ones((400, 500)))
    y = d(x).numpy()
    kept = (y != 0).mean()
    assert abs(kept - 0.7) < 0.01
    assert abs(y.mean() - 1.0) < 0.01  # inverted: the expectation is kept
    np.testing.assert_allclose(y[y != 0], 1 / 0.7)
    d.eval()
    assert d(x) is x
    a = nn.Dropout(0.5, rng=5)(x).numpy()
    b = nn.Dropout(0.5, rng=5)(x).numpy()
    assert a.tobytes() == b.tobytes()


# --- optimizers -------------------------------------------------------------------------

def _run(make_ours, make_theirs, steps=25, seed=0, device="cpu"):
    rng = np.random.default_rng(seed)
    w0 = rng.standard_normal((4, 3))
    b0 = rng.standard_normal(3)
    ours = [fcnet.tensor(w0.copy(), requires_grad=True, device=device),
            fcnet.tensor(b0.copy(), requires_grad=True, device=device)]
    theirs = [torch.tensor(w0.copy(), requires_grad=True, device=device),
              torch.tensor(b0.copy(), requires_grad=True, device=device)]
    o, t = make_ours(ours), make_theirs(theirs)
    x = rng.standard_normal((10, 4))
    for _ in range(steps):
        o.zero_grad()
        t.zero_grad()
        lo = ((fcnet.tensor(x, device=device) @ ours[0] + ours[1]).tanh() ** 2).mean()
        lt = ((torch.tensor(x, device=device) @ theirs[0] + theirs[1]).tanh() ** 2).mean()
        lo.backward()
        lt.backward()
        o.step()
        t.step()
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.numpy(), b.detach().cpu().numpy(), rtol=1e-9, atol=1e-12)
    return ours


OPT_CASES = {
    "sgd": (lambda p: optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_wd": (lambda p: optim.SGD(p, lr=0.1, weight_decay=0.01),
               lambda p: torch.optim.SGD(p, lr=0.1, weight_decay=0.01)),
    "momentum_pytorch": (lambda p: optim.Momentum(p, lr=0.1, momentum=0.9, form="pytorch"),
                         lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9)),
    "momentum_nesterov": (lambda p: optim.Momentum(p, lr=0.1, momentum=0.9, form="pytorch", nesterov=True),
                          lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True)),
    "momentum_nesterov_wd": (lambda p: optim.Momentum(p, lr=0.05, momentum=0.8, weight_decay=0.01, form="pytorch",
                                                      nesterov=True),
                             lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, weight_decay=0.01, nesterov=True)),
    "momentum_lecture": (lambda p: optim.Momentum(p, lr=0.1, momentum=0.9),
                         lambda p: torch.optim.SGD(p, lr=0.1 * (1 - 0.9), momentum=0.9)),
    "rmsprop": (lambda p: optim.RMSProp(p, lr=0.01, rho=0.999, eps=1e-5),
                lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.999, eps=1e-5)),
    "rmsprop_wd": (lambda p: optim.RMSProp(p, lr=0.01, rho=0.9, eps=1e-8, weight_decay=0.1),
                   lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.1)),
    "adam_torch": (lambda p: optim.Adam(p, lr=0.01, eps=1e-8, eps_inside=False),
                   lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-8)),
    "adam_wd": (lambda p: optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, eps_inside=False,
                                     weight_decay=0.05),
                lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05)),
    "adamw": (lambda p: optim.Adam(p, lr=0.01, eps=1e-8, eps_inside=False, weight_decay=0.05,
                                   decoupled_weight_decay=True),
              lambda p: torch.optim.AdamW(p, lr=0.01, eps=1e-8, weight_decay=0.05)),
    "adamw_class": (lambda p: optim.AdamW(p, lr=0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
    "adagrad_torch": (lambda p: optim.Adagrad(p, lr=0.1, eps=1e-10, eps_inside=False),
                      lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-10)),
    "adagrad_wd": (lambda p: optim.Adagrad(p, lr=0.05, eps=1e-6, eps_inside=False, weight_decay=0.1),
                   lambda p: torch.optim.Adagrad(p, lr=0.05, eps=1e-6, weight_decay=0.1)),
    "rmsprop_alias": (lambda p: optim.RMSprop(p, lr=0.01, rho=0.9, eps=1e-8),
                      lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-8)),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(OPT_CASES))
def test_optimizer_matches_torch_for_25_steps(name, device):
    _run(*OPT_CASES[name], steps=30, device=device)


@pytest.mark.parametrize("device", DEVICES)
def test_lecture_adam_on_device_equals_cpu(device):
    rng = np.random.default_rng(2)
    grads = [rng.standard_normal(7) for _ in range(25)]
    results = []
    for dev in ("cpu", device):
        p = fcnet.tensor(np.linspace(-1, 1, 7), requires_grad=True, device=dev)
        opt = optim.Adam([p], lr=0.05, weight_decay=0.01)
        for g in grads:
            p.grad = backend.to_device(g.copy(), dev)
            opt.step()
        results.append(p.numpy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-12)


@pytest.mark.parametrize("path", ["numpy", "numba"])
def test_nesterov_momentum_matches_torch_on_both_kernel_paths(path):
    """v ← μ v + g; θ ← θ − ε (g + μ v): torch.optim.SGD(nesterov=True), on the NumPy reference and compiled."""
    from fcnet import kernels

    if path == "numba":
        pytest.importorskip("numba")
    try:
        assert kernels.use(path) == path
        nesterov = _run(lambda p: optim.Momentum(p, lr=0.1, momentum=0.9, form="pytorch", nesterov=True),
                        lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), steps=30)
        with pytest.raises(AssertionError):  # the look-ahead changes the path: plain momentum is not torch's nesterov
            _run(lambda p: optim.Momentum(p, lr=0.1, momentum=0.9, form="pytorch"),
                 lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True), steps=30)
    finally:
        kernels.use(None)
    assert all(np.isfinite(t.numpy()).all() for t in nesterov)


def test_nesterov_needs_pytorchs_form():
    p = [fcnet.tensor(np.zeros(2), requires_grad=True)]
    with pytest.raises(ValueError, match=r"^nesterov=True needs form='pytorch'"):
        optim.Momentum(p, lr=0.1, nesterov=True)


def test_lecture_momentum_with_dampening_differs_on_first_step():
    # torch's dampening=μ skips the damping on the first step, so it is not the lecture's form
    with pytest.raises(AssertionError):
        _run(lambda p: optim.Momentum(p, lr=0.1, momentum=0.9),
             lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.9), steps=5)


def test_lecture_adam_eps_inside_against_slide_reference():
    rng = np.random.default_rng(1)
    grads = [rng.standard_normal(5) for _ in range(30)]
    theta0 = rng.standard_normal(5)
    p = fcnet.tensor(theta0.copy(), requires_grad=True)
    opt = optim.Adam([p], lr=0.05, betas=(0.9, 0.999), eps=1e-5)
    # the slide, written out: v, r, corrected, θ ← θ − ε ṽ / √(r̃ + δ)
    theta, v, r = theta0.copy(), np.zeros(5), np.zeros(5)
    for t, g in enumerate(grads, start=1):
        p.grad = g.copy()
        opt.step()
        v = 0.9 * v + 0.1 * g
        r = 0.999 * r + 0.001 * g * g
        vh, rh = v / (1 - 0.9**t), r / (1 - 0.999**t)
        theta = theta - 0.05 * vh / np.sqrt(rh + 1e-5)
    np.testing.assert_allclose(p.numpy(), theta, rtol=1e-12)


@pytest.mark.parametrize("max_norm", [0.05, 100.0])
def test_clip_grad_norm_matches_torch(max_norm):
    rng = np.random.default_rng(0)
    gs = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    ours = [fcnet.tensor(np.zeros_like(g), requires_grad=True) for g in gs]
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in gs]
    for o, t, g in zip(ours, theirs, gs, strict=True):
        o.grad = g.copy()
        t.grad = torch.tensor(g.copy())
    n1 = optim.clip_grad_norm(ours, max_norm)
    n2 = torch.nn.utils.clip_grad_norm_(theirs, max_norm)
    assert n1 == pytest.approx(n2.item(), rel=1e-12)
    for o, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(o.grad, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_matches_torch():
    g = np.random.default_rng(0).standard_normal((5, 5)) * 3
    o = fcnet.tensor(np.zeros((5, 5)), requires_grad=True)
    t = torch.zeros((5, 5), dtype=torch.float64, requires_grad=True)
    o.grad, t.grad = g.copy(), torch.tensor(g.copy())
    optim.clip_grad_value([o], 1.0)
    torch.nn.utils.clip_grad_value_([t], 1.0)
    np.testing.assert_array_equal(o.grad, t.grad.numpy())


def test_optimizer_state_dict_resumes_exactly():
    def make(p):
        return optim.Adam(p, lr=0.01)
    a = _run(make, lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-5), steps=0)  # noqa: F841
    rng = np.random.default_rng(0)
    w = rng.standard_normal(6)
    grads = [rng.standard_normal(6) for _ in range(10)]
    p1 = fcnet.tensor(w.copy(), requires_grad=True)
    o1 = make([p1])
    for g in grads:
        p1.grad = g.copy()
        o1.step()
    p2 = fcnet.tensor(w.copy(), requires_grad=True)
    o2 = make([p2])
    for g in grads[:4]:
        p2.grad = g.copy()
        o2.step()
    sd = o2.state_dict()
    p3 = fcnet.tensor(p2.numpy().copy(), requires_grad=True)
    o3 = make([p3])
    o3.load_state_dict(sd)
    for g in grads[4:]:
        p3.grad = g.copy()
        o3.step()
    assert p3.numpy().tobytes() == p1.numpy().tobytes()


def test_invalid_hyperparameters():
    p = [fcnet.tensor(np.zeros(2), requires_grad=True)]
    with pytest.raises(ValueError, match="Invalid learning rate"):
        optim.SGD(p, lr=-1)
    with pytest.raises(ValueError, match="Invalid momentum"):
        optim.Momentum(p, lr=0.1, momentum=1.5)
    with pytest.raises(ValueError, match="Invalid beta"):
        optim.Adam(p, lr=0.1, betas=(1.0, 0.9))
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)


def test_schedules():
    p = [fcnet.tensor(np.zeros(2), requires_grad=True)]
    o = optim.SGD(p, lr=1.0)
    s = optim.StepLR(o, step_size=2, gamma=0.5)
    lrs = [o.lr] + [s.step() for _ in range(5)]
    assert lrs == [1.0, 1.0, 0.5, 0.5, 0.25, 0.25]
    o = optim.SGD(p, lr=1.0)
    c = optim.CosineLR(o, total_steps=4)
    assert [round(c.step(), 6) for _ in range(4)] == [0.853553, 0.5, 0.146447, 0.0]
    o = optim.SGD(p, lr=1.0)
    w = optim.WarmupLR(o, 2, after=optim.CosineLR(o, total_steps=2))
    assert o.lr == 0.5
    assert [round(w.step(), 6) for _ in range(4)] == [1.0, 1.0, 0.5, 0.0]
