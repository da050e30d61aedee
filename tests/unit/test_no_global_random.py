"""fcnet draws every random number from a generator it was handed: no process-global random state.

A lab or benchmark that reseeds a global generator changes what every later caller draws (and depends
on what ran before it); the rule is ``rng = np.random.default_rng(seed)`` passed down.
"""

from __future__ import annotations

import ast
from pathlib import Path

import fcnet

SRC = Path(fcnet.__file__).resolve().parent

# numpy.random names that build a generator of one's own rather than draw from or reseed the global one
# (RandomState(seed) too: a legacy generator of one's own, which replays scikit-learn's draws in fcnet.data.registry)
NUMPY_OWN = {"default_rng", "Generator", "SeedSequence", "BitGenerator", "PCG64", "PCG64DXSM", "Philox", "SFC64",
             "MT19937", "RandomState"}


def _dotted(node: ast.AST) -> str:
    """``np.random.seed`` for the expression np.random.seed; "" for anything that is not a dotted name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return ""
    return ".".join([node.id, *reversed(parts)])


def global_random_uses(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) of each use of a process-global random generator in ``tree``.

    Flagged: any ``np.random.<f>`` / ``numpy.random.<f>`` but the generator constructors, ``from numpy.random
    import <f>`` of the same, a call of ``manual_seed`` on fcnet, its backend or a bare name, and
    ``torch.manual_seed`` outside a ``with torch.random.fork_rng(...)`` block (which restores torch's state).
    """
    found: list[tuple[int, str]] = []
    forked: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.With) and any("fork_rng" in _dotted(i.context_expr.func) for i in node.items
                                              if isinstance(i.context_expr, ast.Call)):
            forked |= {id(n) for n in ast.walk(node)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute):
            name = _dotted(node)
            head, _, last = name.rpartition(".")
            if head in ("np.random", "numpy.random") and last not in NUMPY_OWN:
                found.append((node.lineno, name))
        elif isinstance(node, ast.ImportFrom) and node.module == "numpy.random":
            found += [(node.lineno, f"from numpy.random import {a.name}") for a in node.names
                      if a.name not in NUMPY_OWN]
        elif isinstance(node, ast.Call):
            name = _dotted(node.func)
            if name in ("manual_seed", "fcnet.manual_seed", "backend.manual_seed", "fcnet.backend.manual_seed"):
                found.append((node.lineno, name))
            elif name == "torch.manual_seed" and id(node) not in forked:
                found.append((node.lineno, name))
    return sorted(found)


def test_the_scan_flags_each_kind_of_global_use():
    src = ("import numpy as np\nimport fcnet\nimport torch\nfrom numpy.random import rand, default_rng\n"
           "np.random.seed(0)\nx = np.random.normal(size=3)\nfcnet.manual_seed(1)\ntorch.manual_seed(2)\n"
           "with torch.random.fork_rng(devices=[]):\n    torch.manual_seed(3)\n"
           "g = np.random.default_rng(4)\ny = g.normal()\nt = torch.Generator().manual_seed(5)\n")
    assert [w for _, w in global_random_uses(ast.parse(src))] == [
        "from numpy.random import rand", "np.random.seed", "np.random.normal", "fcnet.manual_seed",
        "torch.manual_seed"]


def test_no_source_file_uses_a_global_random_generator():
    uses = [f"{p.relative_to(SRC)}:{line}: {what}" for p in sorted(SRC.rglob("*.py"))
            for line, what in global_random_uses(ast.parse(p.read_text(encoding="utf-8")))]
    assert not uses, "draw from a generator passed down (np.random.default_rng(seed)):\n" + "\n".join(uses)
