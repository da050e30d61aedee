"""``fcnet exercise run``: a small net trained on digits with the student's functions in place of fcnet's.

The student's NumPy functions become fcnet gates (``Function`` subclasses whose forward and backward
call them), optimizers (an ``Optimizer`` whose kernel calls ``adam_step``), initialisers or a clipping
step.  Before training, one mini-batch goes through the net twice, once with the student's pieces and
once with fcnet's, from the same weights: the per-layer monitor compares ‖∂L/∂W‖ (or the first update,
or the initial scale) layer by layer, so a wrong piece is seen where it acts.  Then the net trains for
a few epochs; a correct solution reaches fcnet's accuracy, a wrong one does not.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

import fcnet
from fcnet import ops
from fcnet.exercise.grading import tr
from fcnet.nn import functional as F
from fcnet.tensor import Function, Tensor

__all__ = ["student_gate", "train_with"]

DROP_P = 0.2
HIDDEN = (64, 48, 32, 24)
ACTS = ("relu", "leaky_relu", "tanh", "sigmoid")  # one per hidden layer: a wrong one shows where it acts


def student_gate(forward: Callable[..., Any], backward: Callable[..., Any]) -> Callable[..., Tensor]:
    """An fcnet gate from NumPy ``forward(*xs)`` and ``backward(g, *xs)`` (one gradient per input)."""

    class StudentGate(Function):
        def forward(self, *xs):
            self.xs = xs
            return np.asarray(forward(*xs), dtype=np.float64)

        def backward(self, g):
            grads = backward(g, *self.xs)
            grads = grads if isinstance(grads, tuple | list) else (grads,)
            out = []
            for v, x in zip(grads, self.xs, strict=True):
                v = np.asarray(v, dtype=np.float64)
                if v.shape != x.shape and v.size != 1:
                    raise ValueError(f"backward returned a gradient of shape {v.shape} for an input of shape "
                                     f"{x.shape}")
                out.append(np.broadcast_to(v, x.shape).copy() if v.shape != x.shape else v)
            return tuple(out)

    return StudentGate.apply


class _Pieces:
    """The net's interchangeable parts: fcnet's by default, the student's where the exercise writes them."""

    def __init__(self, name: str, m: Any | None, rng: np.random.Generator) -> None:
        self.name, self.m, self.rng = name, m, rng
        self.mask: np.ndarray | None = None
        self.trace: list[np.ndarray] = []  # each layer's output in the last forward (the monitor's forward check)
        self.bn_stats: tuple[np.ndarray, np.ndarray] | None = None

    def mine(self, exercise: str) -> bool:
        return self.m is not None and self.name == exercise

    def linear(self, x: Tensor, w: Tensor, b: Tensor) -> Tensor:
        if self.mine("affine"):
            return student_gate(self.m.affine_forward, self.m.affine_backward)(x, w, b)
        return ops.Linear.apply(x, w, b)

    def act(self, kind: str, x: Tensor) -> Tensor:
        if self.mine("activations"):
            return student_gate(getattr(self.m, kind), getattr(self.m, f"{kind}_backward"))(x)
        return {"relu": F.relu, "leaky_relu": F.leaky_relu, "tanh": F.tanh, "sigmoid": F.sigmoid}[kind](x)

    def loss(self, s: Tensor, y: np.ndarray) -> Tensor:
        if self.mine("losses"):
            m = self.m
            return student_gate(lambda s_: np.asarray(m.softmax_ce(s_, y)[0]).reshape(()),
                                lambda g, s_: g * np.asarray(m.softmax_ce(s_, y)[1]))(s)
        return F.cross_entropy(s, y)

    def batchnorm(self, h: Tensor, gamma: Tensor, beta: Tensor, state: dict[str, np.ndarray], training: bool) -> Tensor:
        mine = self.mine("batchnorm")
        if not training:
            if mine:
                return fcnet.tensor(np.asarray(self.m.batchnorm_test(h.data, gamma.data, beta.data, state["mean"],
                                                                     state["var"]), dtype=np.float64))
            inv = 1.0 / np.sqrt(state["var"] + 1e-5)
            return (h - fcnet.tensor(state["mean"])) * fcnet.tensor(inv) * gamma + beta
        if mine:
            m = self

            def fwd(x: Any, g_: Any, b_: Any) -> Any:
                y, mean, var = m.m.batchnorm_forward(x, g_, b_)
                m.bn_stats = (np.asarray(mean, dtype=np.float64), np.asarray(var, dtype=np.float64))
                return y
            out = student_gate(fwd, lambda g, x, g_, b_: self.m.batchnorm_backward(g, x, g_))(h, gamma, beta)
            mean, var = self.bn_stats  # type: ignore[misc]
        else:
            out = ops.BatchNorm.apply(h, gamma, beta, eps=1e-5)
            mean, var = h.data.mean(axis=0), h.data.var(axis=0)
        n = h.shape[0]
        state["mean"] = 0.9 * state["mean"] + 0.1 * mean
        state["var"] = 0.9 * state["var"] + 0.1 * var * n / (n - 1)
        return out

    def dropout(self, h: Tensor, training: bool) -> Tensor:
        if not training:
            if self.mine("dropout"):
                out, _ = self.m.dropout_forward(h.data, DROP_P, False, self.rng, inverted=True)
                return fcnet.tensor(np.asarray(out, dtype=np.float64))
            return h
        if self.mine("dropout"):
            m = self

            def fwd(x: Any) -> Any:
                out, mask = m.m.dropout_forward(x, DROP_P, True, m.rng, inverted=True)
                m.mask = np.asarray(mask, dtype=np.float64)
                return out
            return student_gate(fwd, lambda g, x: self.m.dropout_backward(g, self.mask, DROP_P, inverted=True))(h)
        if self.mask is None:
            self.mask = (self.rng.random(h.shape) >= DROP_P).astype(np.float64)
        return h * fcnet.tensor(self.mask / (1 - DROP_P))


def _params(name: str, m: Any | None, sizes: list[int], rng: np.random.Generator) -> dict[str, Tensor]:
    ps: dict[str, Tensor] = {}
    for i, (a, b) in enumerate(itertools.pairwise(sizes), start=1):
        if name == "init" and m is not None:
            w = np.asarray(m.he_init(a, b, rng), dtype=np.float64)
            if w.shape != (b, a):
                w = w.T if w.shape == (a, b) else w
        else:
            w = rng.standard_normal((b, a)) * math.sqrt(2.0 / a)
        ps[f"fc{i}.weight"] = fcnet.tensor(w, requires_grad=True)
        ps[f"fc{i}.bias"] = fcnet.tensor(np.zeros(b), requires_grad=True)
    if name == "batchnorm":
        ps["bn.weight"] = fcnet.tensor(np.ones(sizes[1]), requires_grad=True)
        ps["bn.bias"] = fcnet.tensor(np.zeros(sizes[1]), requires_grad=True)
    return ps


def _forward(name: str, pc: _Pieces, ps: dict[str, Tensor], x: np.ndarray, y: np.ndarray | None,
             state: dict[str, np.ndarray], training: bool) -> tuple[Tensor, Tensor | None]:
    """Scores and (if y is given) the loss of the exercise's net."""
    if name == "two_layer":
        h = F.relu(ops.Linear.apply(fcnet.tensor(x), ps["fc1.weight"], ps["fc1.bias"]))
        s = ops.Linear.apply(h, ps["fc2.weight"], ps["fc2.bias"])
        pc.trace = [h.data.copy(), s.data.copy()]
        if y is None:
            return s, None
        if pc.m is None:
            return s, F.cross_entropy(s, y)
        m = pc.m
        keys = ("w1", "b1", "w2", "b2")

        def grads(g: Any, *p: Any) -> tuple[Any, ...]:
            d = m.two_layer_loss(x, y, *p)[1]
            return tuple(g * np.asarray(d[k], dtype=np.float64) for k in keys)
        loss = student_gate(lambda *p: np.asarray(m.two_layer_loss(x, y, *p)[0]).reshape(()), grads)(
            ps["fc1.weight"], ps["fc1.bias"], ps["fc2.weight"], ps["fc2.bias"])
        return s, loss
    h = fcnet.tensor(x)
    pc.trace = []
    for i, kind in enumerate(ACTS, start=1):
        h = pc.linear(h, ps[f"fc{i}.weight"], ps[f"fc{i}.bias"])
        if i == 1 and name == "batchnorm":
            h = pc.batchnorm(h, ps["bn.weight"], ps["bn.bias"], state, training)
        h = pc.act(kind, h)
        if i == 1 and name == "dropout":
            h = pc.dropout(h, training)
        pc.trace.append(np.array(h.data, dtype=np.float64))
    n = len(ACTS) + 1
    s = pc.linear(h, ps[f"fc{n}.weight"], ps[f"fc{n}.bias"])
    pc.trace.append(np.array(s.data, dtype=np.float64))
    return s, (pc.loss(s, y) if y is not None else None)


class _StudentAdam(fcnet.optim.Optimizer):  # the optimizer `run` trains with for the optimizers exercise
    """Adam whose update is the student's ``adam_step`` (state v, r as fcnet keeps them)."""

    state_names = ("v", "r")

    def __init__(self, params: list[Tensor], m: Any, lr: float) -> None:
        super().__init__(params, {"lr": lr})
        self.m = m

    def kernel(self, p: Any, g: Any, tmp: Any, v: Any, r: Any) -> None:
        th, v2, r2 = self.m.adam_step(p.copy(), g.copy(), v.copy(), r.copy(), t=self.steps, lr=self.lr, mu=0.9,
                                      rho=0.999, eps=1e-8)
        p[...], v[...], r[...] = th, v2, r2


def _optimizer(name: str, m: Any | None, params: list[Tensor], lr: float) -> Any:
    if name == "optimizers" and m is not None:
        return _StudentAdam(params, m, lr)
    return fcnet.optim.Adam(params, lr=lr, eps=1e-8)


CLIP = 0.5  # below the first batches' gradient norm (about 0.9), so clipping acts from the start


def _clip(name: str, m: Any | None, params: list[Tensor], max_norm: float = CLIP) -> None:
    if name != "clipping":
        return
    if m is None:
        fcnet.optim.clip_grad_norm(params, max_norm)
        return
    clipped, _ = m.clip_grad_norm([p.grad.copy() for p in params], max_norm)
    for p, c in zip(params, clipped, strict=True):
        p.grad = np.asarray(c, dtype=np.float64).reshape(p.shape)


_DATA: list[tuple[np.ndarray, ...]] = []


def preload() -> None:
    """Load and standardise digits now (before the sandbox's restrictions start)."""
    if not _DATA:
        _DATA.append(_data())


def _data() -> tuple[np.ndarray, ...]:
    if _DATA:
        return _DATA[0]
    from fcnet.data.registry import load_digits_set

    d = load_digits_set()
    xtr, xte = d.x_train.astype(np.float64) / 16.0, d.x_test.astype(np.float64) / 16.0
    mu, sd = xtr.mean(axis=0), xtr.std(axis=0) + 1e-3
    return (xtr - mu) / sd, d.y_train, (xte - mu) / sd, d.y_test


def _layer_names(ps: dict[str, Tensor]) -> list[str]:
    return [k.split(".")[0] for k in ps if k.endswith(".weight") and k.startswith("fc")]


Row = tuple[str, str, str, str, str, bool]
TOL = 1e-6


def _monitor(name: str, m: Any, x: np.ndarray, y: np.ndarray, seed: int) -> tuple[list[Row], str, str | None]:
    """One batch through the student's and fcnet's net from the same weights: per layer, what differs.

    Returns the rows (label, yours, fcnet, forward difference, gradient difference, agrees), a caption and
    the label the monitor points at: the first layer whose forward output differs (a forward error acts
    there and spreads upwards), else the layer nearest the loss whose gradient differs (backpropagation
    carries an error downwards), else the test-mode row.
    """
    sizes = [x.shape[1], HIDDEN[0], 10] if name == "two_layer" else [x.shape[1], *HIDDEN, 10]
    if name == "init":
        return _monitor_init(m, sizes, seed)
    if name == "optimizers":
        return _monitor_optimizers(m, sizes, x, y, seed)
    states = [{"mean": np.zeros(sizes[1]), "var": np.ones(sizes[1])} for _ in range(2)]
    results, scores, traces = [], [], []
    shared_mask = None
    for k, mod in enumerate((m, None)):
        ps = _params(name, mod, sizes, np.random.default_rng(seed))
        pc = _Pieces(name, mod, np.random.default_rng(seed + 1))
        pc.mask = shared_mask
        _, loss = _forward(name, pc, ps, x, y, states[k], True)
        shared_mask = pc.mask
        traces.append(pc.trace)
        if name in ("dropout", "batchnorm"):
            scores.append(_forward(name, pc, _params(name, None, sizes, np.random.default_rng(seed)), x, None,
                                   dict(states[k]), False)[0].numpy())
        loss.backward()  # type: ignore[union-attr]
        params = list(ps.values())
        _clip(name, mod, params)  # the clipping exercise compares the clipped gradients
        results.append({key: np.asarray(p.grad) for key, p in ps.items()})
    tol = 1e-5 if name == "clipping" else TOL  # fcnet divides by ‖g‖ + 1e-6, as PyTorch: 1e-6 relative apart
    what = (tr(f"‖∂L/∂W‖ per layer on the first batch, clipped to max_norm {CLIP}",
               f"第一个批次上各层裁剪到 max_norm {CLIP} 后的 ‖∂L/∂W‖") if name == "clipping"
            else tr("‖∂L/∂W‖ per layer on the first batch", "第一个批次上各层的 ‖∂L/∂W‖"))
    rows: list[Row] = []
    forward_bad, grad_bad = None, None
    for i, layer in enumerate(_layer_names(results[1])):
        a, b = results[0][f"{layer}.weight"], results[1][f"{layer}.weight"]
        keys = [k for k in results[1] if k.split(".")[0] == layer or (layer == "fc1" and k.startswith("bn."))]
        if any(results[0][k].shape != results[1][k].shape for k in keys):
            rel = math.inf
        else:  # W, b (and γ, β beside fc1) as one vector: a bias gradient that is 0 up to rounding stays quiet
            rel = _rel(np.concatenate([results[0][k].ravel() for k in keys]),
                       np.concatenate([results[1][k].ravel() for k in keys]))
        fwd = _rel(traces[0][i], traces[1][i])
        if fwd >= tol and forward_bad is None:
            forward_bad = layer
        if rel >= tol:
            grad_bad = layer
        rows.append((layer, f"{np.linalg.norm(a):.4g}", f"{np.linalg.norm(b):.4g}", f"{fwd:.1e}", f"{rel:.1e}",
                     fwd < tol and rel < tol))
    test_bad = None
    if scores:  # test mode: the scores of the same net in evaluation
        a, b = scores
        rel = _rel(a, b)
        test_bad = tr("test", "测试") if rel >= tol else None
        rows.append((tr("test", "测试"), f"{np.linalg.norm(a):.4g}", f"{np.linalg.norm(b):.4g}", f"{rel:.1e}", "",
                     rel < tol))
    return rows, what, forward_bad or grad_bad or test_bad


def _monitor_init(m: Any, sizes: list[int], seed: int) -> tuple[list[Row], str, str | None]:
    ps = _params("init", m, sizes, np.random.default_rng(seed))
    rows: list[Row] = []
    bad = None
    for layer in _layer_names(ps):
        w = ps[f"{layer}.weight"].data
        want = math.sqrt(2.0 / w.shape[1])
        good = abs(w.std() / want - 1) < 0.15
        bad = bad or (None if good else layer)
        rows.append((layer, f"std {w.std():.3g}", f"√(2/N) {want:.3g}", f"{w.std() / want:.3f}", "", good))
    return rows, tr("initial weight scale per layer (forward column: std / √(2/N))",
                    "各层初始权值的尺度（前向一栏：std / √(2/N)）"), bad


OPTIMIZERS = {  # the student's step function, its state count, the hyperparameters, fcnet's optimizer
    "sgd": ("sgd_step", 0, {"lr": 0.05}, lambda ps: fcnet.optim.SGD(ps, lr=0.05)),
    "momentum": ("momentum_step", 1, {"lr": 0.05, "mu": 0.9},
                 lambda ps: fcnet.optim.Momentum(ps, lr=0.05, momentum=0.9)),
    "rmsprop": ("rmsprop_step", 1, {"lr": 1e-3, "rho": 0.99, "eps": 1e-5},
                lambda ps: fcnet.optim.RMSProp(ps, lr=1e-3, rho=0.99, eps=1e-5)),
    "adagrad": ("adagrad_step", 1, {"lr": 0.01, "eps": 1e-5}, lambda ps: fcnet.optim.Adagrad(ps, lr=0.01, eps=1e-5)),
    "adam": ("adam_step", 2, {"lr": 1e-3, "mu": 0.9, "rho": 0.999, "eps": 1e-8},
             lambda ps: fcnet.optim.Adam(ps, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)),
}


def _monitor_optimizers(m: Any, sizes: list[int], x: np.ndarray, y: np.ndarray, seed: int
                        ) -> tuple[list[Row], str, str | None]:
    """Three steps of each of the student's optimizers and of fcnet's, on the first batch's gradients."""
    rows: list[Row] = []
    bad = None
    for kind, (fn, nstate, hyper, make) in OPTIMIZERS.items():
        moved = []
        for mod in (m, None):
            ps = _params("optimizers", None, sizes, np.random.default_rng(seed))
            start = {k: p.data.copy() for k, p in ps.items()}
            opt = None if mod is not None else make(list(ps.values()))
            state = {k: [np.zeros_like(p.data) for _ in range(nstate)] for k, p in ps.items()}
            for t in range(1, 4):
                for p in ps.values():
                    p.grad = None
                _, loss = _forward("optimizers", _Pieces("optimizers", None, np.random.default_rng(seed)), ps, x, y,
                                   {}, True)
                loss.backward()  # type: ignore[union-attr]
                if opt is not None:
                    opt.step()
                    continue
                for k, p in ps.items():
                    kw = dict(hyper, t=t) if kind == "adam" else hyper
                    out = getattr(mod, fn)(p.data.copy(), np.asarray(p.grad).copy(), *state[k], **kw)
                    if nstate:
                        p.data[...] = np.asarray(out[0], dtype=np.float64).reshape(p.shape)
                        state[k] = [np.asarray(v, dtype=np.float64) for v in out[1:]]
                    else:
                        p.data[...] = np.asarray(out, dtype=np.float64).reshape(p.shape)
            moved.append(np.concatenate([(ps[k].data - start[k]).ravel() for k in ps]))
        rel = _rel(moved[0], moved[1])
        bad = bad or (kind if rel >= TOL else None)
        rows.append((kind, f"{np.linalg.norm(moved[0]):.4g}", f"{np.linalg.norm(moved[1]):.4g}", "", f"{rel:.1e}",
                     rel < TOL))
    return rows, tr("‖Δθ‖ after 3 steps of each optimizer on the first batch",
                    "每种优化器在第一个批次上走 3 步后的 ‖Δθ‖"), bad


def _rel(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / ‖b‖ (inf for different shapes)."""
    if a.shape != b.shape:
        return math.inf
    return float(np.linalg.norm(a - b) / max(float(np.linalg.norm(b)), 1e-300))


def _accuracy(name: str, pc: _Pieces, ps: dict[str, Tensor], x: np.ndarray, y: np.ndarray,
              state: dict[str, np.ndarray]) -> float:
    with fcnet.no_grad():
        s, _ = _forward(name, pc, ps, x, None, state, False)
    return float((s.numpy().argmax(axis=1) == y).mean())


def train_with(name: str, m: Any, epochs: int, seed: int, describe: Callable[[BaseException], str]) -> int:
    """Train the exercise's net on digits with the student's module ``m``; print the monitor; 0 if it trains."""
    from fcnet.exercise.catalogue import EXERCISES

    ex = EXERCISES[name]
    print(tr(f"fcnet exercise run {name} (slides {ex.slides}): your functions in a net trained on digits",
             f"fcnet exercise run {name}（第{ex.slides}页）：用你的函数在 digits 上训练网络"), flush=True)
    xtr, ytr, xte, yte = _data()
    try:
        rows, what, first_bad = _monitor(name, m, xtr[:64], ytr[:64], seed)
    except BaseException as exc:
        print("✘ " + describe(exc), flush=True)
        return 1
    agree = first_bad is None and all(r[-1] for r in rows)
    print(f"\n{what}:")
    head = f"{tr('yours', '你的'):>14} {'fcnet':>14} {tr('forward', '前向差'):>10} {tr('gradient', '梯度差'):>10}"
    print(f"  {'':<8} {head}")
    for label, a, b, fwd, rel, good in rows:
        print(f"  {label:<8} {a:>14} {b:>14} {fwd:>10} {rel:>10} {'✔' if good else '✘'}")
    if first_bad is not None:
        print(tr(f"  ← the monitor points at {first_bad}: your code acts there (see fcnet exercise check {name})",
                 f"  ← 监视器指向 {first_bad}：问题出在作用于该处的代码（见 fcnet exercise check {name}）"))
    sizes = [xtr.shape[1], HIDDEN[0], 10] if name == "two_layer" else [xtr.shape[1], *HIDDEN, 10]
    rng = np.random.default_rng(seed)
    ps = _params(name, m, sizes, rng)
    pc = _Pieces(name, m, np.random.default_rng(seed + 1))
    params = list(ps.values())
    opt = _optimizer(name, m, params, 1e-2)
    state = {"mean": np.zeros(sizes[1]), "var": np.ones(sizes[1])}
    from fcnet.train.monitor import gradient_warnings

    print()
    first_loss = last_loss = math.nan
    try:
        for epoch in range(1, epochs + 1):
            order = rng.permutation(len(xtr))
            losses = []
            norms: dict[str, float] = {}
            for i in range(0, len(order), 64):
                idx = order[i:i + 64]
                pc.mask = None
                opt.zero_grad()
                _, loss = _forward(name, pc, ps, xtr[idx], ytr[idx], state, True)
                loss.backward()  # type: ignore[union-attr]
                _clip(name, m, params)
                norms = {k.split(".")[0]: float(np.linalg.norm(p.grad)) for k, p in ps.items()
                         if k.endswith(".weight") and k.startswith("fc") and p.grad is not None}
                opt.step()
                losses.append(float(loss.item()))  # type: ignore[union-attr]
            last_loss = float(np.mean(losses))
            first_loss = last_loss if epoch == 1 else first_loss
            acc = _accuracy(name, pc, ps, xte, yte, state)
            gn = "  ".join(f"{k} {v:.2e}" for k, v in norms.items())
            print(tr(f"epoch {epoch:>2}  loss {last_loss:.4f}  test accuracy {acc:.3f}  ‖∂L/∂W‖: {gn}",
                     f"第 {epoch:>2} 轮  损失 {last_loss:.4f}  测试准确率 {acc:.3f}  ‖∂L/∂W‖：{gn}"), flush=True)
            for w in gradient_warnings(norms):
                print("   ! " + w)
            if not math.isfinite(last_loss):
                break
    except BaseException as exc:
        print("✘ " + describe(exc), flush=True)
        return 1
    acc = _accuracy(name, pc, ps, xte, yte, state) if math.isfinite(last_loss) else 0.0
    trained = math.isfinite(last_loss) and acc >= 0.85
    if trained and agree:
        print(tr(f"\n✔ your {name} trains the net like fcnet's: test accuracy {acc:.3f}",
                 f"\n✔ 你的 {name} 像 fcnet 一样训练网络：测试准确率 {acc:.3f}"))
        return 0
    why = tr(f"test accuracy {acc:.3f} (fcnet's pieces reach ≥ 0.85)" if not trained else
             f"it trains (test accuracy {acc:.3f}), but the monitor shows {first_bad} differs from fcnet",
             f"测试准确率 {acc:.3f}（fcnet 的实现可达 ≥ 0.85）" if not trained else
             f"网络能训练（测试准确率 {acc:.3f}），但监视器显示 {first_bad} 与 fcnet 不同")
    print(tr(f"\n✘ your {name} does not match: {why}", f"\n✘ 你的 {name} 不正确：{why}"))
    return 1
