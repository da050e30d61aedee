"""`fcnet lab --notebook(s)`: every lab's notebook executes and shows the lab's own tables.

The notebooks of this module run one after another in one kernel (started once: a kernel's start and
its first imports cost more than most notebooks).  Each notebook sets every parameter its lab reads and
chooses its language itself, so what one leaves behind does not change the next one's tables.
"""

from __future__ import annotations

import json
import subprocess

import pytest

from fcnet.lab import LABS
from tests.conftest import fcnet_cmd

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

# small parameters, so that every notebook runs in seconds (the notebook exposes them all the same)
SMALL = {
    "templates": {"EPOCHS": 3, "HIDDEN": 8},
    "boundaries": {"WIDTHS": [0, 6], "EPOCHS": 20},
    "gradients": {"DEPTH": 3, "RACE": {"depth": 2, "lr": 0.1, "epochs": 1, "seeds": (0,)}, "EXPLODE_EPOCHS": 1},
    "optimizers": {"DIGITS_EPOCHS": 1, "TUNE_STEPS": 200},  # the ε tuning (7 rates × 3 rules) was most of its time
    "init": {"WIDTH": 50, "SAMPLES": 200},
    "batchnorm": {"EPOCHS": 1},
    "overfit": {"EPOCHS": 6, "BIG": [16, 16], "N_VAL": 100, "PATIENCE": 2},
    "lr": {"EPOCHS": 1},
    "search": {"FINE_EPOCHS": 1},
}


def _lab_result(name, out, monkeypatch):
    """The lab's result in English, seed 0, with the small parameters set on its module."""
    import importlib

    from fcnet.cli.lab import run_lab
    from fcnet.lab.common import set_lang

    module = importlib.import_module(LABS[name])
    for k, v in SMALL.get(name, {}).items():
        assert hasattr(module, k), (name, k)
        monkeypatch.setattr(module, k, v)
    set_lang("en")
    return run_lab(name, out, 0, False)


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """One Python kernel for every notebook of this module."""
    from jupyter_client.manager import KernelManager

    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=str(tmp_path_factory.mktemp("kernel")))
    yield km
    km.shutdown_kernel(now=True)


def _execute(nb, km):
    client = nbclient.NotebookClient(nb, timeout=300, km=km)
    try:
        client.execute()
    finally:
        if client.kc is not None:
            client.kc.stop_channels()
    return nb


def _stdout(nb, tag):
    (cell,) = [c for c in nb.cells if tag in c.metadata.get("tags", [])]
    return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream"
                   and o.get("name") == "stdout")


@pytest.mark.slow
@pytest.mark.parametrize("name", list(LABS))
def test_every_notebook_executes_and_shows_the_labs_tables(name, tmp_path, monkeypatch, kernel):
    from fcnet.lab.notebook import build_notebook, lab_parameters
    from fcnet.lab.report import format_table

    res = _lab_result(name, tmp_path / "inproc", monkeypatch)
    nb = build_notebook(name, res, 0, False, "en", out=str(tmp_path / "out"), overrides=SMALL.get(name))
    params = nb.cells[1].source
    import importlib
    for k in lab_parameters(importlib.import_module(LABS[name])):
        assert f"\n{k} = " in params  # every knob is exposed in the parameters cell
    assert nb.cells[0].cell_type == "markdown" and res.claim in nb.cells[0].source
    assert all(f"$$ {f} $$" in nb.cells[0].source for f in res.formulas)
    _execute(nb, kernel)
    shown = _stdout(nb, "tables")
    assert res.claim in shown
    for t in res.tables:
        assert format_table(t) in shown, t.caption
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.get("output_type") == "error"]
    assert not errors
    stderr = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.outputs
                     if o.get("name") == "stderr")
    assert "Warning" not in stderr, stderr
    if res.figures:
        (fig_cell,) = [c for c in nb.cells if "figures" in c.metadata.get("tags", [])]
        assert sum(1 for o in fig_cell.outputs if "image/png" in o.get("data", {})) == len(res.figures)


def test_notebook_parameters_change_the_run(tmp_path, kernel):
    """A student edits a parameter and reruns: the lab reads it."""
    from fcnet.cli.lab import run_lab
    from fcnet.lab.common import set_lang
    from fcnet.lab.notebook import build_notebook

    set_lang("en")
    res = run_lab("naming", tmp_path, 0, False)
    nb = build_notebook("naming", res, 0, False, "en", out=str(tmp_path / "out"))
    nb.cells[1].source = nb.cells[1].source.replace("CASES = ([], [100], [100, 50], [100, 50, 20])",
                                                    "CASES = ([7, 7, 7, 7],)")
    _execute(nb, kernel)
    shown = _stdout(nb, "tables")
    assert "5-layer network, 4 hidden layers" in shown and "3-layer network" not in shown


def test_cli_writes_notebooks_in_chinese(tmp_path):
    res = subprocess.run([*fcnet_cmd(), "lab", "naming", "--lang", "zh", "--out", "o", "--notebooks", "nb"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    nb = json.loads((tmp_path / "nb" / "naming.ipynb").read_text(encoding="utf-8"))
    nbformat.validate(nbformat.from_dict(nb))
    text = "".join(nb["cells"][0]["source"])
    assert "全连接神经网络绘制与命名" in text and "第" in text and "$$" in text
    assert "lang = 'zh'" in "".join(nb["cells"][1]["source"])


def test_cli_notebook_flag_writes_into_out_and_rejects_a_file(tmp_path):
    res = subprocess.run([*fcnet_cmd(), "lab", "collapse", "--out", "o", "--notebook"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "o" / "collapse.ipynb").is_file()
    (tmp_path / "f").write_text("x")
    res = subprocess.run([*fcnet_cmd(), "lab", "collapse", "--out", "o", "--notebooks", "f"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 2 and len(res.stderr.strip().splitlines()) == 1 and "--notebooks" in res.stderr


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_notebook_shows_the_short_summary_first_and_the_full_claim_below(lang, tmp_path):
    """As the report: the ≤ 60-word summary with its conditions is read first, the full claim is folded below."""
    from fcnet.cli.lab import run_lab
    from fcnet.lab.common import set_lang
    from fcnet.lab.notebook import build_notebook
    from fcnet.lab.report import CLAIM_WORDS, _words, shown_claim

    set_lang(lang)
    try:
        res = run_lab("gates", tmp_path, 0, False)
        nb = build_notebook("gates", res, 0, False, lang, out=str(tmp_path / "out"))
    finally:
        set_lang("en")
    assert res.summary and _words(res.summary) <= CLAIM_WORDS
    text = nb.cells[0].source
    head, rest = shown_claim(res)
    assert rest == res.claim.strip()
    assert text.index(head) < text.index("<details>") < text.index(rest) < text.index("</details>")
    assert text.index(head) < text.index("$$")
