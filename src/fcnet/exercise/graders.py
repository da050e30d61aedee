"""The tests of every exercise: the slide's worked numbers first, then gradcheck, then fcnet's reference.

``TESTS[name]`` lists an exercise's tests in order.  Each test gets the student's module and a
generator seeded per check run, so the random cases are new every time and cannot be hard-coded.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fcnet.exercise import reference as R
from fcnet.exercise.grading import Alt, Fail, Test, check, close, short, student_gradcheck, tr

Gen = np.random.Generator


def _arr(a: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise Fail("type", tr(f"{name}: not an array of numbers: got {short(a)}",
                              f"{name}：返回的不是数值数组：实际为 {short(a)}")) from None


def _scalar(v: Any) -> np.ndarray:
    """A student's number as a 0-d array, keeping a float dtype (gradcheck names float32) else float64."""
    a = np.asarray(v)
    return (a if a.dtype.kind == "f" else _arr(v, "loss")).reshape(())


def _unpack(out: Any, k: int, name: str) -> tuple[Any, ...]:
    if isinstance(out, tuple | list) and len(out) != k:
        raise Fail("type", tr(f"{name} must return {k} values (a tuple), got {len(out)} values",
                              f"{name} 应返回 {k} 个值（元组），实际返回了 {len(out)} 个值"), str(k), str(len(out)))
    if not isinstance(out, tuple | list):
        raise Fail("type", tr(f"{name} must return {k} values (a tuple), got {short(out)}",
                              f"{name} 应返回 {k} 个值（元组），实际为 {short(out)}"))
    return tuple(out)


# --- sigmoid neuron (slides 70-77) ------------------------------------------------------------

SLIDE_W, SLIDE_X = np.array([2.0, -3.0, -3.0]), np.array([-1.0, -2.0])


def _neuron_alt(w: np.ndarray, x: np.ndarray) -> list[Alt]:
    s = float(np.dot(w[:-1], x) + w[-1])
    f = 1 / (1 + math.exp(-s))
    sf = 1 / (1 + math.exp(-f))
    d = sf * (1 - sf)  # σ′ evaluated at σ's output instead of its input
    en = "σ′ taken at the output: use σ′(s) = σ(s)(1 − σ(s)) with s the input, not σ′(f)"
    zh = "σ′ 在输出处求值：应为 σ′(s) = σ(s)(1 − σ(s))，s 为输入，而不是 σ′(f)"
    ds = f * (1 - f)
    return [Alt("sigma_at_output", np.append(d * x, d), en, zh), Alt("sigma_at_output", d * w[:-1], en, zh),
            Alt("mul_no_swap", ds * x, "the mul gate swaps: df/dx_i = σ′(s)·w_i, not σ′(s)·x_i",
                "乘法门交换输入：df/dx_i = σ′(s)·w_i，而不是 σ′(s)·x_i")]


def neuron_slide_forward(m: Any, rng: Gen) -> None:
    f, _, _ = R.neuron(SLIDE_W, SLIDE_X)
    close("f(w, x)", m.neuron_forward(SLIDE_W.copy(), SLIDE_X.copy()), f)


def neuron_slide_backward(m: Any, rng: Gen) -> None:
    _, dw, dx = R.neuron(SLIDE_W, SLIDE_X)
    gw, gx = _unpack(m.neuron_backward(SLIDE_W.copy(), SLIDE_X.copy()), 2, "neuron_backward")
    alts = _neuron_alt(SLIDE_W, SLIDE_X)
    close("df/dw", gw, dw, alts=alts[:1])
    close("df/dx", gx, dx, alts=alts[1:])


def neuron_gradcheck(m: Any, rng: Gen) -> None:
    n = int(rng.integers(2, 5))
    w, x = rng.standard_normal(n + 1), rng.standard_normal(n)

    def backward(g: Any, w_: Any, x_: Any) -> tuple[Any, Any]:
        dw, dx = _unpack(m.neuron_backward(w_, x_), 2, "neuron_backward")
        return g * _arr(dw, "dw"), g * _arr(dx, "dx")
    student_gradcheck("neuron", lambda w_, x_: _scalar(m.neuron_forward(w_, x_)),
                      backward, [w, x])


def neuron_random(m: Any, rng: Gen) -> None:
    for _ in range(3):
        n = int(rng.integers(1, 7))
        w, x = rng.standard_normal(n + 1) * 1.5, rng.standard_normal(n) * 1.5
        f, dw, dx = R.neuron(w, x)
        close(f"f (N={n})", m.neuron_forward(w.copy(), x.copy()), f)
        gw, gx = _unpack(m.neuron_backward(w.copy(), x.copy()), 2, "neuron_backward")
        alts = _neuron_alt(w, x)
        close(f"df/dw (N={n})", gw, dw, alts=alts[:1])
        close(f"df/dx (N={n})", gx, dx, alts=alts[1:])


# --- gates (slides 69-70, 78-79) --------------------------------------------------------------

def gates_slide_chain(m: Any, rng: Gen) -> None:
    """Slides 71-76: backprop through the neuron gate by gate, with the student's gates."""
    w0, x0, w1, x1, w2 = 2.0, -1.0, -3.0, -2.0, -3.0
    a, b = w0 * x0, w1 * x1
    s = a + b + w2
    e = math.exp(-s)
    d = 1.0 + e
    g = _arr(m.inv_backward(np.array(1.0), np.array(d)), "inv_backward")  # f = 1/d
    ge = g * 1.0  # +1 gate
    gneg = _arr(m.exp_backward(ge, np.array(-s)), "exp_backward")  # e^(-s)
    gs = -gneg  # ×(−1) gate
    gab, gw2 = _unpack(m.add_backward(gs, np.array(a + b), np.array(w2)), 2, "add_backward")
    ga, gb = _unpack(m.add_backward(_arr(gab, "da"), np.array(a), np.array(b)), 2, "add_backward")
    gw0, gx0 = _unpack(m.mul_backward(_arr(ga, "da"), np.array(w0), np.array(x0)), 2, "mul_backward")
    gw1, gx1 = _unpack(m.mul_backward(_arr(gb, "db"), np.array(w1), np.array(x1)), 2, "mul_backward")
    _, dw, dx = R.neuron(SLIDE_W, SLIDE_X)
    close(tr("1/x gate at 1.37 (slide: −0.53)", "1/x 门在 1.37 处（幻灯片：−0.53）"), g, -1 / d**2)
    close(tr("exp gate (slide: −0.20)", "exp 门（幻灯片：−0.20）"), gneg, ge * math.exp(-s))
    close("[w0, w1, w2] (−0.20, −0.39, 0.20)", [gw0, gw1, gw2], dw)
    close("[x0, x1] (0.39, −0.59)", [gx0, gx1], dx)


def _gate_case(m: Any, name: str, rng: Gen, shape: tuple[int, ...]) -> None:
    g = rng.standard_normal(shape)
    if name in ("exp", "inv"):
        a = rng.standard_normal(shape)
        if name == "inv":
            a = np.sign(a) * (np.abs(a) + 0.5)
        want = R.gate(name, g, a)[0]
        got = getattr(m, f"{name}_backward")(g.copy(), a.copy())
        alts = [Alt("sign", g / (a * a), "1/x gate: the local gradient is −1/x², mind the minus sign",
                    "1/x 门：局部梯度为 −1/x²，注意负号")] if name == "inv" else [
            Alt("exp_local", g * a, "exp gate: the local gradient is eˣ, not x", "exp 门：局部梯度为 eˣ，而不是 x")]
        close(f"{name}_backward", got, want, alts=alts)
        return
    a, b = rng.standard_normal(shape), rng.standard_normal(shape)
    da, db = R.gate(name, g, a, b)
    ga, gb = _unpack(getattr(m, f"{name}_backward")(g.copy(), a.copy(), b.copy()), 2, f"{name}_backward")
    swap_en, swap_zh = "the mul gate swaps: da = g·b, db = g·a", "乘法门交换输入：da = g·b，db = g·a"
    alts_a = [Alt("mul_no_swap", g * a, swap_en, swap_zh)] if name == "mul" else []
    alts_b = [Alt("mul_no_swap", g * b, swap_en, swap_zh)] if name == "mul" else []
    if name == "max":
        route_en = "the max gate routes g to the larger input only"
        route_zh = "max 门只把梯度传给较大的输入"
        alts_a = [Alt("max_routing", g * (a < b), route_en, route_zh), Alt("max_routing", g, route_en, route_zh)]
        alts_b = [Alt("max_routing", g * (b < a), route_en, route_zh), Alt("max_routing", g, route_en, route_zh)]
    close(f"{name}_backward da", ga, da, alts=alts_a)
    close(f"{name}_backward db", gb, db, alts=alts_b)


def gates_random(m: Any, rng: Gen) -> None:
    for name in ("add", "mul", "max", "exp", "inv"):
        for shape in ((), (int(rng.integers(2, 6)),), (3, int(rng.integers(2, 5)))):
            _gate_case(m, name, rng, shape)


def gates_gradcheck(m: Any, rng: Gen) -> None:
    a = rng.standard_normal(4)
    student_gradcheck("exp", np.exp, lambda g, x: m.exp_backward(g, x), [a])
    student_gradcheck("1/x", lambda x: 1 / x, lambda g, x: m.inv_backward(g, x), [np.sign(a) * (np.abs(a) + 0.5)])
    b = rng.standard_normal(4)
    student_gradcheck("mul", lambda x, y: x * y, lambda g, x, y: m.mul_backward(g, x, y), [a, b])
    student_gradcheck("max", np.maximum, lambda g, x, y: m.max_backward(g, x, y), [a, b + 0.01])


# --- affine layer (slides 6-9) ----------------------------------------------------------------

def _affine_case(m: Any, rng: Gen, n: int, d: int, k: int) -> None:
    x, w, b = rng.standard_normal((n, d)), rng.standard_normal((k, d)), rng.standard_normal(k)
    g = rng.standard_normal((n, k))
    out, (dx, dw, db) = R.affine(x, w, b, g)
    close(f"affine_forward (N={n}, D={d}, M={k})", m.affine_forward(x.copy(), w.copy(), b.copy()), out)
    gx, gw, gb = _unpack(m.affine_backward(g.copy(), x.copy(), w.copy(), b.copy()), 3, "affine_backward")
    close("dx", gx, dx)
    close("dW", gw, dw)
    close("db", gb, db, n=n, alts=[Alt("extra_1_over_n", db / n, "db is the sum of g over the batch, not its mean",
                                       "db 是 g 在批量上的和，而不是平均")])


def affine_slide_shapes(m: Any, rng: Gen) -> None:
    """Slide 6: W₁x + b₁ maps 4 inputs to 3 outputs; a batch of 2 rows gives (2, 3)."""
    x = np.array([[1.0, 2.0, 3.0, 4.0], [0.0, -1.0, 0.5, 2.0]])
    w = np.arange(12.0).reshape(3, 4) / 10
    b = np.array([0.1, 0.2, 0.3])
    close("affine_forward", m.affine_forward(x, w, b), x @ w.T + b)


def affine_gradcheck(m: Any, rng: Gen) -> None:
    student_gradcheck("affine", lambda x, w, b: m.affine_forward(x, w, b),
                      lambda g, x, w, b: m.affine_backward(g, x, w, b),
                      [rng.standard_normal((3, 4)), rng.standard_normal((2, 4)), rng.standard_normal(2)])


def affine_random(m: Any, rng: Gen) -> None:
    _affine_case(m, rng, int(rng.integers(3, 9)), int(rng.integers(2, 7)), int(rng.integers(7, 10)))


def affine_square(m: Any, rng: Gen) -> None:
    d = int(rng.integers(3, 6))
    _affine_case(m, rng, d, d, d)


def affine_one_row(m: Any, rng: Gen) -> None:
    _affine_case(m, rng, 1, int(rng.integers(2, 6)), 3)


# --- activations (slides 82-86) ---------------------------------------------------------------

ACT_ALTS = {
    "sigmoid": lambda g, x: [Alt("sigma_at_output", g * (1 / (1 + np.exp(-1 / (1 + np.exp(-x))))) * (
        1 - 1 / (1 + np.exp(-1 / (1 + np.exp(-x))))),
        "σ′ taken at the output: σ′(x) = σ(x)(1 − σ(x)) uses the input x, you applied σ′ to σ(x)",
        "σ′ 在输出处求值：σ′(x) = σ(x)(1 − σ(x)) 用的是输入 x，你把 σ′ 作用在了 σ(x) 上"),
        Alt("sigma_at_output", g * x * (1 - x), "σ(1 − σ) computed from x itself: use s = σ(x) first",
            "直接用 x 计算了 x(1 − x)：应先求 s = σ(x)")],
    "tanh": lambda g, x: [Alt("tanh_no_square", g * (1 - np.tanh(x)), "tanh′ = 1 − tanh²(x): the square is missing",
                              "tanh′ = 1 − tanh²(x)：缺少平方"),
                          Alt("sigma_at_output", g * (1 - np.tanh(np.tanh(x)) ** 2),
                              "tanh′ taken at the output: use 1 − tanh²(x) of the input x",
                              "tanh′ 在输出处求值：应为输入 x 的 1 − tanh²(x)")],
    "relu": lambda g, x: [Alt("relu_mask", g * (g > 0), "the ReLU mask is x > 0 (the input), not g > 0",
                              "ReLU 的掩码是 x > 0（输入），而不是 g > 0")],
    "leaky_relu": lambda g, x: [Alt("leaky_slope", g * (x > 0),
                                    "negative inputs pass α·g (slope α = 0.01), not 0: that is plain ReLU",
                                    "负输入应传回 α·g（斜率 α = 0.01），而不是 0：那是普通 ReLU")],
}


ACT_SLIDES = {"relu": "85", "leaky_relu": "86", "sigmoid": "82-83", "tanh": "84"}
ACT_IDS = {"relu": "slide_85_relu", "leaky_relu": "slide_86_leaky_relu", "sigmoid": "slide_83_sigmoid",
           "tanh": "slide_84_tanh"}


def _act_slide(m: Any, name: str) -> None:
    """Slides 83-86: σ′(0) = 1/4 (the largest), tanh′(0) = 1, ReLU′ = 1 for x > 0 and 0 below, Leaky 0.01."""
    if name in ("sigmoid", "tanh"):
        x, want = np.zeros(1), [0.25 if name == "sigmoid" else 1.0]
        title = tr(f"{name}_backward at 0 (slide 83: at most 1/4)", f"{name}_backward 在 0 处（第83页：最大 1/4）") \
            if name == "sigmoid" else tr("tanh_backward at 0 (slide 84: 1)", "tanh_backward 在 0 处（第84页：1）")
    else:
        x, want = np.array([2.0, -2.0]), [1.0, 0.0 if name == "relu" else 0.01]
        title = tr("relu_backward at [2, −2] (slide 85: 1 and 0)", "relu_backward 在 [2, −2] 处（第85页：1 和 0）") \
            if name == "relu" else tr("leaky_relu_backward at [2, −2] (slide 86: 1 and 0.01)",
                                      "leaky_relu_backward 在 [2, −2] 处（第86页：1 和 0.01）")
    g = np.ones_like(x)
    close(title, getattr(m, f"{name}_backward")(g.copy(), x.copy()), want, alts=ACT_ALTS[name](g, x))


def _act_call(m: Any, name: str, x: np.ndarray) -> Any:
    return getattr(m, name)(x.copy())


def _act_gradcheck(m: Any, name: str, rng: Gen) -> None:
    x = rng.standard_normal(6)
    x = np.sign(x) * (np.abs(x) + 0.05)  # away from the kink at 0
    student_gradcheck(name, getattr(m, name), getattr(m, f"{name}_backward"), [x])


def _act_random(m: Any, name: str, rng: Gen) -> None:
    shape = (int(rng.integers(2, 6)), int(rng.integers(2, 6)))
    x, g = rng.standard_normal(shape) * 3, rng.standard_normal(shape)
    out, dx = R.activation(name, x, g)
    close(name, _act_call(m, name, x), out)
    close(f"{name}_backward", getattr(m, f"{name}_backward")(g.copy(), x.copy()), dx, alts=ACT_ALTS[name](g, x))


def _act_edges(m: Any, name: str) -> None:
    """Saturation (|x| = 30: the gradient vanishes, slide 82) and the kink at 0 (gradient 0 there, as PyTorch).

    Also |x| = 1000, where e^x overflows: σ and tanh must still give ±1, 0 and a zero gradient, not NaN.
    """
    g = np.ones(3)
    zero_en, zero_zh = ("ReLU's gradient at x = 0 is taken as 0 (mask x > 0, as PyTorch), not 1 (x >= 0)",
                        "ReLU 在 x = 0 处的梯度取 0（掩码 x > 0，与 PyTorch 相同），而不是 1（x >= 0）")
    for x, label in ((np.array([-30.0, 0.0, 30.0]), "[−30, 0, 30]"), (np.array([-1000.0, 0.0, 1000.0]),
                                                                     "[−1000, 0, 1000]")):
        out, dx = R.activation(name, x, g)
        alts = ACT_ALTS[name](g, x)
        if name == "relu":
            alts = [*alts, Alt("relu_at_zero", g * (x >= 0), zero_en, zero_zh)]
        close(f"{name} {tr('at', '在')} {label}", _act_call(m, name, x), out)
        close(f"{name}_backward {tr('at', '在')} {label}", getattr(m, f"{name}_backward")(g.copy(), x.copy()),
              dx, alts=alts)


def _activation(name: str) -> Any:
    """One test per activation (so a partial solution earns partial credit): slide, gradcheck, random, edges."""
    def fn(m: Any, rng: Gen) -> None:
        _act_slide(m, name)
        _act_random(m, name, rng)  # the comparisons name a typical mistake; gradcheck is the catch-all
        _act_edges(m, name)
        _act_gradcheck(m, name, rng)
    return fn


# --- losses (slides 52-64) --------------------------------------------------------------------

SLIDE_64 = [([10.0, -2.0, 3.0], "0.0004"), ([10.0, 9.0, 9.0], "0.2395"), ([10.0, -100.0, -100.0], "1.5e-48")]


def _ce_alts(s: np.ndarray, y: np.ndarray, ds: np.ndarray) -> list[Alt]:
    n = s.shape[0]
    p = R.softmax(s)
    onehot = np.eye(s.shape[1])[y]
    return [Alt("sign", (onehot - p) / n, "the sign is wrong: dL/ds = p − onehot(y), not onehot(y) − p",
                "符号错误：dL/ds = p − onehot(y)，而不是 onehot(y) − p"),
            Alt("missing_1_over_n", ds * n, f"missing 1/N: the gradient of the mean loss is (p − onehot)/N, N = {n}",
                f"缺少 1/N：平均损失的梯度是 (p − onehot)/N，N = {n}")]


def losses_slide_64_ce(m: Any, rng: Gen) -> None:
    for s, slide in SLIDE_64[:2]:
        want, _ = R.loss("ce", np.array([s]), np.array([0]))
        loss, _ = _unpack(m.softmax_ce(np.array([s]), np.array([0])), 2, "softmax_ce")
        close(tr(f"CE of {s} in log10 (slide 64: {slide})", f"{s} 的交叉熵（log10，第64页：{slide}）"),
              _arr(loss, "loss") / math.log(10), want / math.log(10))


def losses_slide_64_tiny(m: Any, rng: Gen) -> None:
    s, slide = SLIDE_64[2]
    want, _ = R.loss("ce", np.array([s]), np.array([0]))
    loss, _ = _unpack(m.softmax_ce(np.array([s]), np.array([0])), 2, "softmax_ce")
    got = float(_arr(loss, "loss").reshape(-1)[0])
    check(got > 0, "rounds_to_zero",
          f"CE of [10, −100, −100] is 1.5e-48 in log10 (slide 64), you return {got:.3g}: log(1 + tiny) rounds to 0; "
          "write the loss as (m − s_y) + log1p(Σ_{j≠argmax} e^(s_j − m))",
          f"[10, −100, −100] 的交叉熵为 1.5e-48（log10，第64页），你的结果是 {got:.3g}：log(1 + 极小数) 被舍入为 0；"
          "请写成 (m − s_y) + log1p(Σ_{j≠argmax} e^(s_j − m))", f"{want / math.log(10):.3g}", f"{got:.3g}")
    close(tr(f"CE of {s} in log10 (slide 64: {slide})", f"{s} 的交叉熵（log10，第64页：{slide}）"),
          got / math.log(10), want / math.log(10), atol=0.0, rtol=1e-6)


def losses_slide_64_hinge(m: Any, rng: Gen) -> None:
    for s, _ in SLIDE_64:
        loss, _ = _unpack(m.hinge(np.array([s]), np.array([0])), 2, "hinge")
        close(tr(f"hinge loss of {s} (slide 64: 0)", f"{s} 的多类支撑向量机损失（第64页：0）"), loss, 0.0,
              alts=[Alt("hinge_counts_y", 1.0, "the sum runs over j ≠ y_i: you also counted the correct class (+1)",
                        "求和只对 j ≠ y_i：你把正确类别也算进去了（+1）")])


def losses_softmax(m: Any, rng: Gen) -> None:
    s = rng.standard_normal((4, 5)) * 3
    close("softmax", m.softmax(s.copy()), R.softmax(s))
    big = np.array([[1000.0, 0.0, -1000.0], [-5.0, 800.0, 799.0]])
    close(tr("softmax of scores near 1000 (subtract the max before exp)",
             "分数接近 1000 时的 softmax（取指数前先减去最大值）"), m.softmax(big.copy()), R.softmax(big))


def losses_ce_random(m: Any, rng: Gen) -> None:
    n, c = int(rng.integers(3, 9)), int(rng.integers(3, 7))
    s, y = rng.standard_normal((n, c)) * 2, rng.integers(0, c, n)
    want, ds = R.loss("ce", s, y)
    loss, gs = _unpack(m.softmax_ce(s.copy(), y.copy()), 2, "softmax_ce")
    close(f"softmax_ce {tr('loss', '损失')} (N={n}, C={c})", loss, want, n=n)
    close(f"softmax_ce ds (N={n}, C={c})", gs, ds, n=n, alts=_ce_alts(s, y, ds))


def losses_hinge_random(m: Any, rng: Gen) -> None:
    n, c = int(rng.integers(3, 9)), int(rng.integers(3, 7))
    s, y = rng.standard_normal((n, c)), rng.integers(0, c, n)
    want, ds = R.loss("hinge", s, y)
    loss, gs = _unpack(m.hinge(s.copy(), y.copy()), 2, "hinge")
    close(f"hinge {tr('loss', '损失')} (N={n}, C={c})", loss, want, n=n,
          alts=[Alt("hinge_counts_y", want + 1.0, "the sum runs over j ≠ y_i: you also counted the correct class (+1)",
                    "求和只对 j ≠ y_i：你把正确类别也算进去了（+1）")])
    no_y = np.where(np.eye(c)[y] > 0, 0.0, ds)
    close(f"hinge ds (N={n}, C={c})", gs, ds, n=n,
          alts=[Alt("hinge_missing_correct", no_y, "ds of the correct class is −(number of violating classes)/N; "
                    "you left it at 0", "正确类别的梯度应为 −（违反间隔的类别数）/N，你把它留成了 0")])


def losses_gradcheck(m: Any, rng: Gen) -> None:
    s, y = rng.standard_normal((3, 4)), rng.integers(0, 4, 3)

    def fwd(name: str) -> Any:
        return lambda s_: _scalar(_unpack(getattr(m, name)(s_, y), 2, name)[0])

    def bwd(name: str) -> Any:
        return lambda g, s_: g * _arr(_unpack(getattr(m, name)(s_, y), 2, name)[1], "ds")
    student_gradcheck("softmax_ce", fwd("softmax_ce"), bwd("softmax_ce"), [s])
    student_gradcheck("hinge", fwd("hinge"), bwd("hinge"), [s + 0.05 * np.arange(4)])


def losses_initial(m: Any, rng: Gen) -> None:
    """The sanity check of an untrained classifier: small random scores give CE ≈ ln C and hinge ≈ C − 1."""
    c = int(rng.integers(5, 11))
    s, y = rng.standard_normal((400, c)) * 1e-4, rng.integers(0, c, 400)
    ce = float(_arr(_unpack(m.softmax_ce(s, y), 2, "softmax_ce")[0], "loss").reshape(-1)[0])
    hi = float(_arr(_unpack(m.hinge(s, y), 2, "hinge")[0], "loss").reshape(-1)[0])
    close(f"CE ≈ ln {c}", ce, math.log(c), rtol=1e-3, n=400)
    close(f"hinge ≈ {c} − 1", hi, c - 1.0, rtol=1e-3, n=400,
          alts=[Alt("hinge_counts_y", float(c), "the sum runs over j ≠ y_i: you also counted the correct class (+1)",
                    "求和只对 j ≠ y_i：你把正确类别也算进去了（+1）")])


# --- two-layer net (slides 6-9, 65-79) --------------------------------------------------------

def _grads_dict(got: Any) -> dict[str, Any]:
    if not isinstance(got, dict) or set(got) != {"w1", "b1", "w2", "b2"}:
        raise Fail("type", tr("grads must be a dict with keys w1, b1, w2, b2", "grads 应为键为 w1, b1, w2, b2 的字典"),
                   "{w1, b1, w2, b2}", short(got))
    return got


def _two_layer_case(m: Any, rng: Gen, n: int, d: int, h: int, c: int) -> None:
    x, y = rng.standard_normal((n, d)), rng.integers(0, c, n)
    w1, b1 = rng.standard_normal((h, d)), rng.standard_normal(h) * 0.5
    w2, b2 = rng.standard_normal((c, h)) * 0.5, rng.standard_normal(c) * 0.1
    want, grads = R.two_layer(x, y, w1, b1, w2, b2)
    loss, got = _unpack(m.two_layer_loss(x.copy(), y.copy(), w1.copy(), b1.copy(), w2.copy(), b2.copy()), 2,
                        "two_layer_loss")
    close(tr("loss", "损失"), loss, want, n=n)
    _grads_dict(got)
    # the forgotten ReLU mask: the hidden layer's gradient passed through unmasked
    z = x @ w1.T + b1
    hh = np.maximum(z, 0)
    p = R.softmax(hh @ w2.T + b2)
    ds = (p - np.eye(c)[y]) / n
    dz_nomask = ds @ w2
    mask_en, mask_zh = ("the ReLU gate was skipped in backward: multiply dh by (z > 0)",
                        "反向传播跳过了 ReLU 门：dh 应乘以 (z > 0)")
    alts = {"w1": [Alt("relu_mask", dz_nomask.T @ x, mask_en, mask_zh)],
            "b1": [Alt("relu_mask", dz_nomask.sum(axis=0), mask_en, mask_zh)]}
    for k in ("w2", "b2", "w1", "b1"):
        close(f"d{k} (N={n}, D={d}, H={h}, C={c})", got[k], grads[k], n=n, alts=alts.get(k, ()))


def two_layer_random(m: Any, rng: Gen) -> None:
    _two_layer_case(m, rng, int(rng.integers(4, 9)), int(rng.integers(2, 6)), int(rng.integers(6, 10)), 3)


def two_layer_square(m: Any, rng: Gen) -> None:
    k = int(rng.integers(3, 6))
    _two_layer_case(m, rng, k, k, k, k)


def two_layer_gradcheck(m: Any, rng: Gen) -> None:
    x, y = rng.standard_normal((4, 3)), rng.integers(0, 3, 4)
    params = [rng.standard_normal((5, 3)), rng.standard_normal(5) * 0.5, rng.standard_normal((3, 5)),
              rng.standard_normal(3)]

    def fwd(*ps: Any) -> Any:
        return _scalar(_unpack(m.two_layer_loss(x, y, *ps), 2, "two_layer_loss")[0])

    def bwd(g: Any, *ps: Any) -> tuple[Any, ...]:
        grads = _grads_dict(_unpack(m.two_layer_loss(x, y, *ps), 2, "two_layer_loss")[1])
        return tuple(g * _arr(grads[k], k) for k in ("w1", "b1", "w2", "b2"))
    student_gradcheck("two_layer_loss", fwd, bwd, params)


# --- optimizers (slides 92-122) ---------------------------------------------------------------

def _steps(m: Any, fn: str, theta: np.ndarray, grads: list[np.ndarray], nstate: int, **hyper: Any) -> np.ndarray:
    state = [np.zeros_like(theta) for _ in range(nstate)]
    th = theta.copy()
    for t, g in enumerate(grads, start=1):
        kw = dict(hyper, t=t) if fn == "adam_step" else hyper
        out = getattr(m, fn)(th, g.copy(), *state, **kw)
        if nstate == 0:
            th = _arr(out, fn)
        else:
            parts = _unpack(out, nstate + 1, fn)
            th, state = _arr(parts[0], "theta"), [_arr(s, "state") for s in parts[1:]]
        if th.shape != theta.shape:
            raise Fail("shape", tr(f"{fn}: θ came back with shape {th.shape}, expected {theta.shape}",
                                   f"{fn}：θ 的形状变成了 {th.shape}，应为 {theta.shape}"))
    return th


def _adam(theta: np.ndarray, grads: list[np.ndarray], lr: float, mu: float, rho: float, eps: float,
          shift: int | None) -> np.ndarray:
    """Slide 117's Adam; ``shift`` None: no bias correction, else powers t + shift (0 is the right one)."""
    th, v, r = theta.copy(), np.zeros_like(theta), np.zeros_like(theta)
    with np.errstate(all="ignore"):
        for t, g in enumerate(grads, start=1):
            v = mu * v + (1 - mu) * g
            r = rho * r + (1 - rho) * g * g
            vh, rh = (v, r) if shift is None else (v / (1 - mu ** (t + shift)), r / (1 - rho ** (t + shift)))
            th = th - lr * vh / np.sqrt(rh + eps)
    return th


def _opt_data(rng: Gen, k: int = 5) -> tuple[np.ndarray, list[np.ndarray]]:
    shape = (int(rng.integers(2, 5)), int(rng.integers(2, 5)))
    return rng.standard_normal(shape), [rng.standard_normal(shape) for _ in range(k)]


def optim_slide_momentum_zero(m: Any, rng: Gen) -> None:
    """Slide 103: μ = 0 makes momentum plain gradient descent."""
    theta, grads = _opt_data(rng, 3)
    close(tr("momentum with μ = 0 (slide 103: = SGD)", "μ = 0 的动量法（第103页：等价于梯度下降）"),
          _steps(m, "momentum_step", theta, grads, 1, lr=0.1, mu=0.0), R.optimizer_run("sgd", theta, grads, lr=0.1))


def optim_sgd(m: Any, rng: Gen) -> None:
    theta, grads = _opt_data(rng, 3)
    lr = float(rng.uniform(0.01, 0.5))
    close(tr("θ after 3 SGD steps", "3 步 SGD 后的 θ"), _steps(m, "sgd_step", theta, grads, 0, lr=lr),
          R.optimizer_run("sgd", theta, grads, lr=lr),
          alts=[Alt("sign", theta + lr * sum(grads), "θ moved up the gradient: θ ← θ − εg",
                    "θ 沿梯度方向上升了：应为 θ ← θ − εg")])


def optim_momentum(m: Any, rng: Gen) -> None:
    theta, grads = _opt_data(rng)
    lr, mu = float(rng.uniform(0.01, 0.3)), float(rng.uniform(0.5, 0.95))
    close(tr("θ after 5 momentum steps (lecture form)", "5 步动量法后的 θ（讲义形式）"),
          _steps(m, "momentum_step", theta, grads, 1, lr=lr, mu=mu),
          R.optimizer_run("momentum", theta, grads, lr=lr, momentum=mu),
          alts=[Alt("momentum_pytorch_form", R.optimizer_run("momentum", theta, grads, lr=lr, momentum=mu,
                                                             form="pytorch"),
                    "v ← μv + g is PyTorch's form; slides 99-103 use v ← μv + (1 − μ)g",
                    "v ← μv + g 是 PyTorch 的形式；第99-103页为 v ← μv + (1 − μ)g")])


def optim_rmsprop(m: Any, rng: Gen) -> None:
    theta, grads = _opt_data(rng)
    lr, rho, eps = float(rng.uniform(0.001, 0.1)), float(rng.uniform(0.8, 0.999)), 1e-5
    th, r, inside = theta.copy(), np.zeros_like(theta), theta.copy()
    for g in grads:  # the δ-inside-the-root variant, a typical slip
        r = rho * r + (1 - rho) * g * g
        inside = inside - lr * g / np.sqrt(r + eps)
    close(tr("θ after 5 RMSProp steps", "5 步 RMSProp 后的 θ"),
          _steps(m, "rmsprop_step", th, grads, 1, lr=lr, rho=rho, eps=eps),
          R.optimizer_run("rmsprop", theta, grads, lr=lr, rho=rho, eps=eps), rtol=1e-7,
          alts=[Alt("eps_inside_root", inside, "slide 112 adds δ outside the root: ε g / (√r + δ)",
                    "第112页的 δ 在根号外：ε g / (√r + δ)")])


def optim_adagrad(m: Any, rng: Gen) -> None:
    theta, grads = _opt_data(rng)
    lr, eps = float(rng.uniform(0.01, 0.5)), 1e-5
    forget = theta.copy()
    for g in grads:
        forget = forget - lr * g / np.sqrt(g * g + eps)
    close(tr("θ after 5 AdaGrad steps", "5 步 AdaGrad 后的 θ"),
          _steps(m, "adagrad_step", theta, grads, 1, lr=lr, eps=eps),
          R.optimizer_run("adagrad", theta, grads, lr=lr, eps=eps),
          alts=[Alt("no_accumulation", forget, "r must accumulate every squared gradient: r ← r + g²",
                    "r 应累积所有梯度的平方：r ← r + g²")])


def _adam_alts(theta: np.ndarray, grads: list[np.ndarray], **h: Any) -> list[Alt]:
    en = "bias correction off by one step: at step t use 1 − μᵗ and 1 − ρᵗ with t starting at 1"
    zh = "偏差修正差了一步：第 t 步用 1 − μᵗ 和 1 − ρᵗ，t 从 1 开始"
    return [Alt("bias_correction_off_by_one", _adam(theta, grads, shift=1, **h), en, zh),
            Alt("bias_correction_off_by_one", _adam(theta, grads, shift=-1, **h), en, zh),
            Alt("no_bias_correction", _adam(theta, grads, shift=None, **h),
                "bias correction is missing: ṽ = v / (1 − μᵗ), r̃ = r / (1 − ρᵗ)",
                "缺少偏差修正：ṽ = v / (1 − μᵗ)，r̃ = r / (1 − ρᵗ)")]


def optim_adam(m: Any, rng: Gen) -> None:
    theta, grads = _opt_data(rng)
    h = {"lr": float(rng.uniform(0.001, 0.1)), "mu": 0.9, "rho": 0.999, "eps": 1e-5}
    want = R.optimizer_run("adam", theta, grads, lr=h["lr"], betas=(h["mu"], h["rho"]), eps=h["eps"])
    close(tr("θ after 5 Adam steps (with bias correction)", "5 步 Adam 后的 θ（有偏差修正）"),
          _steps(m, "adam_step", theta, grads, 2, **h), want, rtol=1e-7, alts=_adam_alts(theta, grads, **h))


def optim_adam_no_correction(m: Any, rng: Gen) -> None:
    theta, grads = _opt_data(rng)
    h = {"lr": float(rng.uniform(0.001, 0.1)), "mu": float(rng.uniform(0.8, 0.95)), "rho": 0.99, "eps": 1e-5}
    close(tr("θ after 5 Adam steps without bias correction", "5 步无偏差修正的 Adam 后的 θ"),
          _steps(m, "adam_step", theta, grads, 2, bias_correction=False, **h),
          _adam(theta, grads, shift=None, **h), rtol=1e-7,
          alts=[Alt("bias_correction_ignored", _adam(theta, grads, shift=0, **h),
                    "bias_correction=False must skip steps 5's division by 1 − μᵗ and 1 − ρᵗ",
                    "bias_correction=False 时应跳过第5步对 1 − μᵗ、1 − ρᵗ 的除法")])


def optim_adam_first_step(m: Any, rng: Gen) -> None:
    """Slide 121: bias correction cures the cold start: Adam's first step moves each θ_i by about ε."""
    theta = rng.standard_normal(6)
    n = rng.standard_normal(6)
    g = np.sign(n) * (np.abs(n) + 0.1) * 10 ** rng.uniform(-1, 2, 6)  # |g| ≥ 0.01 ≫ √δ
    out = _unpack(m.adam_step(theta.copy(), g.copy(), np.zeros(6), np.zeros(6), t=1, lr=0.01, mu=0.9, rho=0.999,
                              eps=1e-8), 3, "adam_step")
    close(tr("|Δθ| of the first step (slide 121: ≈ ε = 0.01)", "第一步的 |Δθ|（第121页：≈ ε = 0.01）"),
          np.abs(_arr(out[0], "theta") - theta), np.full(6, 0.01), rtol=1e-3, atol=0.0,
          alts=[*[Alt("bias_correction_off_by_one", np.abs(_adam(theta, [g], 0.01, 0.9, 0.999, 1e-8, k) - theta),
                      "bias correction off by one step: at step t use 1 − μᵗ and 1 − ρᵗ with t starting at 1",
                      "偏差修正差了一步：第 t 步用 1 − μᵗ 和 1 − ρᵗ，t 从 1 开始") for k in (1, -1)],
                Alt("no_bias_correction", np.abs(_adam(theta, [g], 0.01, 0.9, 0.999, 1e-8, None) - theta),
                    "bias correction is missing: ṽ = v / (1 − μᵗ), r̃ = r / (1 − ρᵗ)",
                    "缺少偏差修正：ṽ = v / (1 − μᵗ)，r̃ = r / (1 − ρᵗ)")])


# --- initialisation (slides 131-135) ----------------------------------------------------------

def _init_var(m: Any, fn: str, n_in: int, n_out: int, seed: int) -> np.ndarray:
    w = _arr(getattr(m, fn)(n_in, n_out, np.random.default_rng(seed)), fn)
    if w.shape != (n_out, n_in):
        if w.shape == (n_in, n_out):
            raise Fail("transpose", tr(f"{fn}: W has shape (n_in, n_out) = {w.shape}; fcnet's W is (n_out, n_in)",
                                       f"{fn}：W 的形状为 (n_in, n_out) = {w.shape}；fcnet 的 W 为 (n_out, n_in)"))
        raise Fail("shape", tr(f"{fn}: W has shape {w.shape}, expected {(n_out, n_in)}",
                               f"{fn}：W 的形状为 {w.shape}，应为 {(n_out, n_in)}"))
    return w


def _variance_test(m: Any, rng: Gen, fn: str, gain: float) -> None:
    # n_out far from 2 n_in: 2/n_out must not pass for 1/n_in (He with fan-out would look like Xavier)
    n_in, n_out = int(rng.integers(250, 350)), int(rng.integers(900, 1100))
    w = _init_var(m, fn, n_in, n_out, int(rng.integers(1 << 30)))
    var, mean = float(w.var()), float(w.mean())
    want = gain / n_in
    sd_mean = math.sqrt(want / w.size)
    check(abs(mean) < 6 * sd_mean, "mean", f"{fn}: the mean of W is {mean:.3g}, expected 0",
          f"{fn}：W 的均值为 {mean:.3g}，应为 0", "0", f"{mean:.3g}")
    if abs(var / want - 1) < 0.05:
        return
    named = [(1 / n_out, "fan_out", "the variance is 1/n_out: N is the number of inputs (fan-in), not outputs",
              "方差为 1/n_out：N 是输入神经元个数（fan-in），不是输出个数"),
             (gain / n_out, "fan_out", "the variance uses n_out: N is the number of inputs (fan-in)",
              "方差用了 n_out：N 是输入神经元个数（fan-in）"),
             (gain**2 / n_in**2, "std_for_var", "the variance is (gain/N)²: σ² = gain/N, so σ = √(gain/N)",
              "方差为 (gain/N)²：σ² = gain/N，所以 σ = √(gain/N)"),
             (1 / n_in**2, "std_for_var", "the variance is 1/N²: σ² = gain/N, so σ = √(gain/N)",
              "方差为 1/N²：σ² = gain/N，所以 σ = √(gain/N)"),
             (2 / n_in, "he_for_xavier", "the variance is 2/N (He's); Xavier's is 1/N (slide 132)",
              "方差为 2/N（He 初始化）；Xavier 为 1/N（第132页）"),
             (1 / n_in, "xavier_for_he", "the variance is 1/N (Xavier's); He's is 2/N for ReLU (slide 135)",
              "方差为 1/N（Xavier 初始化）；ReLU 用 He 初始化，方差 2/N（第135页）"),
             (1.0, "unit_variance", "the variance is 1 (slide 128's N(0, 1)): scale by √(gain/N)",
              "方差为 1（第128页的 N(0, 1)）：应乘以 √(gain/N)")]
    for v, key, en, zh in named:
        if abs(var / v - 1) < 0.05 and abs(v / want - 1) > 0.1:
            raise Fail(key, f"{fn}: {tr(en, zh)}", f"{want:.4g}", f"{var:.4g}")
    raise Fail("variance", tr(f"{fn}: Var(W) = {var:.4g}, expected {gain:g}/N = {want:.4g} (N = fan-in = {n_in})",
                              f"{fn}：Var(W) = {var:.4g}，应为 {gain:g}/N = {want:.4g}（N = fan-in = {n_in}）"),
               f"{want:.4g}", f"{var:.4g}")


def init_xavier(m: Any, rng: Gen) -> None:
    _variance_test(m, rng, "xavier_init", 1.0)


def init_he(m: Any, rng: Gen) -> None:
    _variance_test(m, rng, "he_init", 2.0)


def init_rng(m: Any, rng: Gen) -> None:
    seed = int(rng.integers(1 << 30))
    for fn in ("xavier_init", "he_init"):
        a, b = _init_var(m, fn, 20, 10, seed), _init_var(m, fn, 20, 10, seed)
        c = _init_var(m, fn, 20, 10, seed + 1)
        check(np.array_equal(a, b) and not np.array_equal(a, c), "not_from_rng",
              f"{fn}: draw from the generator `rng` you are given (rng.standard_normal), so that a seed reproduces W",
              f"{fn}：请从传入的生成器 rng 中采样（rng.standard_normal），使同一种子得到同一 W")


def _deep_std(m: Any, fn: str, rng: Gen, layers: int = 10, width: int = 256) -> float:
    h = rng.standard_normal((200, width))
    first = None
    for _ in range(layers):
        h = np.maximum(h @ _init_var(m, fn, width, width, int(rng.integers(1 << 30))).T, 0.0)
        first = float(h.std()) if first is None else first
    return float(h.std()) / first


def init_relu_claim(m: Any, rng: Gen) -> None:
    """Slides 134-135: with ReLU, He keeps the activations' scale through 10 layers, Xavier lets it shrink."""
    he = _deep_std(m, "he_init", rng)
    xa = _deep_std(m, "xavier_init", rng)
    check(0.5 < he < 2.0, "he_relu", f"std of layer 10 / layer 1 with He + ReLU is {he:.3g}; slide 135: ≈ 1",
          f"He + ReLU 下第10层与第1层激活值标准差之比为 {he:.3g}；第135页：≈ 1", "≈ 1", f"{he:.3g}")
    check(xa < 0.2, "xavier_relu", f"std of layer 10 / layer 1 with Xavier + ReLU is {xa:.3g}; slide 134: it shrinks",
          f"Xavier + ReLU 下第10层与第1层激活值标准差之比为 {xa:.3g}；第134页：应逐层变小", "< 0.2", f"{xa:.3g}")


# --- batch norm (slides 137-141) --------------------------------------------------------------

def _bn_alts(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float) -> tuple[list[Alt], list[Alt]]:
    n = x.shape[0]
    mean = x.mean(axis=0)
    var = x.var(axis=0)
    unbiased = gamma * (x - mean) / np.sqrt(x.var(axis=0, ddof=1) + eps) + beta
    outside = gamma * (x - mean) / (np.sqrt(var) + eps) + beta
    en_u = f"the batch variance divides by N − 1 = {n - 1}: slide 141's σ²_B divides by m = N = {n}"
    zh_u = f"批方差除以了 N − 1 = {n - 1}：第141页的 σ²_B 除以 m = N = {n}"
    return ([Alt("bn_unbiased_var", unbiased, en_u, zh_u),
             Alt("bn_eps_outside", outside, "ε goes inside the root: √(σ²_B + ε)", "ε 应在根号内：√(σ²_B + ε)")],
            [Alt("bn_unbiased_var", x.var(axis=0, ddof=1), en_u, zh_u)])


def bn_slide_claim(m: Any, rng: Gen) -> None:
    """Slide 141: every feature comes out with mean 0 and variance 1 (γ = 1, β = 0)."""
    n, d = int(rng.integers(6, 12)), 4
    x = rng.standard_normal((n, d)) * rng.uniform(0.5, 5, d) + rng.uniform(-5, 5, d)
    y, _, _ = _unpack(m.batchnorm_forward(x.copy(), np.ones(d), np.zeros(d)), 3, "batchnorm_forward")
    y = _arr(y, "y")
    close(tr("mean of each output feature (slide 141: 0)", "各输出特征的均值（第141页：0）"), y.mean(axis=0),
          np.zeros(d), atol=1e-9)
    var = y.var(axis=0)
    if np.allclose(var, (n - 1) / n, rtol=1e-3):
        raise Fail("bn_unbiased_var", tr(f"the output variance is (N − 1)/N = {(n - 1) / n:.4g}: σ²_B must divide "
                                         f"by N = {n}, not N − 1", f"输出方差为 (N − 1)/N = {(n - 1) / n:.4g}："
                                         f"σ²_B 应除以 N = {n}，而不是 N − 1"), "1", short(var))
    close(tr("variance of each output feature (slide 141: 1)", "各输出特征的方差（第141页：1）"), var, np.ones(d),
          rtol=1e-3)


def bn_forward(m: Any, rng: Gen) -> None:
    n, d = int(rng.integers(4, 10)), int(rng.integers(2, 6))
    x, gamma, beta = rng.standard_normal((n, d)) * 2 + 1, rng.standard_normal(d), rng.standard_normal(d)
    y, mean, var, _ = R.batchnorm(x, gamma, beta, np.ones((n, d)))
    out = _unpack(m.batchnorm_forward(x.copy(), gamma.copy(), beta.copy(), eps=1e-5), 3, "batchnorm_forward")
    alts_y, alts_var = _bn_alts(x, gamma, beta, 1e-5)
    close(f"y (N={n})", out[0], y, alts=alts_y)
    close("μ_B", out[1], mean)
    close("σ²_B", out[2], var, alts=alts_var)


def bn_backward(m: Any, rng: Gen) -> None:
    n, d = int(rng.integers(4, 10)), int(rng.integers(2, 6))
    x, gamma, beta = rng.standard_normal((n, d)) * 2 + 1, rng.standard_normal(d), rng.standard_normal(d)
    g = rng.standard_normal((n, d))
    _, _, var, (dx, dgamma, dbeta) = R.batchnorm(x, gamma, beta, g)
    out = _unpack(m.batchnorm_backward(g.copy(), x.copy(), gamma.copy(), eps=1e-5), 3, "batchnorm_backward")
    close(f"dx (N={n})", out[0], dx,
          alts=[Alt("bn_backward_no_mean_terms", g * gamma / np.sqrt(var + 1e-5),
                    "dx treats μ_B and σ²_B as constants: they depend on x too (subtract mean(g) and x̂·mean(g·x̂))",
                    "dx 把 μ_B 和 σ²_B 当成了常数：它们也依赖 x（需减去 mean(g) 与 x̂·mean(g·x̂)）")])
    close("dγ", out[1], dgamma, n=n)
    close("dβ", out[2], dbeta, n=n)


def bn_gradcheck(m: Any, rng: Gen) -> None:
    x, gamma, beta = rng.standard_normal((5, 3)), rng.standard_normal(3), rng.standard_normal(3)

    def fwd(x_: Any, g_: Any, b_: Any) -> Any:
        return _unpack(m.batchnorm_forward(x_, g_, b_, eps=1e-5), 3, "batchnorm_forward")[0]

    def bwd(g: Any, x_: Any, g_: Any, b_: Any) -> Any:
        return _unpack(m.batchnorm_backward(g, x_, g_, eps=1e-5), 3, "batchnorm_backward")
    student_gradcheck("batchnorm", fwd, bwd, [x, gamma, beta])


def bn_test_mode(m: Any, rng: Gen) -> None:
    """Slide 141: at test time the running statistics, not the batch's: a single sample gets a fixed output."""
    d = int(rng.integers(2, 6))
    gamma, beta = rng.standard_normal(d), rng.standard_normal(d)
    rm, rv = rng.standard_normal(d), rng.uniform(0.5, 3, d)
    for n in (int(rng.integers(3, 8)), 1):
        x = rng.standard_normal((n, d)) * 2
        want = R.batchnorm_eval(x, gamma, beta, rm, rv)
        with np.errstate(all="ignore"):
            batch = gamma * (x - x.mean(axis=0)) / np.sqrt(x.var(axis=0) + 1e-5) + beta
        close(f"batchnorm_test (N={n})",
              m.batchnorm_test(x.copy(), gamma.copy(), beta.copy(), rm.copy(), rv.copy(), eps=1e-5), want,
              alts=[Alt("bn_test_batch_stats", batch, "test mode must use the running mean and variance, not the "
                        "batch's (slide 141)", "测试时应使用累计的均值和方差，而不是当前批次的（第141页）")])


def bn_constant_feature(m: Any, rng: Gen) -> None:
    """A feature constant over the batch has σ²_B = 0: ε keeps the output finite (= β)."""
    x = rng.standard_normal((6, 3))
    x[:, 1] = 4.2
    gamma, beta = np.ones(3), np.array([0.0, 0.7, 0.0])
    y, _, _ = _unpack(m.batchnorm_forward(x.copy(), gamma, beta, eps=1e-5), 3, "batchnorm_forward")
    close(tr("output of a constant feature (= β)", "常数特征的输出（= β）"), _arr(y, "y")[:, 1], np.full(6, 0.7))


# --- dropout (slides 155-158) -----------------------------------------------------------------

SLIDE_158 = np.array([0.2, 0.5, 1.3, 0.8, 1.1])


def _drop(m: Any, x: np.ndarray, p: float, train: bool, seed: int, inverted: bool) -> tuple[np.ndarray, Any]:
    out, mask = _unpack(m.dropout_forward(x.copy(), p, train, np.random.default_rng(seed), inverted=inverted), 2,
                        "dropout_forward")
    return _arr(out, "out"), mask


def dropout_slide(m: Any, rng: Gen) -> None:
    """Slide 158: [0.2, 0.5, 1.3, 0.8, 1.1] becomes e.g. [0, 0.5, 1.3, 0, 1.1]: dropped units are 0, the rest kept."""
    out, mask = _drop(m, SLIDE_158, 0.4, True, int(rng.integers(1 << 30)), inverted=False)
    mask = _arr(mask, "mask")
    check(mask.shape == SLIDE_158.shape and set(np.unique(mask)) <= {0.0, 1.0}, "mask",
          "the mask must have x's shape and hold only 0 and 1 (or False/True)", "掩码应与 x 同形，只含 0 和 1",
          "0/1", short(mask))
    close(tr("slide-form output on slide 158's vector: x where kept, 0 where dropped",
             "第158页向量的输出（讲义形式）：保留处为 x，舍弃处为 0"), out, SLIDE_158 * mask)


def dropout_rate(m: Any, rng: Gen) -> None:
    """The dropout ratio p is the fraction set to 0 (slide 157)."""
    p = float(rng.choice([0.2, 0.3, 0.4]))
    out, _ = _drop(m, np.ones(100_000), p, True, int(rng.integers(1 << 30)), inverted=False)
    frac = float((out == 0).mean())
    check(abs(frac - (1 - p)) > 0.02, "keep_drop_swapped",
          f"{frac:.3f} of the units were dropped with p = {p}: p is the fraction set to 0, you dropped 1 − p",
          f"p = {p} 时有 {frac:.3f} 的单元被舍弃：p 是被设为 0 的比例，你舍弃了 1 − p", f"{p}", f"{frac:.3f}")
    check(abs(frac - p) < 0.01, "drop_rate", f"{frac:.3f} of the units were dropped, expected p = {p}",
          f"有 {frac:.3f} 的单元被舍弃，应为 p = {p}", f"{p}", f"{frac:.3f}")


def dropout_inverted_train(m: Any, rng: Gen) -> None:
    p = float(rng.choice([0.2, 0.3]))  # not 0.5, where 1/p = 1/(1 − p)
    x = rng.standard_normal((50, 40))
    out, mask = _drop(m, x, p, True, int(rng.integers(1 << 30)), inverted=True)
    mask = _arr(mask, "mask")
    close(tr(f"inverted dropout in training (p = {p}): x·mask/(1 − p)",
        f"训练时的反向随机失活（p = {p}）：x·mask/(1 − p)"),
          out, x * mask / (1 - p),
          alts=[Alt("inverted_scale_p", x * mask / p, "scale by 1/(1 − p), the keep probability, not 1/p",
                    "应除以保留概率 (1 − p)，而不是 p"),
                Alt("missing_train_scaling",
                    x * mask, "inverted dropout scales the kept units by 1/(1 − p) in training",
                    "反向随机失活在训练时把保留的单元乘以 1/(1 − p)")])


def dropout_test(m: Any, rng: Gen) -> None:
    """At test time: the inverted form is the identity; the slide's form scales by the keep probability 1 − p."""
    p = float(rng.choice([0.2, 0.3, 0.5]))
    x = rng.standard_normal((4, 6))
    seed = int(rng.integers(1 << 30))
    inv, _ = _drop(m, x, p, False, seed, inverted=True)
    close(tr("inverted dropout at test time: x unchanged", "测试时的反向随机失活：x 不变"), inv, x,
          alts=[Alt("inverted_scaling_at_test", x / (1 - p), "inverted dropout already scaled in training: at test "
                    "time return x, not x/(1 − p)", "反向随机失活已在训练时缩放：测试时直接返回 x，而不是 x/(1 − p)"),
                Alt("slide_scaling_in_inverted", x * (1 - p), "inverted dropout: at test time x, not x·(1 − p) "
                    "(that is the slide's form)", "反向随机失活：测试时返回 x，而不是 x·(1 − p)（那是讲义形式）")])
    slide, _ = _drop(m, x, p, False, seed, inverted=False)
    close(tr("slide-form dropout at test time: x·(1 − p)", "讲义形式测试时：x·(1 − p)"), slide, x * (1 - p),
          alts=[Alt("missing_test_scaling", x, "the slide's form keeps all units at test time, so it scales by the "
                    "keep probability: x·(1 − p)", "讲义形式在测试时保留全部单元，因此应乘以保留概率：x·(1 − p)"),
                Alt("inverted_scaling_at_test", x / (1 - p), "test time scales by (1 − p), not 1/(1 − p)",
                    "测试时乘以 (1 − p)，而不是除以 (1 − p)")])


def dropout_backward(m: Any, rng: Gen) -> None:
    p = float(rng.choice([0.2, 0.5]))
    x, g = rng.standard_normal((6, 5)), rng.standard_normal((6, 5))
    for inverted in (True, False):
        _, mask = _drop(m, x, p, True, int(rng.integers(1 << 30)), inverted=inverted)
        mask = _arr(mask, "mask")
        want = g * mask / (1 - p) if inverted else g * mask
        close(f"dropout_backward (inverted={inverted})",
            m.dropout_backward(g.copy(), mask.copy(), p, inverted=inverted),
              want, alts=[Alt("dropout_backward_unmasked", g / (1 - p) if inverted else g,
                              "the gradient flows only through kept units: multiply by the mask",
                              "梯度只流过保留的单元：应乘以掩码")])


def dropout_rng(m: Any, rng: Gen) -> None:
    seed = int(rng.integers(1 << 30))
    x = np.ones(64)
    a, _ = _drop(m, x, 0.5, True, seed, inverted=True)
    b, _ = _drop(m, x, 0.5, True, seed, inverted=True)
    c, _ = _drop(m, x, 0.5, True, seed + 1, inverted=True)
    check(np.array_equal(a, b) and not np.array_equal(a, c), "not_from_rng",
          "draw the mask from the generator `rng` you are given (rng.random), so that a seed reproduces it",
          "请从传入的生成器 rng 中采样掩码（rng.random），使同一种子得到同一掩码")


# --- gradient clipping (slide 87) -------------------------------------------------------------

def _clip_call(m: Any, grads: list[np.ndarray], max_norm: float) -> tuple[list[np.ndarray], float]:
    out, total = _unpack(m.clip_grad_norm([g.copy() for g in grads], max_norm), 2, "clip_grad_norm")
    if not isinstance(out, list | tuple) or len(out) != len(grads):
        raise Fail("type", tr("clip_grad_norm must return a list with one array per gradient",
                              "clip_grad_norm 应返回与梯度一一对应的数组列表"), str(len(grads)), short(out))
    return [_arr(o, "g") for o in out], float(_arr(total, "total_norm").reshape(-1)[0])


def clip_slide(m: Any, rng: Gen) -> None:
    """Slide 87: a step off the cliff is limited to max_norm, in the gradient's own direction."""
    grads = [rng.standard_normal((3, 4)) * 100, rng.standard_normal(4) * 100]
    out, _ = _clip_call(m, grads, 1.0)
    flat, want = np.concatenate([o.ravel() for o in out]), np.concatenate([g.ravel() for g in grads])
    if not np.isfinite(flat).all():
        raise Fail("nan", tr("the clipped gradients hold NaN or inf", "裁剪后的梯度中含有 NaN 或 inf"), "finite",
                   short(flat))
    check(bool(np.any(flat)), "clip_zero", "the clipped gradients are all 0: rescale by max_norm/‖g‖, don't zero "
          "them", "裁剪后的梯度全为 0：应乘以 max_norm/‖g‖，而不是置零", short(want), short(flat))
    cos = float(flat @ want / (np.linalg.norm(flat) * np.linalg.norm(want)))
    check(cos > 1 - 1e-9, "clip_value", f"clipping changed the gradient's direction (cosine {cos:.4f}): rescale "
          "every gradient by the same factor, don't clamp entries", f"裁剪改变了梯度方向（余弦 {cos:.4f}）："
          "所有梯度应乘以同一个因子，而不是逐元素截断", "1", f"{cos:.4f}")
    norm = float(np.linalg.norm(flat))
    check(abs(norm - 1.0) < 1e-4, "clip_norm", f"the clipped gradients' norm is {norm:.4g}, expected max_norm = 1",
          f"裁剪后梯度的范数为 {norm:.4g}，应为 max_norm = 1", "1", f"{norm:.4g}")


def clip_random(m: Any, rng: Gen) -> None:
    grads = [rng.standard_normal((int(rng.integers(2, 5)), 3)) * 3 for _ in range(3)]
    total = float(np.sqrt(sum((g * g).sum() for g in grads)))
    max_norm = total * float(rng.uniform(0.1, 0.8))
    want, want_total = R.clip(grads, max_norm)
    out, got_total = _clip_call(m, grads, max_norm)
    per_tensor = [g * min(1.0, max_norm / np.linalg.norm(g)) for g in grads]
    close(tr("total norm (before clipping)", "总范数（裁剪前）"), got_total, want_total,
          alts=[Alt("per_tensor_norm", max(np.linalg.norm(g) for g in grads),
                    "the norm is over all gradients together", "范数应对所有梯度合在一起计算")])
    for i, (o, w) in enumerate(zip(out, want, strict=True)):
        close(f"grads[{i}]", o, w, rtol=1e-5,
              alts=[Alt("per_tensor_norm", per_tensor[i], "clip by the norm of all gradients together, not each "
                        "tensor's own", "应按所有梯度合在一起的范数裁剪，而不是各自的范数"),
                    Alt("clip_value", np.clip(grads[i], -max_norm, max_norm), "that clamps entries (value clipping); "
                        "rescale by max_norm/‖g‖ instead", "那是逐元素截断；应乘以 max_norm/‖g‖")])


def clip_small(m: Any, rng: Gen) -> None:
    grads = [rng.standard_normal(5) * 0.01, rng.standard_normal((2, 2)) * 0.01]
    out, _ = _clip_call(m, grads, 10.0)
    total = float(np.sqrt(sum((g * g).sum() for g in grads)))
    for i, (o, g) in enumerate(zip(out, grads, strict=True)):
        close(tr(f"grads[{i}] below max_norm: unchanged", f"grads[{i}] 小于 max_norm：不变"), o, g,
              alts=[Alt("always_rescale", g * 10.0 / total, "gradients below max_norm were scaled up: clip only when "
                        "‖g‖ > max_norm", "小于 max_norm 的梯度被放大了：只有 ‖g‖ > max_norm 时才裁剪")])


def _t(id_: str, en: str, zh: str, slides: str, fn: Any) -> Test:
    return Test(id_, en, zh, slides, fn)


TESTS: dict[str, list[Test]] = {
    "sigmoid_neuron": [
        _t("slide_forward", "slide 77's numbers: f(w, x) = 0.73", "第77页的数字：f(w, x) = 0.73", "70-77",
           neuron_slide_forward),
        _t("slide_backward", "slide 77's gradients: w −0.20, −0.39, 0.20; x 0.39, −0.59",
           "第77页的梯度：w −0.20, −0.39, 0.20；x 0.39, −0.59", "70-77", neuron_slide_backward),
        _t("gradcheck", "gradcheck (float64): backward against finite differences",
           "梯度检验（float64）：反向传播对照有限差分", "70-77", neuron_gradcheck),
        _t("random", "hidden random neurons against fcnet", "隐藏的随机神经元，对照 fcnet", "70-78", neuron_random),
    ],
    "gates": [
        _t("slide_chain", "slides 71-76: your gates chained through the neuron give the slide's numbers",
           "第71-76页：用你的门单元逐个反传，得到幻灯片上的数字", "70-77", gates_slide_chain),
        _t("gradcheck", "gradcheck (float64) of exp, 1/x, mul, max", "exp、1/x、乘法、max 门的梯度检验（float64）",
           "69-70", gates_gradcheck),
        _t("random", "hidden random inputs against fcnet's gates (scalars and arrays)",
           "隐藏的随机输入，对照 fcnet 的门单元（标量与数组）", "69-70, 78-79", gates_random),
    ],
    "affine": [
        _t("slide_shapes", "slide 6: W₁x + b₁ on a batch of rows", "第6页：W₁x + b₁ 作用于一批样本", "6-9",
           affine_slide_shapes),
        _t("gradcheck", "gradcheck (float64)", "梯度检验（float64）", "6-9, 65-79", affine_gradcheck),
        _t("random", "hidden random shapes against fcnet's Linear", "隐藏的随机形状，对照 fcnet 的 Linear", "6-9",
           affine_random),
        _t("square", "square shapes (a forgotten transpose still fits)", "方阵形状（忘记转置时形状依然吻合）", "6-9",
           affine_square),
        _t("one_row", "a batch of one row", "只有一行的批量", "6-9", affine_one_row),
    ],
    "activations": [
        _t(ACT_IDS[name], f"{name} and {name}_backward: slide {ACT_SLIDES[name]}, gradcheck (float64), hidden "
           "random inputs against fcnet, saturation at ±30 and ±1000, the kink at 0",
           f"{name} 与 {name}_backward：第{ACT_SLIDES[name]}页、梯度检验（float64）、隐藏的随机输入（对照 fcnet）、"
           "±30 与 ±1000 处的饱和、0 处的拐点", ACT_SLIDES[name], _activation(name))
        for name in ("relu", "leaky_relu", "sigmoid", "tanh")
    ],
    "losses": [
        _t("slide_64_ce", "slide 64: cross-entropy of [10, −2, 3] and [10, 9, 9]",
           "第64页：[10, −2, 3] 与 [10, 9, 9] 的交叉熵", "62-64", losses_slide_64_ce),
        _t("slide_64_tiny", "slide 64: cross-entropy of [10, −100, −100] is 1.5e-48, not 0",
           "第64页：[10, −100, −100] 的交叉熵为 1.5e-48，而不是 0", "62-64", losses_slide_64_tiny),
        _t("slide_64_hinge", "slide 64: the hinge loss is 0 for all three",
            "第64页：三组分数的多类支撑向量机损失都为 0",
           "62-64", losses_slide_64_hinge),
        _t("softmax", "softmax, also of huge scores", "softmax，包括极大的分数", "52-57", losses_softmax),
        _t("gradcheck", "gradcheck (float64) of both losses", "两个损失的梯度检验（float64）", "52-64",
            losses_gradcheck),
        _t("ce_random", "hidden random scores: cross-entropy against fcnet", "隐藏的随机分数：交叉熵对照 fcnet",
           "57-58", losses_ce_random),
        _t("hinge_random", "hidden random scores: hinge loss against fcnet",
            "隐藏的随机分数：多类支撑向量机损失对照 fcnet",
           "62-64", losses_hinge_random),
        _t("initial", "small random scores: CE ≈ ln C, hinge ≈ C − 1", "很小的随机分数：交叉熵 ≈ ln C，hinge ≈ C − 1",
           "57-64", losses_initial),
    ],
    "two_layer": [
        _t("gradcheck", "gradcheck (float64) of the whole net", "整个网络的梯度检验（float64）", "65-79",
           two_layer_gradcheck),
        _t("random", "hidden random nets against fcnet's autograd", "隐藏的随机网络，对照 fcnet 的自动求导",
            "6-9, 65-79",
           two_layer_random),
        _t("square", "square shapes (a forgotten transpose still fits)", "方阵形状（忘记转置时形状依然吻合）",
           "6-9, 65-79", two_layer_square),
    ],
    "optimizers": [
        _t("slide_momentum_zero", "slide 103: momentum with μ = 0 is gradient descent",
           "第103页：μ = 0 时动量法等价于梯度下降", "99-103", optim_slide_momentum_zero),
        _t("slide_adam_first_step", "slide 121: Adam's first step moves each θ_i by about ε",
           "第121页：Adam 的第一步使每个 θ_i 移动约 ε", "116-121", optim_adam_first_step),
        _t("sgd", "SGD against fcnet.optim.SGD", "SGD 对照 fcnet.optim.SGD", "92-95, 99", optim_sgd),
        _t("momentum", "momentum against fcnet.optim.Momentum (lecture form)",
           "动量法对照 fcnet.optim.Momentum（讲义形式）", "99-103", optim_momentum),
        _t("rmsprop", "RMSProp against fcnet.optim.RMSProp", "RMSProp 对照 fcnet.optim.RMSProp", "112-114",
           optim_rmsprop),
        _t("adagrad", "AdaGrad against fcnet.optim.Adagrad", "AdaGrad 对照 fcnet.optim.Adagrad", "108-111",
           optim_adagrad),
        _t("adam", "Adam against fcnet.optim.Adam", "Adam 对照 fcnet.optim.Adam", "116-121", optim_adam),
        _t("adam_no_correction", "Adam without bias correction", "无偏差修正的 Adam", "116-121",
           optim_adam_no_correction),
    ],
    "init": [
        _t("xavier", "Xavier: Var(W) = 1/N with N = fan-in (statistical)",
            "Xavier：Var(W) = 1/N，N 为输入个数（统计检验）",
           "130-133", init_xavier),
        _t("he", "He: Var(W) = 2/N (statistical)", "He：Var(W) = 2/N（统计检验）", "134-135", init_he),
        _t("rng", "drawn from the generator given (reproducible)", "从给定的生成器采样（可复现）", "127-135", init_rng),
        _t("relu_claim", "slides 134-135: with ReLU, He keeps the scale over 10 layers, Xavier shrinks it",
           "第134-135页：ReLU 下 He 在10层中保持尺度，Xavier 使其变小", "133-135", init_relu_claim),
    ],
    "batchnorm": [
        _t("slide_claim", "slide 141: output features have mean 0 and variance 1",
            "第141页：输出特征均值为 0、方差为 1",
           "137-141", bn_slide_claim),
        _t("forward", "training-mode forward against fcnet's BatchNorm", "训练模式前向，对照 fcnet 的 BatchNorm",
           "141", bn_forward),
        _t("gradcheck", "gradcheck (float64)", "梯度检验（float64）", "138-141", bn_gradcheck),
        _t("backward", "backward against fcnet's BatchNorm", "反向传播，对照 fcnet 的 BatchNorm", "138-141",
            bn_backward),
        _t("test_mode", "test mode with running statistics (also one sample)", "测试模式使用累计统计量（包括单个样本）",
           "141", bn_test_mode),
        _t("constant_feature", "a constant feature (σ²_B = 0)", "常数特征（σ²_B = 0）", "141", bn_constant_feature),
    ],
    "dropout": [
        _t("slide_158", "slide 158's vector in the slide's form", "第158页的向量（讲义形式）", "155-158",
            dropout_slide),
        _t("rate", "p is the fraction set to 0", "p 是被设为 0 的比例", "157", dropout_rate),
        _t("inverted_train", "inverted dropout in training: x·mask/(1 − p)", "训练时的反向随机失活：x·mask/(1 − p)",
           "155-158", dropout_inverted_train),
        _t("test_mode", "test time in both forms", "两种形式的测试阶段", "155-158", dropout_test),
        _t("backward", "backward in both forms", "两种形式的反向传播", "155-158", dropout_backward),
        _t("rng", "masks drawn from the generator given", "掩码从给定的生成器采样", "155-158", dropout_rng),
    ],
    "clipping": [
        _t("slide_87", "slide 87: the step is limited to max_norm, direction kept",
            "第87页：步长限制在 max_norm 内，方向不变",
           "87", clip_slide),
        _t("random", "hidden random gradients against fcnet.optim.clip_grad_norm",
           "隐藏的随机梯度，对照 fcnet.optim.clip_grad_norm", "87", clip_random),
        _t("small", "gradients below max_norm are left alone", "小于 max_norm 的梯度保持不变", "87", clip_small),
    ],
}
