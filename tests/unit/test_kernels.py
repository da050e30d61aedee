"""The compiled CPU kernels against the NumPy reference path (``FCNET_KERNELS=numpy``)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import fcnet
from fcnet import backend, kernels, nn, ops, optim
from fcnet import functional as F
from fcnet.errors import ConfigError

pytest.importorskip("numba")

OPTIMIZERS = [
    (optim.SGD, {"lr": 0.1}),
    (optim.SGD, {"lr": 0.1, "weight_decay": 0.1}),
    (optim.Momentum, {"lr": 0.1}),
    (optim.Momentum, {"lr": 0.1, "weight_decay": 0.05}),
    (optim.Momentum, {"lr": 0.1, "form": "pytorch", "weight_decay": 0.01}),
    (optim.Momentum, {"lr": 0.1, "form": "pytorch", "nesterov": True}),
    (optim.Momentum, {"lr": 0.1, "form": "pytorch", "nesterov": True, "weight_decay": 0.01}),
    (optim.RMSProp, {"lr": 0.01}),
    (optim.RMSProp, {"lr": 0.01, "weight_decay": 0.1}),
    (optim.Adagrad, {"lr": 0.01}),  # NumPy on both paths: checks the dispatch falls back
    (optim.Adagrad, {"lr": 0.01, "eps_inside": False, "weight_decay": 0.1}),
    (optim.Adam, {"lr": 0.01}),  # δ inside the root
    (optim.Adam, {"lr": 0.01, "eps_inside": False, "weight_decay": 0.1}),  # δ outside, coupled decay
    (optim.Adam, {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True}),
    (optim.AdamW, {"lr": 0.01}),
]


@pytest.fixture
def path_switch():
    """Run the body on a chosen kernel path; restore the path chosen by the environment after."""
    yield kernels.use
    kernels.use(None)


def _optimizer_run(path, cls, kw, dtype, steps=6):
    assert kernels.use(path) == path
    rng = np.random.default_rng(0)
    ps = [fcnet.Tensor(rng.standard_normal((40, 30)).astype(dtype), requires_grad=True),
          fcnet.Tensor(rng.standard_normal(30).astype(dtype), requires_grad=True)]
    opt = cls(ps, **kw)
    for _ in range(steps):
        for p in ps:
            p.grad = rng.standard_normal(p.shape).astype(dtype)
        opt.step()
    return [p.data for p in ps] + [v for st in opt.state for v in st.values()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("cls", "kw"), OPTIMIZERS)
def test_compiled_optimizer_step_gives_the_reference_bits(path_switch, cls, kw, dtype):
    ref = _optimizer_run("numpy", cls, kw, dtype)
    fast = _optimizer_run("numba", cls, kw, dtype)
    assert len(ref) == len(fast) >= 2
    for a, b in zip(ref, fast, strict=True):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)  # the same operations in the same order: exact
    moved = _optimizer_run("numba", cls, kw, dtype, steps=0)
    assert not np.array_equal(moved[0], fast[0])  # the update did something


def _ce_run(path, dtype, ls, reduction):
    kernels.use(path)
    rng = np.random.default_rng(1)
    s = fcnet.Tensor((rng.standard_normal((64, 10)) * 5).astype(dtype), requires_grad=True)
    y = rng.integers(0, 10, 64)
    loss = F.cross_entropy(s, y, reduction=reduction, label_smoothing=ls)
    (loss.sum() if reduction == "none" else loss).backward()
    h = fcnet.Tensor(rng.standard_normal((64, 10)).astype(dtype), requires_grad=True)
    out = F.relu(h)
    (out * out).sum().backward()
    return loss.data, s.grad, out.data, h.grad


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ls", [0.0, 0.1])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_ce_and_relu_agree_with_the_reference(path_switch, dtype, ls, reduction):
    ref = _ce_run("numpy", dtype, ls, reduction)
    fast = _ce_run("numba", dtype, ls, reduction)
    tol = 1e-6 if dtype == np.float32 else 1e-15
    for a, b in zip(ref, fast, strict=True):
        assert a.dtype == b.dtype == dtype and a.shape == b.shape
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol)
    np.testing.assert_array_equal(ref[3], fast[3])  # ReLU's backward is a selection: exact


def test_compiled_cross_entropy_keeps_tiny_losses_exact(path_switch):
    kernels.use("numba")
    s = fcnet.tensor(np.array([[10.0, -100.0, -100.0]]))
    loss = F.cross_entropy(s, np.array([0]))
    assert loss.item() == pytest.approx(2 * np.exp(-110.0), rel=1e-12)


def test_out_of_range_targets_take_the_reference_path(path_switch):
    kernels.use("numba")
    s = fcnet.tensor(np.zeros((2, 3), np.float32), requires_grad=True)
    with pytest.raises(IndexError):  # the gate alone (F.cross_entropy checks first): NumPy's indexing error
        ops.SoftmaxCrossEntropy.apply(s, targets=np.array([0, 3]))


def _train(path, steps, threads_chunk=None, monkeypatch=None, state=None, start=0):
    kernels.use(path)
    if threads_chunk is not None:
        monkeypatch.setattr(backend, "_MIN_CHUNK", threads_chunk)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((256, 20)).astype(np.float32)
    y = rng.integers(0, 4, 256)
    model = nn.FullyConnectedNet(20, [64, 32], 4, rng=0)
    opt = optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-3)
    if state is not None:
        model.load_state_dict(state[0])
        opt.load_state_dict(state[1])
    loss_fn = nn.CrossEntropyLoss()
    for i in range(start, start + steps):
        xb, yb = x[32 * (i % 8):32 * (i % 8 + 1)], y[32 * (i % 8):32 * (i % 8 + 1)]
        opt.zero_grad()
        loss_fn(model(fcnet.tensor(xb)), yb).backward()
        opt.step()
    return model, opt


@pytest.mark.parametrize("path", ["numpy", "numba"])
def test_resume_is_bit_exact_and_runs_repeat(path_switch, path, monkeypatch):
    full, _ = _train(path, 8)
    again, _ = _train(path, 8)
    half, opt = _train(path, 4)
    sd = {k: v.copy() for k, v in half.state_dict().items()}
    resumed, _ = _train(path, 4, state=(sd, opt.state_dict()), start=4)
    for (k, a), b, c in zip(full.state_dict().items(), again.state_dict().values(),
                            resumed.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=k)  # two runs, the same bits
        np.testing.assert_array_equal(a, c, err_msg=k)  # 4 steps + resume + 4 steps = 8 steps


def test_chunked_compiled_update_is_deterministic_and_equal_to_serial(path_switch, monkeypatch):
    serial, _ = _train("numba", 6)
    chunked, _ = _train("numba", 6, threads_chunk=64, monkeypatch=monkeypatch)  # every layer split on threads
    chunked2, _ = _train("numba", 6, threads_chunk=64, monkeypatch=monkeypatch)
    for a, b, c in zip(serial.state_dict().values(), chunked.state_dict().values(),
                       chunked2.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(b, c)


def test_kernel_path_from_the_environment(path_switch, monkeypatch):
    monkeypatch.setenv("FCNET_KERNELS", "numpy")
    assert kernels.use(None) == "numpy" and kernels.compiled() is None and backend.cpu_kernels() is None
    monkeypatch.setenv("FCNET_KERNELS", "numba")
    assert kernels.use(None) == "numba" and kernels.compiled() is not None
    monkeypatch.setenv("FCNET_KERNELS", "fortran")
    with pytest.raises(ConfigError, match=r"FCNET_KERNELS='fortran'.*'numba' or 'numpy'"):
        kernels.use(None)


def test_missing_numba_falls_back_to_numpy_with_one_warning(path_switch, monkeypatch):
    monkeypatch.setitem(sys.modules, "numba", None)  # import numba now raises ImportError
    monkeypatch.delitem(sys.modules, "fcnet.kernels.jitted", raising=False)
    monkeypatch.delattr(kernels, "jitted", raising=False)
    with pytest.warns(RuntimeWarning, match="Numba is unusable here"):
        assert kernels.use("numba") == "numpy"
    assert kernels.compiled() is None
    opt_ref = _optimizer_run("numpy", optim.Adam, {"lr": 0.01}, np.float32)
    assert all(np.isfinite(a).all() for a in opt_ref)


def test_warm_up_compiles_and_reports_seconds(path_switch):
    kernels.use("numba")
    assert kernels.warm_up() > 0.0
    kernels.use("numpy")
    assert kernels.warm_up() == 0.0


def test_disk_cache_moves_to_the_user_cache_when_the_package_is_read_only(monkeypatch, tmp_path):
    monkeypatch.setenv("NUMBA_CACHE_DIR", "placeholder")  # restored after the test
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setattr(kernels.os, "access", lambda path, mode: False)
    kernels._cache_dir()
    assert kernels.os.environ["NUMBA_CACHE_DIR"] == str(tmp_path / "fcnet" / "numba")
    monkeypatch.setattr(kernels.os, "access", lambda path, mode: True)
    monkeypatch.delenv("NUMBA_CACHE_DIR")
    kernels._cache_dir()
    assert "NUMBA_CACHE_DIR" not in kernels.os.environ  # a writable package keeps its own __pycache__


def _activation_run(path, name, dtype):
    kernels.use(path)
    rng = np.random.default_rng(2)
    h = fcnet.Tensor((rng.standard_normal((33, 17)) * 3).astype(dtype), requires_grad=True)
    out = h.leaky_relu(0.1) if name == "leaky_relu" else getattr(h, name)()
    out.backward(rng.standard_normal((33, 17)).astype(dtype))
    return out.data, h.grad


@pytest.mark.parametrize("name", ["leaky_relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activation_backward_kernels_agree_with_the_reference(path_switch, monkeypatch, name, dtype):
    ref = _activation_run("numpy", name, dtype)
    calls = []
    kernel = f"{name}_backward"
    real = getattr(kernels.compiled(), kernel) if kernels.use("numba") == "numba" else None
    monkeypatch.setattr(kernels.compiled(), kernel, lambda *a: (calls.append(1), real(*a))[1])
    fast = _activation_run("numba", name, dtype)
    assert calls, f"the compiled {kernel} did not run"
    for a, b in zip(ref, fast, strict=True):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)  # the gate's own operations in its order: exact


@pytest.mark.parametrize("activation", ["relu", "leaky_relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("path", ["numpy", "numba"])
def test_inference_fuses_bias_and_activation_in_place(path_switch, monkeypatch, path, activation):
    kernels.use(path)
    model = nn.FullyConnectedNet(20, [16, 8], 3, activation=activation, negative_slope=0.1, rng=0)
    model.eval()
    x = np.random.default_rng(3).standard_normal((50, 20)).astype(np.float32)
    graph = model(fcnet.tensor(x))  # the parameters require grad: Linear gate then activation gate
    assert graph.requires_grad
    fused, passes = [], []
    real = F.linear_activation
    monkeypatch.setattr(F, "linear_activation", lambda *a: (fused.append(a[3]), real(*a))[1])
    if path == "numba":
        one_pass = kernels.compiled().bias_activation
        monkeypatch.setattr(kernels.compiled(), "bias_activation", lambda *a: (passes.append(a[2]), one_pass(*a)))
    with fcnet.no_grad():
        out = model(fcnet.tensor(x))
    assert fused == [activation, activation] and not out.requires_grad
    kind = {"relu": 1, "leaky_relu": 2, "sigmoid": 3, "tanh": 4}[activation]
    assert passes == ([kind, kind, 0] if path == "numba" else [])  # two fused layers, then the output's bias
    if path == "numpy" or activation in ("relu", "leaky_relu"):
        np.testing.assert_array_equal(out.data, graph.data)  # the same arithmetic, in place
    else:  # Numba's exp/tanh against NumPy's: within an ulp or two of float32
        np.testing.assert_allclose(out.data, graph.data, rtol=2e-6, atol=2e-7)


def _bn_dropout_run(path, dtype):
    kernels.use(path)
    rng = np.random.default_rng(4)
    x = fcnet.Tensor((rng.standard_normal((37, 12)) * 2 + 1).astype(dtype), requires_grad=True)
    gamma = fcnet.Tensor(rng.standard_normal(12).astype(dtype), requires_grad=True)
    beta = fcnet.Tensor(rng.standard_normal(12).astype(dtype), requires_grad=True)
    y = F.batch_norm(x, gamma, beta)
    z = F.dropout(y, p=0.3, rng=7)
    z.backward(rng.standard_normal((37, 12)).astype(dtype))
    return y.data, z.data, x.grad, gamma.grad, beta.grad


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_norm_and_dropout_kernels_agree_with_the_reference(path_switch, monkeypatch, dtype):
    ref = _bn_dropout_run("numpy", dtype)
    kernels.use("numba")
    calls = []
    for name in ("batch_norm_forward", "batch_norm_backward", "dropout_mask"):
        real = getattr(kernels.compiled(), name)
        monkeypatch.setattr(kernels.compiled(), name,
                            lambda *a, _n=name, _f=real: (calls.append(_n), _f(*a))[1])
    fast = _bn_dropout_run("numba", dtype)
    assert calls == ["batch_norm_forward", "dropout_mask", "batch_norm_backward"]
    assert ((ref[1] == 0) == (fast[1] == 0)).all() and (fast[1] == 0).any()  # the same units dropped
    for a, b in zip(ref, fast, strict=True):
        assert a.dtype == b.dtype == dtype and a.shape == b.shape
        np.testing.assert_array_equal(a, b)  # the gate's operations in its order: exact


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_linear_bias_and_relu_forward_kernels_are_exact(path_switch, monkeypatch, dtype):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((9, 5)).astype(dtype)
    w, b = rng.standard_normal((4, 5)).astype(dtype), rng.standard_normal(4).astype(dtype)
    h = np.array([[-0.0, np.nan, -1.0, 2.0, 0.0, -np.inf, np.inf]], dtype)
    outs = {}
    for path in ("numpy", "numba"):
        kernels.use(path)
        calls = []
        if path == "numba":
            for name in ("bias_activation", "relu_forward"):
                real = getattr(kernels.compiled(), name)
                monkeypatch.setattr(kernels.compiled(), name, lambda *a, _f=real, _n=name: (calls.append(_n), _f(*a)))
        lin = ops.Linear.apply(fcnet.tensor(x), fcnet.tensor(w), fcnet.tensor(b)).data
        outs[path] = (lin, F.relu(fcnet.tensor(h)).data)
        assert calls == ([] if path == "numpy" else ["bias_activation", "relu_forward"])
    for a, c in zip(outs["numpy"], outs["numba"], strict=True):
        np.testing.assert_array_equal(a, c)
        assert (np.signbit(a) == np.signbit(c)).all()  # -0 becomes +0 on both, NaN stays NaN


# --- issue #20: large non-contiguous parameters, float16 -------------------------------------


def _strided_run(path, cls, kw, monkeypatch):
    kernels.use(path)
    monkeypatch.setattr(backend, "_threads", 2)  # the chunked path, whatever the machine's cores
    rng = np.random.default_rng(8)
    base = rng.standard_normal((1024, 1025)).astype(np.float32)
    strided = fcnet.Tensor(base.T, requires_grad=True)  # 2^20 + 1024 elements, Fortran order
    plain = fcnet.Tensor(base.T.copy(), requires_grad=True)
    assert not strided.data.flags.c_contiguous and strided.data.size >= 1 << 20
    opt = cls([strided, plain], **kw)
    for _ in range(2):
        g = rng.standard_normal(plain.shape).astype(np.float32)
        strided.grad, plain.grad = g, g.copy()
        opt.step()
    return strided.data, plain.data


@pytest.mark.parametrize(("cls", "kw"), [(optim.Adam, {"lr": 0.01}), (optim.SGD, {"lr": 0.1})])
@pytest.mark.parametrize("path", ["numpy", "numba"])
def test_large_non_contiguous_parameter_is_updated(path_switch, monkeypatch, path, cls, kw):
    start = np.random.default_rng(8).standard_normal((1024, 1025)).astype(np.float32).T
    strided, plain = _strided_run(path, cls, kw, monkeypatch)
    assert not np.array_equal(plain, start)
    np.testing.assert_array_equal(strided, plain)  # the same update as its contiguous copy


def _every_kernel_run(path, dtype, strided):
    """Outputs and gradients of every gate and optimizer that has a compiled twin."""
    kernels.use(path)
    rng = np.random.default_rng(9)

    def leaf(*shape, scale=1.0):
        a = (rng.standard_normal(shape[::-1] if strided else shape) * scale).astype(dtype)
        return fcnet.Tensor(a.T if strided else a, requires_grad=True)

    outs = []
    h = leaf(12, 8, scale=3)
    for name in ("relu", "leaky_relu", "sigmoid", "tanh"):
        o = h.leaky_relu(0.1) if name == "leaky_relu" else getattr(h, name)()
        g = rng.standard_normal((8, 12) if strided else (12, 8)).astype(dtype)
        o.backward(g.T if strided else g)
        outs += [o.data, h.grad]
        h.grad = None
    s = leaf(12, 5, scale=4)
    loss = F.cross_entropy(s, rng.integers(0, 5, 12), label_smoothing=0.1)
    loss.backward()
    outs += [loss.data, s.grad]
    x, gamma, beta = leaf(12, 6), leaf(6), leaf(6)
    y = F.dropout(F.batch_norm(x, gamma, beta), p=0.3, rng=7)
    y.backward(np.ones(y.shape, dtype))
    outs += [y.data, x.grad, gamma.grad, beta.grad]
    w, b = leaf(7, 6), leaf(7)
    lin = ops.Linear.apply(x, w, b)
    with fcnet.no_grad():
        fused = F.linear_activation(x, w, b, "relu")
    outs += [lin.data, fused.data]
    for cls, kw in OPTIMIZERS:
        p = leaf(9, 4)
        opt = cls([p], **kw)
        for _ in range(3):
            g = rng.standard_normal((4, 9) if strided else (9, 4)).astype(dtype)
            p.grad = g.T if strided else g
            opt.step()
        outs += [p.data]
    return outs


@pytest.mark.parametrize("strided", [False, True])
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_numba_path_equals_numpy_path_for_every_float_dtype_and_layout(path_switch, dtype, strided):
    ref = _every_kernel_run("numpy", dtype, strided)
    fast = _every_kernel_run("numba", dtype, strided)  # float16 crashed here (Numba has no float16)
    tol = {np.float16: 0, np.float32: 1e-6, np.float64: 1e-15}[dtype]
    for i, (a, b) in enumerate(zip(ref, fast, strict=True)):
        assert a.dtype == b.dtype == dtype and a.shape == b.shape, i
        np.testing.assert_allclose(b, a, rtol=tol, atol=tol, err_msg=f"output {i}")


def test_float16_relu_runs_on_the_numba_path(path_switch):
    kernels.use("numba")
    out = fcnet.tensor(np.array([-1.0, 0.0, 2.0], np.float16)).relu()
    assert out.dtype == np.float16 and out.data.tolist() == [0.0, 0.0, 2.0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_fused_linear_relu_gate_gives_the_bits_of_linear_then_relu(path_switch, monkeypatch, dtype):
    rng = np.random.default_rng(10)
    arrays = [rng.standard_normal(s).astype(dtype) for s in ((33, 7), (5, 7), (5,), (33, 5))]
    outs = {}
    for path in ("numpy", "numba"):
        kernels.use(path)
        for fused in (False, True):
            x, w, b = (fcnet.Tensor(a.copy(), requires_grad=True) for a in arrays[:3])
            out = ops.LinearReLU.apply(x, w, b) if fused else F.relu(ops.Linear.apply(x, w, b))
            out.backward(arrays[3])
            outs[path, fused] = [out.data, x.grad, w.grad, b.grad]
    ref = outs["numpy", False]
    assert (ref[0] == 0).any() and (ref[0] > 0).any()  # both sides of the ReLU are exercised
    for key, got in outs.items():
        for a, c in zip(ref, got, strict=True):
            assert c.dtype == dtype
            np.testing.assert_array_equal(c, a, err_msg=str(key))


def test_training_forward_runs_linear_relu_as_one_gate(path_switch, monkeypatch):
    kernels.use("numba")
    calls = []
    real = ops.LinearReLU.forward
    monkeypatch.setattr(ops.LinearReLU, "forward", lambda self, *a: (calls.append(1), real(self, *a))[1])
    model = nn.FullyConnectedNet(6, [8, 4], 3, rng=0)
    x = np.random.default_rng(0).standard_normal((10, 6)).astype(np.float32)
    model(fcnet.tensor(x)).sum().backward()
    assert len(calls) == 2  # the two hidden layers; the output layer stays a Linear gate
    tanh_net = nn.FullyConnectedNet(6, [8], 3, activation="tanh", rng=0)
    tanh_net(fcnet.tensor(x)).sum().backward()
    assert len(calls) == 2


def test_elementwise_work_is_shared_out_once_per_thread(monkeypatch):
    monkeypatch.setattr(backend, "_threads", 3)
    monkeypatch.setattr(backend, "_MIN_CHUNK", 10)
    monkeypatch.setattr(backend, "_pool", None)
    submitted = []
    jobs = [[np.zeros(n, np.float32), np.ones(n, np.float32)] for n in (7, 25, 40)]
    strided = np.zeros((6, 5), np.float32).T
    jobs.append([strided, np.ones((5, 6), np.float32)])

    def add(a, b):
        a += b

    backend.parallel_elementwise(add, jobs)
    real_submit = backend._pool.submit
    monkeypatch.setattr(backend._pool, "submit", lambda *a: (submitted.append(1), real_submit(*a))[1])
    backend.parallel_elementwise(add, jobs)
    assert len(submitted) == 2  # 72 contiguous elements: three shares, two handed to the pool
    for a, _ in jobs:
        np.testing.assert_array_equal(a, 2.0)  # every element, the strided job's too, updated once per call
    backend._pool.shutdown(wait=True)
