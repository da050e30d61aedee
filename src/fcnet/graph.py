"""Draw a computation graph (slides 65-79) as DOT, SVG or PNG.

Each value node shows its forward value and its gradient; each gate node its name.
Rendering to SVG/PNG uses Graphviz's ``dot`` program when it is installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np

from fcnet import backend
from fcnet.errors import FcnetError
from fcnet.tensor import Function, Tensor

__all__ = ["GraphvizMissing", "nodes", "render", "to_dot"]


class GraphvizMissing(FcnetError, RuntimeError):
    """Graphviz's ``dot`` program is not installed."""


def nodes(root: Tensor) -> list[Tensor]:
    """All tensors of the graph that produced ``root``, constants included, inputs first."""
    return root._topological_order(constants=True)


def _fmt(a: object) -> str:
    if a is None:
        return "—"
    arr = backend.to_numpy(a)
    if arr.size == 1:
        return f"{float(arr.reshape(())):.4g}"
    return np.array2string(arr, precision=3, separator=",", threshold=6)


def to_dot(root: Tensor, backward: bool = True, title: str | None = None,
           labels: dict[str, str] | None = None) -> str:
    """DOT text for the graph of ``root`` with values and gradients on every node.

    ``labels`` renames the words drawn ("value", "grad" and gate names such as "add", "mul"), e.g. to
    translate them; words it does not name stay as they are.

    With ``backward=True`` (default) and no gradient anywhere in the graph yet, computes
    d(root)/d(node) for every node by ``root.backward(retain_graph=True)`` and draws those; every
    ``.grad`` is then put back as it was (None), so drawing never changes a later backward.
    Draw before ``root.backward()`` (which frees the graph), or after
    ``root.backward(retain_graph=True)`` (then only leaves show gradients).
    """
    if root._ctx is not None and root.grad_fn is None:
        raise ValueError("the graph of this tensor was freed by backward(): call to_dot(t) before "
                         "t.backward(), or use t.backward(retain_graph=True)")
    graph = nodes(root)
    if backward and root.requires_grad and all(t.grad is None for t in graph):
        grads = _gradients(root, graph)
    else:
        grads = {id(t): t.grad for t in graph}
    names = {id(t): t.name or f"t{i}" for i, t in enumerate(graph)}
    word = (labels or {}).get
    lines = ["digraph fcnet {", '  rankdir=LR;', '  node [fontname="Helvetica", fontsize=11];']
    if title:
        lines.append(f'  labelloc="t"; label="{title}";')
    for t in graph:
        if not (t.requires_grad or t.name):
            continue  # unnamed constants are drawn inline beside their gate
        nid = f"v{id(t)}"
        label = (f"{names[id(t)]} | {word('value', 'value')} {_fmt(t.data)} | "
                 f"{word('grad', 'grad')} {_fmt(grads[id(t)])}")
        lines.append(f'  {nid} [shape=record, label="{{{label}}}"];')
        ctx = t._ctx
        if isinstance(ctx, Function):
            gid = f"g{id(t)}"
            op = ctx.name.lower()
            lines.append(f'  {gid} [shape=circle, label="{word(op, op)}", style=filled, '
                         'fillcolor="#e8f0fe"];')
            for p in ctx.parents:
                if p.requires_grad or p.name:
                    lines.append(f"  v{id(p)} -> {gid};")
                else:  # an unnamed constant: draw it inline
                    cid = f"c{id(p)}_{id(t)}"
                    lines.append(f'  {cid} [shape=plaintext, label="{_fmt(p.data)}"];')
                    lines.append(f"  {cid} -> {gid};")
            lines.append(f"  {gid} -> {nid};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _gradients(root: Tensor, graph: list[Tensor]) -> dict[int, object]:
    """d(root)/d(t) for every t of the graph, leaving each ``.grad`` and retain flag as it was."""
    saved = [(t, t.grad, t._retain) for t in graph]
    try:
        for t in graph:
            t.retain_grad()
        root.backward(retain_graph=True)
        return {id(t): t.grad for t in graph}
    finally:
        for t, grad, retain in saved:
            t.grad, t._retain = grad, retain


def render(dot: str, path: str | Path) -> Path:
    """Render DOT text to ``path`` (format from its suffix: .svg or .png) with Graphviz."""
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower()
    if fmt not in ("svg", "png", "pdf"):
        raise ValueError(f"cannot render to {path.name!r}: use a .svg, .png or .pdf file name")
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissing(
            "Graphviz's `dot` program is not installed, so graphs can only be written as DOT "
            "text; install it (Debian/Ubuntu: apt-get install graphviz) or use --format dot"
        )
    tmp = path.with_name(f".{path.name}.tmp")
    subprocess.run([exe, f"-T{fmt}", "-o", str(tmp)], input=dot.encode(), check=True)
    tmp.replace(path)
    return path
