"""The grading toolkit: tests, comparisons that name a mistake's symptom, gradcheck on student gates.

A test is a function ``fn(student_module, rng)`` that returns normally when it passes and raises
:class:`Fail` (a symptom key and a bilingual message) when it does not.  :func:`close` compares an
answer with fcnet's and, when they differ, looks for the typical mistakes that produce exactly the
answer given: the wrong sign, a transpose, a factor N (the forgotten 1/N), or the alternatives a
test passes in (σ′ taken at the output, bias correction one step off, ...).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fcnet.i18n import get_lang, set_lang, tr

__all__ = ["Alt", "Fail", "Test", "close", "get_lang", "set_lang", "short", "student_gradcheck", "tr"]


class Fail(Exception):
    """A failed test: ``symptom`` is a short key (``sign``, ``transpose``, ...), ``message`` says it in words."""

    def __init__(self, symptom: str, message: str, expected: str = "", got: str = "") -> None:
        super().__init__(message)
        self.symptom, self.message, self.expected, self.got = symptom, message, expected, got


@dataclass(frozen=True)
class Test:
    """One graded test: ``id``, its title in both languages, the slides to reread, and ``fn(module, rng)``."""

    id: str
    en: str
    zh: str
    slides: str
    fn: Callable[[Any, np.random.Generator], None]

    @property
    def title(self) -> str:
        return tr(self.en, self.zh)


@dataclass(frozen=True)
class Alt:
    """A known wrong answer: if the student's equals ``value``, the test fails naming ``symptom``."""

    symptom: str
    value: Any
    en: str
    zh: str


def short(a: Any, limit: int = 110) -> str:
    """A one-line, shortened repr of a value for the report."""
    if a is None:  # np.asarray(None, float) is nan: say what the function really returned
        return "None"
    try:
        if np.asarray(a).dtype == object:  # e.g. None inside: shown as written, not as nan
            raise TypeError
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        text = " ".join(repr(a).split())
    else:
        if arr.ndim == 0:
            text = f"{float(arr):.6g}"
        else:
            text = np.array2string(arr, precision=4, threshold=8, edgeitems=2, max_line_width=10_000)
            text = " ".join(text.split())
            text = f"{text} (shape {arr.shape})" if arr.size > 1 else text
    return text if len(text) <= limit else text[: limit - 1] + "…"


GENERIC = {
    "sign": ("the sign is wrong: you return −(the right answer)", "符号错误：结果恰好是正确答案的相反数"),
    "transpose": ("a forgotten transpose: you return the transpose of the right answer",
                  "忘记转置：结果恰好是正确答案的转置"),
    "missing_1_over_n": ("missing 1/N: the answer is N = {n} times too large (average over the batch)",
                         "缺少 1/N：结果恰好大了 N = {n} 倍（应对批量取平均）"),
    "extra_1_over_n": ("an extra 1/N: the answer is N = {n} times too small (this one is a sum, not a mean)",
                       "多除了 N：结果恰好小了 N = {n} 倍（这里应求和而不是取平均）"),
    "scale": ("off by a constant factor {r:.4g}", "相差一个常数因子 {r:.4g}"),
    "values": ("wrong values: largest error {err:.3g}", "数值错误：最大误差 {err:.3g}"),
    "nan": ("NaN or inf in the answer: an overflow? (e.g. subtract the max before exp)",
            "结果中含有 NaN 或 inf：是否溢出？（例如取指数前先减去最大值）"),
    "shape": ("wrong shape: expected {want}, got {got}", "形状错误：应为 {want}，实际为 {got}"),
    "type": ("not an array of numbers: got {got}", "返回的不是数值数组：实际为 {got}"),
}


def _generic(key: str, **kw: Any) -> str:
    en, zh = GENERIC[key]
    return tr(en, zh).format(**kw)


def _allclose(a: np.ndarray, b: Any, rtol: float, atol: float) -> bool:
    try:
        b = np.asarray(b, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    if a.shape != b.shape or not np.isfinite(b).all():
        return False
    return bool(np.allclose(a, b, rtol=rtol, atol=atol))


def close(name: str, got: Any, want: Any, *, rtol: float = 1e-6, atol: float = 1e-9, n: int | None = None,
          alts: Sequence[Alt] = ()) -> None:
    """Pass if ``got`` ≈ ``want``; else raise :class:`Fail` naming the mistake that gives ``got``.

    ``n`` is the batch size where a factor N (forgotten or extra 1/N) is a typical mistake.
    """
    want = np.asarray(want, dtype=np.float64)
    exp_s = short(want)
    try:
        g = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        raise Fail("type", f"{name}: " + _generic("type", got=short(got)), exp_s, short(got)) from None
    got_s = short(g)
    if g.shape != want.shape:
        if g.size == want.size == 1:
            g = g.reshape(want.shape)
        elif g.ndim == 2 and g.shape == want.shape[::-1] and _allclose(g.T, want, rtol, atol):
            raise Fail("transpose", f"{name}: " + _generic("transpose") +
                       tr(f" (shape {g.shape}, expected {want.shape})", f"（形状 {g.shape}，应为 {want.shape}）"),
                       exp_s, got_s)
        else:
            raise Fail("shape", f"{name}: " + _generic("shape", want=want.shape, got=g.shape), exp_s, got_s)
    if _allclose(g, want, rtol, atol) or (np.array_equal(g, want, equal_nan=True) and g.dtype.kind == "f"):
        return
    for alt in alts:
        if _allclose(g, alt.value, rtol, atol):
            raise Fail(alt.symptom, f"{name}: {tr(alt.en, alt.zh)}", exp_s, got_s)
    if not np.isfinite(g).all():
        raise Fail("nan", f"{name}: " + _generic("nan"), exp_s, got_s)
    if np.abs(want).max(initial=0.0) > atol and _allclose(g, -want, rtol, atol):
        raise Fail("sign", f"{name}: " + _generic("sign"), exp_s, got_s)
    if g.ndim == 2 and g.shape[0] == g.shape[1] and not _allclose(want, want.T, rtol, atol) and _allclose(
            g, want.T, rtol, atol):
        raise Fail("transpose", f"{name}: " + _generic("transpose"), exp_s, got_s)
    big = np.abs(want) > max(atol, 1e-12)
    if big.any() and np.all((np.abs(g) > 0) == big):
        ratios = g[big] / want[big]
        r = float(np.median(ratios))
        if r != 0 and math.isfinite(r) and np.allclose(ratios, r, rtol=1e-6) and abs(r - 1) > 1e-6:
            if n is not None and n > 1 and math.isclose(r, n, rel_tol=1e-6):
                raise Fail("missing_1_over_n", f"{name}: " + _generic("missing_1_over_n", n=n), exp_s, got_s)
            if n is not None and n > 1 and math.isclose(r, 1 / n, rel_tol=1e-6):
                raise Fail("extra_1_over_n", f"{name}: " + _generic("extra_1_over_n", n=n), exp_s, got_s)
            if math.isclose(r, -1.0, rel_tol=1e-6):
                raise Fail("sign", f"{name}: " + _generic("sign"), exp_s, got_s)
            raise Fail("scale", f"{name}: " + _generic("scale", r=r), exp_s, got_s)
    err = float(np.max(np.abs(g - want)))
    raise Fail("values", f"{name}: " + _generic("values", err=err), exp_s, got_s)


def check(cond: bool, symptom: str, en: str, zh: str, expected: str = "", got: str = "") -> None:
    """Raise :class:`Fail` unless ``cond``."""
    if not cond:
        raise Fail(symptom, tr(en, zh), expected, got)


def _untouched(name: str, which: str, fn: Callable[..., Any], args: Sequence[Any]) -> Any:
    """``fn(*args)`` on copies; :class:`Fail` if it changed one of them in place (the engine keeps its inputs)."""
    copies = [np.array(a, copy=True) for a in args]
    out = fn(*copies)
    for i, (a, c) in enumerate(zip(args, copies, strict=True)):
        if not np.array_equal(np.asarray(a), c, equal_nan=True):
            raise Fail("inplace", tr(f"{name}: your {which} changed its argument {i + 1} in place (x -= …, x /= …): "
                                     "the engine keeps its inputs for backward; write x = x - … instead",
                                     f"{name}：你的{which}函数原地修改了第 {i + 1} 个参数（x -= …、x /= …）："
                                     "计算图要保留输入用于反向传播；请写成 x = x - …"), "", "")
    return out


def student_gradcheck(name: str, forward: Callable[..., Any], backward: Callable[..., Any],
                      inputs: Sequence[np.ndarray], tol: float = 1e-6) -> None:
    """fcnet.gradcheck on a gate made of the student's ``forward(*xs)`` and ``backward(g, *xs)``.

    The student's backward (returning one gradient per input, or one array for a single input)
    must agree with central differences of the student's own forward, in float64.
    """
    from fcnet.gradcheck import gradcheck
    from fcnet.tensor import Function

    class StudentGate(Function):
        def forward(self, *xs):
            self.xs = xs
            out = _untouched(name, "forward", forward, xs)
            kind = getattr(out, "dtype", None)
            if kind is not None and kind.kind == "f" and kind.itemsize < 8:
                # finite differences with h ≈ 1e-6 are lost in float32's 7 digits
                raise Fail("float32", tr(f"{name}: your forward returns {kind}: compute in float64 (no astype or "
                                         "np.float32), the grader checks with float64 finite differences",
                                         f"{name}：你的前向函数返回 {kind}：请用 float64 计算（不要 astype 或 "
                                         "np.float32），评分用 float64 有限差分检验"), "float64", str(kind))
            return np.asarray(out, dtype=np.float64)

        def backward(self, g):
            grads = _untouched(name, "backward", backward, (g, *self.xs))
            grads = grads if isinstance(grads, tuple | list) else (grads,)
            if len(grads) != len(self.xs):
                raise Fail("shape", tr(f"{name}: backward returned {len(grads)} gradients for {len(self.xs)} inputs",
                                       f"{name}：反向传播对 {len(self.xs)} 个输入返回了 {len(grads)} 个梯度"))
            out = []
            for x, gx in zip(self.xs, grads, strict=True):
                gx = np.asarray(gx, dtype=np.float64)
                if gx.shape != x.shape:
                    raise Fail("shape", tr(f"{name}: a gradient has shape {gx.shape}, its input {x.shape}",
                                           f"{name}：梯度形状为 {gx.shape}，对应输入形状为 {x.shape}"))
                out.append(gx)
            return tuple(out)

    report = gradcheck(lambda *ts: StudentGate.apply(*ts), [np.asarray(x, dtype=np.float64) for x in inputs],
                       tol=tol)
    if not report.ok:
        w = report.worst
        raise Fail("gradcheck", tr(
            f"{name}: your backward disagrees with finite differences of your forward "
            f"(input {w.get('input')} at {tuple(int(i) for i in w.get('index', ()))}: analytic "
            f"{w.get('analytic', float('nan')):.6g}, numeric {w.get('numeric', float('nan')):.6g})",
            f"{name}：反向传播与前向函数的有限差分不一致（输入 {w.get('input')}，位置 "
            f"{tuple(int(i) for i in w.get('index', ()))}：解析 {w.get('analytic', float('nan')):.6g}，"
            f"数值 {w.get('numeric', float('nan')):.6g}）"),
            tr(f"relative error ≤ {report.tolerance:.0e}", f"相对误差 ≤ {report.tolerance:.0e}"),
            f"{report.max_rel_error:.2e}")
