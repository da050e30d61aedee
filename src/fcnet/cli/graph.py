"""``fcnet graph``: draw a computation graph with forward values and gradients (slides 65-79)."""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path
from typing import Any

import numpy as np

from fcnet.errors import ConfigError

EXAMPLES = {
    "square-sum": ("f = (x + y)²  (slide 67)", "(x + y) ** 2", {"x": 1.0, "y": 2.0}),
    "sigmoid-neuron": ("f = σ(w0·x0 + w1·x1 + w2)  (slides 74-77)",
                       "1 / (1 + exp(-(w0 * x0 + w1 * x1 + w2)))",
                       {"w0": 2.0, "x0": -1.0, "w1": -3.0, "x1": -2.0, "w2": -3.0}),
}
FUNCS = ("exp", "log", "sigmoid", "tanh", "relu", "maximum")


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="draw a computation graph with values and gradients",
                       description="Draw one of the lecture's graphs (square-sum, sigmoid-neuron) or "
                                   "an expression of scalars given with --expr and --var.")
    p.add_argument("example", nargs="?", choices=sorted(EXAMPLES), default="sigmoid-neuron")
    p.add_argument("--expr", help="an expression such as '(x + y) ** 2' (functions: " + ", ".join(FUNCS) + ")")
    p.add_argument("--var", action="append", default=[], metavar="NAME=VALUE", help="a variable's value")
    p.add_argument("--format", choices=("dot", "svg", "png"), help="output format (default: from --out, else dot)")
    p.add_argument("--out", help="output file (default: standard output for dot)")
    p.set_defaults(func=run)


def _parse_vars(items: list[str]) -> dict[str, float]:
    out = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip().isidentifier():
            raise ConfigError(f"--var takes NAME=VALUE, got {item!r}")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ConfigError(f"--var {name}: {value!r} is not a number") from None
    return out


def _cut(text: str) -> str:
    return text if len(text) <= 60 else text[:50] + "..."


def evaluate_expression(expr: str, values: dict[str, float]) -> Any:
    """Build the graph of an arithmetic expression of named scalars (no Python eval)."""
    import fcnet

    tensors = {k: fcnet.tensor(np.float64(v), requires_grad=True) for k, v in values.items()}
    for k, t in tensors.items():
        t.name = k
    ops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
           ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.BinOp) and type(node.op) in ops:
            return ops[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = walk(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in tensors:
                raise ConfigError(f"variable {node.id!r} has no value: add --var {node.id}=VALUE")
            return tensors[node.id]
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCS:
            return getattr(fcnet, node.func.id)(*[walk(a) for a in node.args])
        raise ConfigError(f"unsupported syntax in expression: {ast.unparse(node)!r} (use + - * / **, "
                         f"numbers, variables and {', '.join(FUNCS)})")

    try:
        tree = ast.parse(expr, mode="eval")
    except SyntaxError as exc:
        raise ConfigError(f"cannot parse expression {expr!r}: {exc.msg}") from None
    try:
        out = walk(tree)
    except OverflowError:  # 10**400 as a constant, or 2.0 ** 10000 folded in Python floats
        raise ConfigError(f"the expression {_cut(expr)!r} holds a number beyond the float64 range (about "
                          "1.8e308): use smaller constants") from None
    if not hasattr(out, "backward"):
        raise ConfigError("the expression must involve at least one variable")
    out.name = "f"
    return out


def run(args: argparse.Namespace) -> int:
    from fcnet.graph import render, to_dot

    if args.expr:
        title, expr, values = args.expr, args.expr, {}
    else:
        title, expr, values = EXAMPLES[args.example]
    values = {**values, **_parse_vars(args.var)}
    f = evaluate_expression(expr, values)
    dot = to_dot(f, title=title)
    fmt = args.format or (Path(args.out).suffix.lstrip(".") if args.out else "dot")
    if args.out:
        out = Path(args.out)
        if out.is_dir():
            raise ConfigError(f"--out {out} is a directory: give a file name such as {out / 'graph.svg'}")
        if not out.parent.is_dir():
            raise ConfigError(f"--out {out}: the directory {out.parent} does not exist; create it first")
        if fmt not in ("dot", "svg", "png", "pdf"):
            raise ConfigError(f"--out {out}: cannot tell the format from {out.suffix or 'no suffix'!r}; "
                              "use a .dot, .svg, .png or .pdf file name, or --format")
    if fmt == "dot":
        if args.out:
            from fcnet.train.io import atomic_write

            atomic_write(args.out, dot.encode())
        else:
            sys.stdout.write(dot)
        return 0
    if not args.out:
        raise ConfigError(f"--format {fmt} needs --out FILE.{fmt}")
    path = render(dot, Path(args.out).with_suffix(f".{fmt}"))
    print(f"wrote {path}")
    return 0
