"""`fcnet lab all`: every lab in one HTML report whose figures all exist and are not blank."""

from __future__ import annotations

import re
import shutil
import subprocess
import time

import numpy as np
from PIL import Image

from tests.conftest import fcnet_cmd


def test_lab_all_writes_report(tmp_path):
    t = time.time()
    res = subprocess.run([*fcnet_cmd(), "lab", "all", "--out", "lab"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=900)
    assert res.returncode == 0, res.stderr
    assert time.time() - t < 600
    page = (tmp_path / "lab" / "index.html").read_text()
    for slides in ["12-17", "36-39", "50-64", "65-79", "124-136", "170-178"]:
        assert f"slides {slides}" in page
    images = re.findall(r"<img src='([^']+)'", page)
    assert len(images) >= 11 + (2 if shutil.which("dot") else 0)  # the gates lab draws with Graphviz
    for rel in images:
        png = tmp_path / "lab" / rel
        with Image.open(png) as im:
            assert im.format == "PNG"
            a = np.asarray(im.convert("L"), dtype=float)
        assert a.std() > 5, rel
    assert "<table>" in page and "1.467e-48" in page


def test_lab_single_prints_table(tmp_path):
    res = subprocess.run([*fcnet_cmd(), "lab", "collapse", "--out", "o"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120)
    assert res.returncode == 0
    assert "no activations" in res.stdout and "W'x + b'" in res.stdout
