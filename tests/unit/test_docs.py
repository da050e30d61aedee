"""The documentation's code runs: every ```python block of the quickstart and the README.

A ``# prints: TEXT`` line gives the output of the ``print`` above it: the block's printed lines
must be exactly those (numbers within 0.005, for float results that vary in the last digit
between BLAS builds), and every ``print`` has one (in the quickstart too: a newcomer compares them).
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
        assert len(expected) == len(re.findall(r"^print\(", code, re.M)), f"{doc}: a print without # prints:\n{code}"
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


FENCE = re.compile(r"```(\w*)\n(.*?)```", re.S)
KERAS_OR_SKLEARN = re.compile(r"fcnet\.sklearn|FCNet(Classifier|Regressor)|Trainer\(|\.fit\(|load_model|save_model")


@pytest.mark.parametrize("doc", ["docs/quickstart.md", "README.md"])
def test_every_sklearn_and_keras_snippet_is_an_executed_block_with_its_output(doc):
    """Python code about the estimators or the Keras-style loop is in ```python blocks (the ones run
    above), and each of them shows what it prints."""
    text = (ROOT / doc).read_text()
    snippets = [(lang, code) for lang, code in FENCE.findall(text) if KERAS_OR_SKLEARN.search(code)
                and lang not in ("sh", "bash", "toml", "text")]
    assert snippets, doc
    for lang, code in snippets:
        assert lang == "python", f"{doc}: a ```{lang} block is not run by the tests:\n{code}"
        assert "# prints: " in code, f"{doc}: no expected output in\n{code}"


SHELL = re.compile(r"```(?:sh|bash)\n(.*?)```", re.S)


def test_files_the_readme_commands_read_are_in_the_repository():
    """A newcomer runs the README's commands in a fresh clone: the images given to ``fcnet predict`` and
    every ``examples/`` file named are there."""
    text = (ROOT / "README.md").read_text()
    named = set()
    for block in SHELL.findall(text):
        for line in block.splitlines():
            words = line.split("#", 1)[0].split()
            named |= {w for w in words if w.startswith("examples/")}
            if words[:2] == ["fcnet", "predict"]:
                named |= {w for w in words[3:] if not w.startswith("-")}
    assert any(w.endswith((".png", ".jpg")) for w in named), named
    missing = sorted(w for w in named if not (ROOT / w).is_file())
    assert not missing, f"README commands read files a clone does not have: {missing}"
