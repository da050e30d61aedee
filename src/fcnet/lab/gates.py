"""Slides 65-79: computation graphs; how add, mul, copy and max gates pass gradients back."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import fcnet
from fcnet import graph
from fcnet.i18n import TERMS_ZH, term
from fcnet.lab.common import slide_title, tr
from fcnet.lab.report import LabResult, Table

SLIDES = "65-79"
# slides 68, 77 and 78 draw their numbers in the graph pictures (the lecture's text has none): the "slide"
# columns are read from those pictures; slide 77 shows two decimals, fcnet's columns the computed values in full
SLIDE_77_F = "0.73"
SLIDE_77_GRADS = {"w0": "-0.20", "x0": "0.39", "w1": "-0.39", "x1": "-0.59", "w2": "0.20"}
SLIDE_68 = {"f": "9", "df/dx": "6", "df/dy": "6"}


def _scalar(v: float, name: str) -> fcnet.Tensor:
    t = fcnet.tensor(np.float64(v), requires_grad=True)
    t.name = name
    return t


GRAPH_WORDS_ZH = {w: TERMS_ZH[w] for w in ("value", "grad", "add", "sub", "mul", "div", "neg", "pow", "exp", "sigmoid")}
MAX_HEIGHT_IN = 10.9  # 1200 px at 110 dpi


def _draw(f: fcnet.Tensor, title: str, path: Path) -> Path | None:
    """Render top to bottom with each node's name | value | grad on one line, at most 1200 px tall.

    Drawn left to right the sigmoid neuron is 3000+ px wide; top to bottom with stacked fields 2000+ px tall.
    """
    dot = graph.to_dot(f, title=title.replace('"', "'"), labels=GRAPH_WORDS_ZH if tr("en", "zh") == "zh" else None)
    dot = dot.replace('label="{', 'label="').replace('}"];', '"];')  # record fields side by side in TB
    dot = dot.replace("rankdir=LR;", f'rankdir=TB; dpi=110; size="14,{MAX_HEIGHT_IN}"; ranksep=0.22; nodesep=0.25;')
    try:
        return graph.render(dot, path)
    except graph.GraphvizMissing:
        return None


def sigmoid_gate(z: float) -> tuple[float, float]:
    """Slide 78's coarse gate: σ(z) and its local gradient dσ/dz = (1 − σ(z))σ(z), by fcnet's backward."""
    t = fcnet.tensor(np.float64(z), requires_grad=True)
    s = t.sigmoid()
    s.backward()
    return s.item(), float(t.grad)


# slides 69-70: each gate's local gradient (lecture's formulas) and the gate's input in the worked example,
# where w·x + w2 = 1: the ×(−1) gate sees 1, exp sees −1, +1 sees e⁻¹, 1/x sees 1 + e⁻¹
LOCAL_GATES = [
    ("exp", "f(x) = eˣ → df/dx = eˣ", -1.0, lambda t: t.exp(), lambda v: float(np.exp(v))),
    ("×a (a = −1)", "f_a(x) = ax → df/dx = a", 1.0, lambda t: t * -1.0, lambda v: -1.0),
    ("1/x", "f(x) = 1/x → df/dx = −1/x²", 1.0 + float(np.exp(-1.0)), lambda t: 1 / t, lambda v: -1.0 / v ** 2),
    ("+c (c = 1)", "f_c(x) = c + x → df/dx = 1", float(np.exp(-1.0)), lambda t: t + 1.0, lambda v: 1.0),
]


def local_gradients(h: float = 1e-6) -> list[dict[str, float | str]]:
    """Slides 69-70: each gate's local gradient by fcnet's backward, by the slide's formula and by
    a central difference (f(x + h) − f(x − h)) / 2h.
    """
    rows = []
    for name, rule, v, fn, formula in LOCAL_GATES:
        t = fcnet.tensor(np.float64(v), requires_grad=True)
        fn(t).backward()

        def val(u: float, fn=fn) -> float:
            return fn(fcnet.tensor(np.float64(u))).item()

        rows.append({"gate": name, "rule": rule, "x": v, "backward": float(t.grad), "formula": formula(v),
                     "finite_difference": (val(v + h) - val(v - h)) / (2 * h)})
    return rows


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Both worked graphs with values and gradients, slide 78's sigmoid gate, and each gate's rule."""
    figs = []
    x, y = _scalar(1.0, "x"), _scalar(2.0, "y")
    f1 = (x + y) ** 2
    f1.name = "f"
    figs.append(_draw(f1, slide_title("67-68", "f = (x + y)², values and gradients",
                                      "f = (x + y)² 的计算图：前向值与反向梯度"), out / "graph_square_sum.png"))
    w0, x0, w1, x1, w2 = (_scalar(v, n) for v, n in [(2, "w0"), (-1, "x0"), (-3, "w1"), (-2, "x1"), (-3, "w2")])
    f2 = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    f2.name = "f"
    figs.append(_draw(f2, slide_title("70-77", "f = 1/(1 + exp(-(w0 x0 + w1 x1 + w2))), gate by gate",
                                      "反向传播示例2：逐个门单元计算"), out / "graph_sigmoid_neuron.png"))
    f1.backward()  # drawing leaves .grad alone: the tables' gradients come from here
    f2.backward()
    leaves = (w0, x0, w1, x1, w2)
    # slide 78: one coarse sigmoid gate replaces neg, exp, +1 and 1/x; same number reaches w·x
    z = float(w0.item() * x0.item() + w1.item() * x1.item() + w2.item())
    sig, local = sigmoid_gate(z)
    slide_rows = [["f = (x+y)², x=1, y=2 (68)", "f", SLIDE_68["f"], f"{f1.item():.4f}"],
                  ["", "df/dx", SLIDE_68["df/dx"], f"{float(x.grad):.4f}"],
                  ["", "df/dy", SLIDE_68["df/dy"], f"{float(y.grad):.4f}"],
                  ["σ(w0x0 + w1x1 + w2) (77)", "f", SLIDE_77_F, f"{f2.item():.4f}"]]
    slide_rows += [["", f"df/d{t.name}", SLIDE_77_GRADS[t.name], f"{float(t.grad):.4f}"] for t in leaves]
    slide_rows += [[tr("coarse sigmoid gate (78)", "粗颗粒 sigmoid 门 (78)"), "σ(1)", "0.73", f"{sig:.4f}"],
                   ["", "σ(1)(1 − σ(1))", "0.20", f"{local:.4f}"]]
    a, b = _scalar(3.0, "a"), _scalar(-4.0, "b")
    up = np.float64(2.0)
    rows = []
    for gate, fn, rule in [("add", lambda: a + b, tr("distributes: both get g", "加法门：梯度分发，两者都得 g")),
                           ("mul", lambda: a * b, tr("swaps: a gets g·b, b gets g·a", "乘法门：互换，a 得 g·b")),
                           ("max", lambda: fcnet.maximum(a, b), tr("routes: the larger gets g", "max门：路由给较大者")),
                           ("copy", lambda: a * 1.0 + a * 1.0, tr("sums: a gets g + g", "拷贝门：梯度相加"))]:
        a.grad = b.grad = None
        fn().backward(up)
        da = float(a.grad) if a.grad is not None else 0.0
        db: float | str = float(b.grad) if b.grad is not None else 0.0
        if gate == "copy":
            db = tr("— (b not used)", "—（b 未参与）")
        rows.append([gate, rule, da, db])
    claim = tr("Slides 69-70: the local gradients eˣ → eˣ, ax → a, 1/x → −1/x², c + x → 1 are what fcnet's "
               "backward computes (to a central difference's precision). "
               "Slides 69 and 79: each gate multiplies the gradient coming back by its local gradient (chain rule); "
               "the add gate distributes, the mul gate swaps, the max gate routes, the copy gate sums. "
               "Slide 78: a coarse sigmoid gate gives the same gradient as the fine graph, with "
               "dσ/dx = (1 − σ(x))σ(x).",
               "第69-70页：局部梯度 eˣ → eˣ、ax → a、1/x → −1/x²、c + x → 1 与 fcnet 反向传播的结果一致"
               "（在中心差分的精度内）。"
               "第69、79页：利用链式法则，门单元将回传的梯度乘以它对输入的局部梯度；加法门分发梯度，乘法门互换，"
               "max门路由，拷贝门相加。第78页：计算图的颗粒度——sigmoid 作为一个门，局部梯度为 (1 − σ(x))σ(x)，"
               "与细颗粒计算图的结果相同。")
    local_rows = local_gradients()
    t_local = Table(tr("slides 69-70: each gate's local gradient at its input in the worked example: fcnet's "
                       "backward, the slide's formula, a central difference",
                       "第69-70页：各门单元在示例中其输入处的局部梯度：fcnet 反向传播、幻灯片公式、中心差分"),
                    [tr("gate", "门"), tr("slide's rule", "幻灯片规则"), tr("input x", "输入 x"),
                     tr("backward", "反向传播"), tr("formula", "公式"), tr("finite difference", "有限差分")],
                    [[r["gate"], r["rule"], r["x"], r["backward"], r["formula"], r["finite_difference"]]
                     for r in local_rows])
    t_slide = Table(tr("slides 68, 77, 78: the slide's numbers (read from the slide pictures; the lecture's "
                       "text prints none) beside fcnet's. Slides 70-73 write the last term w2, slides 74-78 w2x2; "
                       "the pictures' numbers are those of w2 alone (x2 = 1), as here",
                       "第68、77、78页：幻灯片数值（读自幻灯片中的图，讲义文本中没有）与 fcnet 计算值。"
                       "第70-73页最后一项写作 w2，第74-78页写作 w2x2；图中数值对应单独的 w2（即 x2 = 1），与此处相同"),
                    [tr("graph", "计算图"), tr("quantity", "量"), tr("slide (picture)", "幻灯片（图）"), "fcnet"],
                    slide_rows)
    summary = tr(
        "fcnet's backward computes the slides' local gradients (eˣ, a, −1/x², 1; slides 69-70). Each gate multiplies "
        "the incoming gradient by its local one: add distributes, mul swaps, max routes, copy sums (69, 79). A "
        "coarse sigmoid gate gives the fine graph's gradient, σ(1 − σ) (78).",
        "fcnet 的反向传播算出幻灯片的局部梯度 (eˣ、a、−1/x²、1; 第69-70页)。"
        "每个门把回传梯度乘以其局部梯度: 加法门分发, 乘法门交换, max 门路由, 复制门相加 (第69、79页)。"
        "粗粒度的 sigmoid 门与细粒度计算图梯度相同, σ(1 − σ) (第78页)。")
    return LabResult("gates", SLIDES, tr("Computation graphs and gates", "计算图与反向传播"), claim,
                     [t_slide, t_local,
                      Table(tr("slide 79: gate rules with upstream g = 2 at a = 3, b = -4",
                               "第79页：门单元规则，回传梯度 g = 2，a = 3，b = -4"),
                            [tr("gate", "门"), tr("rule", "规则"), "da", "db"],
                            [[term(r[0]), *r[1:]] for r in rows])],
                     [p for p in figs if p is not None],
                     {"square_sum_grads": [float(x.grad), float(y.grad)], "neuron_value": f2.item(),
                      "neuron_grads": [float(t.grad) for t in leaves], "gate_rows": rows,
                      "coarse_sigmoid_local": local, "fine_grad_into_z": float(w2.grad),
                      "local_gradients": local_rows},
                     summary=summary, formulas=[r"f(w,x)=\frac{1}{1+e^{-(w_0x_0+w_1x_1+w_2)}}",
                               r"f(x)=e^x\rightarrow\frac{df}{dx}=e^x\qquad f_a(x)=ax\rightarrow\frac{df}{dx}=a"
                               r"\qquad f(x)=\frac{1}{x}\rightarrow\frac{df}{dx}=-\frac{1}{x^2}"
                               r"\qquad f_c(x)=c+x\rightarrow\frac{df}{dx}=1",
                               r"\frac{d\sigma(x)}{dx}=\frac{e^{-x}}{(1+e^{-x})^2}=(1-\sigma(x))\,\sigma(x)"])
