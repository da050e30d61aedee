"""Slides 65-79: computation graphs; how add, mul, copy and max gates pass gradients back."""

from __future__ import annotations

from pathlib import Path

import numpy as np

import fcnet
from fcnet import graph
from fcnet.lab.report import LabResult, Table

SLIDES = "65-79"


def _scalar(v: float, name: str) -> fcnet.Tensor:
    t = fcnet.tensor(np.float64(v), requires_grad=True)
    t.name = name
    return t


def _draw(f: fcnet.Tensor, title: str, path: Path) -> Path | None:
    dot = graph.to_dot(f, title=title)
    path.with_suffix(".dot").write_text(dot)
    try:
        return graph.render(dot, path)
    except graph.GraphvizMissing:
        return None


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Both worked graphs with values and gradients, and each gate's gradient rule."""
    figs = []
    x, y = _scalar(1.0, "x"), _scalar(2.0, "y")
    f1 = (x + y) ** 2
    f1.name = "f"
    figs.append(_draw(f1, "f = (x + y)²", out / "graph_square_sum.png"))
    f1.backward()  # drawing leaves .grad alone: the table's gradients come from here
    w0, x0, w1, x1, w2 = (_scalar(v, n) for v, n in [(2, "w0"), (-1, "x0"), (-3, "w1"), (-2, "x1"), (-3, "w2")])
    f2 = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    f2.name = "f"
    figs.append(_draw(f2, "f = σ(w0 x0 + w1 x1 + w2)", out / "graph_sigmoid_neuron.png"))
    f2.backward()
    # each gate's rule, with upstream gradient 2
    a, b = _scalar(3.0, "a"), _scalar(-4.0, "b")
    up = np.float64(2.0)
    rows = []
    for gate, fn, rule in [("add", lambda: a + b, "distributes: both get g"),
                           ("mul", lambda: a * b, "swaps: a gets g·b, b gets g·a"),
                           ("max", lambda: fcnet.maximum(a, b), "routes: the larger gets g"),
                           ("copy", lambda: a * 1.0 + a * 1.0, "sums: a gets g + g")]:
        a.grad = b.grad = None
        fn().backward(up)
        rows.append([gate, rule, float(a.grad) if a.grad is not None else 0.0,
                     float(b.grad) if b.grad is not None else 0.0])
    return LabResult("gates", SLIDES, "Computation graphs and gates",
                     "Backpropagation multiplies the upstream gradient by each gate's local gradient: the add "
                     "gate distributes, the mul gate swaps, the max gate routes, the copy gate sums.",
                     [Table("worked graphs", ["graph", "f", "gradients"],
                            [["(x+y)² at x=1, y=2", f1.item(), f"df/dx = {float(x.grad)}, df/dy = {float(y.grad)}"],
                             ["σ(w·x) slide 77", round(f2.item(), 2),
                              ", ".join(f"{t.name}={float(t.grad):.2f}" for t in (w0, x0, w1, x1, w2))]]),
                      Table("gate rules with upstream g = 2 at a = 3, b = -4", ["gate", "rule", "da", "db"], rows)],
                     [p for p in figs if p is not None],
                     {"square_sum_grads": [float(x.grad), float(y.grad)], "neuron_value": f2.item(),
                      "neuron_grads": [float(t.grad) for t in (w0, x0, w1, x1, w2)],
                      "gate_rows": rows})
