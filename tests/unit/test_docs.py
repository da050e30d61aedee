"""The documentation's code runs: every ```python block of the quickstart and the README.

A ``# prints: TEXT`` line gives the output of the ``print`` above it: the block's printed lines
must be exactly those (numbers within 0.005, for float results that vary in the last digit
between BLAS builds), and in the README every ``print`` has one.
"""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from tests.conftest import ROOT

BLOCK = re.compile(r"```python\n(.*?)```", re.S)


@pytest.mark.parametrize("doc", ["docs/quickstart.md", "README.md"])
def test_doc_blocks_run(doc):
    text = (ROOT / doc).read_text()
    blocks = BLOCK.findall(text)
    assert blocks, f"{doc} has no python block"
    for code in blocks:
        expected = [line.split("# prints: ", 1)[1] for line in code.splitlines() if line.startswith("# prints: ")]
        if doc == "README.md":
            assert len(expected) == len(re.findall(r"^print\(", code, re.M)), f"a print without # prints:\n{code}"
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, doc, "exec"), {"__name__": "__doc__"})
        if expected:
            got = out.getvalue().splitlines()
            assert len(got) == len(expected), (got, expected)
            for g, e in zip(got, expected, strict=True):
                assert _same(g, e), f"{doc}: printed {g!r}, the text says {e!r}"


NUM = re.compile(r"-?\d+\.\d+")


def _same(got: str, want: str) -> bool:
    """Equal lines, where decimals may differ by up to 0.005."""
    if NUM.sub("#", got) != NUM.sub("#", want):
        return False
    return all(abs(float(a) - float(b)) <= 0.005 for a, b in zip(NUM.findall(got), NUM.findall(want), strict=True))
