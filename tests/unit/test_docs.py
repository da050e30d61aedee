"""The documentation's code runs: every ```python block of the quickstart and the README."""

from __future__ import annotations

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
        exec(compile(code, doc, "exec"), {"__name__": "__doc__"})
