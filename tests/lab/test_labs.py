"""Each lab's claim, asserted on the numbers it computes (not on its text)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PIL import Image

from fcnet.cli.lab import run_lab


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("lab")


def _pngs_ok(res):
    for p in res.figures:
        a = np.asarray(Image.open(p).convert("L"), dtype=float)
        assert a.std() > 5, p


def test_templates(out):
    r = run_lab("templates", out, 0, False)
    assert r.numbers["two_layer_accuracy"] > 0.9 and r.numbers["linear_accuracy"] > 0.85
    assert r.numbers["templates_matching_class_mean"] >= 0.7
    _pngs_ok(r)


def test_boundaries(out):
    r = run_lab("boundaries", out, 0, False)
    assert r.numbers["xor_0"] < 0.70
    assert r.numbers["xor_20"] > 0.95
    assert r.numbers["circles_0"] < 0.70 and r.numbers["circles_20"] > 0.95
    _pngs_ok(r)


def test_collapse(out):
    r = run_lab("collapse", out, 0, False)
    assert r.numbers["max_difference"] < 1e-10
    assert r.numbers["max_difference_relu"] > 1e-2


def test_activations(out):
    r = run_lab("activations", out, 0, False)
    assert r.numbers["sigmoid_max_derivative"] == pytest.approx(0.25, abs=1e-6)
    assert r.numbers["sigmoid_max_derivative"] <= 0.25
    assert r.numbers["sigmoid_derivative_beyond_10"] < 5e-5
    _pngs_ok(r)


def test_losses_table_equals_slide(out):
    r = run_lab("losses", out, 0, False)
    ce = r.numbers["ce_log10"]
    assert round(ce[0], 4) == 0.0004 and round(ce[1], 4) == 0.2395
    assert ce[2] == pytest.approx(1.5e-48, rel=0.03)
    assert r.numbers["hinge"] == [0.0, 0.0, 0.0]
    assert r.numbers["identity_error"] < 1e-12
    assert r.numbers["bird_cross_entropy"] == pytest.approx(-math.log(0.21))
    assert r.numbers["softmax_recovers_q"] < 1e-12


def test_gates(out):
    r = run_lab("gates", out, 0, False)
    assert r.numbers["square_sum_grads"] == [6.0, 6.0]
    assert round(r.numbers["neuron_value"], 2) == 0.73
    assert [round(g, 2) for g in r.numbers["neuron_grads"]] == [-0.2, 0.39, -0.39, -0.59, 0.2]
    rows = {row[0]: row[2:] for row in r.numbers["gate_rows"]}
    assert rows["add"] == [2.0, 2.0] and rows["mul"] == [-8.0, 6.0]
    assert rows["max"] == [2.0, 0.0] and rows["copy"][0] == 4.0


def test_init(out):
    r = run_lab("init", out, 0, False)
    small = r.numbers["N(0, 0.01²), tanh (slide 128)"]
    for ours, slide in zip(small[:6], [0.214021, 0.047655, 0.010683, 0.002390, 0.000532, 0.000119], strict=True):
        assert ours == pytest.approx(slide, rel=0.10)
    assert all(abs(s - 0.98) < 0.01 for s in r.numbers["N(0, 1), tanh (slide 129-130)"])
    he = r.numbers["He N(0, 2/N), ReLU (slide 135)"]
    assert max(he) / min(he) < 2
    sym = r.numbers["symmetry"]
    assert sym["constant (zero-like)"] == 1 and sym["random (He)"] == 32
    _pngs_ok(r)


def test_batchnorm(out):
    r = run_lab("batchnorm", out, 0, False)
    without, with_bn = r.numbers["stds"]["without"], r.numbers["stds"]["with batch norm"]
    assert without[-1] < 0.05 and with_bn[-1] > 0.3
    assert r.numbers["single_vs_batch"] < 1e-5
    assert r.numbers["eval_accuracy"] > r.numbers["pair_batch_accuracy"]


def test_search(out):
    r = run_lab("search", out, 0, False)
    assert r.numbers["grid_distinct_lr"] == 3 and r.numbers["random_distinct_lr"] == 9
    lo, hi = r.numbers["fine_space"]["lr"]
    assert 1e-4 <= lo <= r.numbers["best_coarse"]["lr"] <= hi <= 1.0
    assert r.numbers["fine_best"] >= r.numbers["coarse_best"] - 0.02
    assert r.numbers["uniform_top_decade_share"] > 0.85
