"""Every gate against PyTorch in float64: values and the gradient of every input (1e-9 relative)."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import fcnet
import fcnet.functional as F
from fcnet import backend, ops
from tests.conftest import DEVICES

torch = pytest.importorskip("torch")
torch.set_default_dtype(torch.float64)

RTOL = 1e-9
_MSE_TARGET = np.random.default_rng(7).standard_normal((5, 3))

# name: (fcnet function, torch function, input shapes, domain, gate classes covered)
# domain "pos" draws inputs in [0.5, 2] (log, div, pow); "any" draws N(0, 1).
ROWS = {
    "add": (lambda a, b: a + b, lambda a, b: a + b, [(3, 4), (3, 4)], "any", ["Add"]),
    "add_broadcast": (lambda a, b: a + b, lambda a, b: a + b, [(2, 3, 4), (4,)], "any", ["Add"]),
    "add_broadcast_keep": (lambda a, b: a + b, lambda a, b: a + b, [(3, 1), (1, 4)], "any", ["Add"]),
    "sub": (lambda a, b: a - b, lambda a, b: a - b, [(3, 4), (1, 4)], "any", ["Sub"]),
    "rsub_scalar": (lambda a: 2.5 - a, lambda a: 2.5 - a, [(5,)], "any", ["Sub"]),
    "mul": (lambda a, b: a * b, lambda a, b: a * b, [(3, 4), (3, 1)], "any", ["Mul"]),
    "mul_scalar": (lambda a: a * 3.0, lambda a: a * 3.0, [(3, 4)], "any", ["Mul"]),
    "div": (lambda a, b: a / b, lambda a, b: a / b, [(3, 4), (4,)], "pos", ["Div"]),
    "rdiv_scalar": (lambda a: 1.0 / a, lambda a: 1.0 / a, [(6,)], "pos", ["Div"]),
    "neg": (lambda a: -a, lambda a: -a, [(3, 4)], "any", ["Neg"]),
    "pow2": (lambda a: a**2, lambda a: a**2, [(3, 4)], "any", ["Pow"]),
    "pow_frac": (lambda a: a**1.7, lambda a: a**1.7, [(3, 4)], "pos", ["Pow"]),
    "pow_neg": (lambda a: a**-1.5, lambda a: a**-1.5, [(3, 4)], "pos", ["Pow"]),
    "exp": (fcnet.exp, torch.exp, [(3, 4)], "any", ["Exp"]),
    "log": (fcnet.log, torch.log, [(3, 4)], "pos", ["Log"]),
    "abs": (fcnet.abs, torch.abs, [(3, 4)], "any", ["Abs"]),
    "matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4, 5)], "any", ["MatMul"]),
    "matmul_batched": (lambda a, b: a @ b, lambda a, b: a @ b, [(2, 3, 4), (4, 5)], "any", ["MatMul"]),
    "matmul_vec": (lambda a, b: a @ b, lambda a, b: a @ b, [(3, 4), (4,)], "any", ["MatMul"]),
    "vec_matmul": (lambda a, b: a @ b, lambda a, b: a @ b, [(4,), (4, 5)], "any", ["MatMul"]),
    "sum_all": (lambda a: a.sum(), lambda a: a.sum(), [(3, 4)], "any", ["Sum"]),
    "sum_axis": (lambda a: a.sum(axis=1), lambda a: a.sum(dim=1), [(3, 4, 2)], "any", ["Sum"]),
    "sum_keep": (lambda a: a.sum(axis=0, keepdims=True), lambda a: a.sum(dim=0, keepdim=True),
                 [(3, 4)], "any", ["Sum"]),
    "sum_axes": (lambda a: a.sum(axis=(0, 2)), lambda a: a.sum(dim=(0, 2)), [(3, 4, 2)], "any", ["Sum"]),
    "mean_all": (lambda a: a.mean(), lambda a: a.mean(), [(3, 4)], "any", ["Mean"]),
    "mean_axis": (lambda a: a.mean(axis=-1), lambda a: a.mean(dim=-1), [(3, 4)], "any", ["Mean"]),
    "max_all": (lambda a: a.max(), lambda a: a.max(), [(3, 4)], "any", ["Max"]),
    "max_axis": (lambda a: a.max(axis=1), lambda a: a.max(dim=1).values, [(3, 4)], "any", ["Max"]),
    "max_keep": (lambda a: a.max(axis=0, keepdims=True), lambda a: a.max(dim=0, keepdim=True).values,
                 [(3, 4)], "any", ["Max"]),
    "maximum": (fcnet.maximum, torch.maximum, [(3, 4), (4,)], "any", ["Maximum"]),
    "reshape": (lambda a: a.reshape(4, 3), lambda a: a.reshape(4, 3), [(3, 4)], "any", ["Reshape"]),
    "reshape_infer": (lambda a: a.reshape(-1), lambda a: a.reshape(-1), [(3, 4)], "any", ["Reshape"]),
    "transpose": (lambda a: a.T, lambda a: a.T, [(3, 4)], "any", ["Transpose"]),
    "permute": (lambda a: a.transpose(2, 0, 1), lambda a: a.permute(2, 0, 1), [(2, 3, 4)], "any",
                ["Transpose"]),
    "getitem_slice": (lambda a: a[1:, ::2], lambda a: a[1:, ::2], [(3, 4)], "any", ["GetItem"]),
    "getitem_fancy": (lambda a: a[[0, 2, 0]], lambda a: a[[0, 2, 0]], [(3, 4)], "any", ["GetItem"]),
    "getitem_pairs": (lambda a: a[np.arange(3), np.array([1, 0, 3])],
                      lambda a: a[torch.arange(3, device=a.device), torch.tensor([1, 0, 3], device=a.device)],
                      [(3, 4)], "any", ["GetItem"]),
    "sigmoid": (fcnet.sigmoid, torch.sigmoid, [(3, 4)], "wide", ["Sigmoid"]),
    "tanh": (fcnet.tanh, torch.tanh, [(3, 4)], "any", ["Tanh"]),
    "relu": (fcnet.relu, torch.relu, [(3, 4)], "any", ["ReLU"]),
    "leaky_relu": (lambda a: fcnet.leaky_relu(a, 0.1), lambda a: torch.nn.functional.leaky_relu(a, 0.1),
                   [(3, 4)], "any", ["LeakyReLU"]),
    "cast": (lambda a: a.float().double(), lambda a: a.float().double(), [(3, 4)], "any", ["Cast"]),
    "linear": (F.linear, torch.nn.functional.linear, [(5, 4), (3, 4), (3,)], "any", ["Linear"]),
    "linear_nobias": (F.linear, torch.nn.functional.linear, [(5, 4), (3, 4)], "any", ["Linear"]),
    "linear_3d": (F.linear, torch.nn.functional.linear, [(2, 5, 4), (3, 4), (3,)], "any", ["Linear"]),
    "linear_relu": (lambda x, w, b: F.linear_activation(x, w, b, "relu"),
                    lambda x, w, b: torch.relu(torch.nn.functional.linear(x, w, b)), [(5, 4), (3, 4), (3,)], "any",
                    ["LinearReLU"]),
    "cross_entropy": (lambda s: F.cross_entropy(s, np.array([0, 2, 1, 2])),
                      lambda s: torch.nn.functional.cross_entropy(s, torch.tensor([0, 2, 1, 2], device=s.device)),
                      [(4, 3)], "wide", ["SoftmaxCrossEntropy"]),
    "cross_entropy_sum": (lambda s: F.cross_entropy(s, np.array([0, 2, 1, 2]), reduction="sum"),
                          lambda s: torch.nn.functional.cross_entropy(s, torch.tensor([0, 2, 1, 2], device=s.device),
                                                                      reduction="sum"),
                          [(4, 3)], "any", ["SoftmaxCrossEntropy"]),
    "cross_entropy_none": (lambda s: F.cross_entropy(s, np.array([0, 2, 1, 2]), reduction="none"),
                           lambda s: torch.nn.functional.cross_entropy(s, torch.tensor([0, 2, 1, 2], device=s.device),
                                                                       reduction="none"),
                           [(4, 3)], "any", ["SoftmaxCrossEntropy"]),
    "cross_entropy_smooth": (lambda s: F.cross_entropy(s, np.array([0, 2, 1, 2]), label_smoothing=0.1),
                             lambda s: torch.nn.functional.cross_entropy(
                                 s, torch.tensor([0, 2, 1, 2], device=s.device), label_smoothing=0.1),
                             [(4, 3)], "any", ["SoftmaxCrossEntropy"]),
    "mse": (lambda p: F.mse_loss(p, _MSE_TARGET), lambda p: torch.nn.functional.mse_loss(
        p, torch.tensor(_MSE_TARGET, device=p.device)), [(5, 3)], "any", ["MeanSquaredError"]),
    "batch_norm": (F.batch_norm,
                   lambda x, g, b: torch.nn.functional.batch_norm(x, None, None, g, b, training=True),
                   [(6, 4), (4,), (4,)], "any", ["BatchNorm"]),
}


def _inputs(shapes, domain, seed):
    rng = np.random.default_rng(seed)
    if domain == "pos":
        return [rng.uniform(0.5, 2.0, s) for s in shapes]
    scale = 6.0 if domain == "wide" else 1.0
    return [rng.standard_normal(s) * scale for s in shapes]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(ROWS))
@pytest.mark.parametrize("seed", [0, 1])
def test_gate_matches_torch(name, seed, device):
    ours_fn, torch_fn, shapes, domain, _ = ROWS[name]
    arrays = _inputs(shapes, domain, seed)
    ours = [fcnet.tensor(a, requires_grad=True, device=device) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True, device=device) for a in arrays]
    out, ref = ours_fn(*ours), torch_fn(*theirs)
    assert out.dtype == np.float64
    assert out.device == device
    np.testing.assert_allclose(out.numpy(), ref.detach().cpu().numpy(), rtol=RTOL, atol=1e-12)
    upstream = np.random.default_rng(seed + 100).standard_normal(ref.shape)
    out.backward(upstream)
    ref.backward(torch.tensor(upstream, device=device))
    for mine, theirs_t in zip(ours, theirs, strict=True):
        assert mine.grad.shape == mine.shape
        np.testing.assert_allclose(backend.to_numpy(mine.grad), theirs_t.grad.cpu().numpy(), rtol=RTOL, atol=1e-12)


def test_every_gate_has_an_oracle_row():
    gates = {name for name, obj in inspect.getmembers(ops, inspect.isclass)
             if issubclass(obj, fcnet.Function) and obj is not fcnet.Function}
    covered = {g for row in ROWS.values() for g in row[4]}
    assert gates <= covered, f"gates without an oracle row: {sorted(gates - covered)}"


@pytest.mark.parametrize("device", DEVICES)
def test_composites_match_torch(device):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 5)) * 3
    for ours, ref in [(F.softmax, torch.softmax), (F.log_softmax, torch.log_softmax)]:
        a = fcnet.tensor(x, requires_grad=True, device=device)
        b = torch.tensor(x, requires_grad=True, device=device)
        o, r = ours(a, axis=1), ref(b, dim=1)
        np.testing.assert_allclose(o.numpy(), r.detach().cpu().numpy(), rtol=RTOL)
        up = rng.standard_normal(x.shape)
        o.backward(up)
        r.backward(torch.tensor(up, device=device))
        np.testing.assert_allclose(backend.to_numpy(a.grad), b.grad.cpu().numpy(), rtol=1e-8, atol=1e-12)
