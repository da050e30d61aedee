"""The training labs (lr, overfit, optimizers, gradients): each slide's claim asserted on the computed numbers."""

from __future__ import annotations

import math
from itertools import pairwise

import numpy as np
import pytest
from PIL import Image

import fcnet
from fcnet.cli.lab import run_lab
from fcnet.lab import lr as lr_lab
from fcnet.lab import overfit as overfit_lab
from fcnet.lab.common import image_data, set_lang


def result(name, labs):
    """The lab's result in English, seed 0: the run test_lab_figures watches (tests/lab/labruns.py)."""
    return labs(name).result


def _figures_ok(res):
    from fcnet.viz.plots import FONT_PT
    from fcnet.viz.style import DPI, MIN_FONT_PX

    assert res.figures
    for p in res.figures:
        assert FONT_PT[str(p)] * DPI / 72 >= MIN_FONT_PX, (p, FONT_PT[str(p)])
        img = Image.open(p)
        assert img.width <= 1600 and img.height <= 1200, (p, img.size)
        a = np.asarray(img.convert("L"), dtype=float)
        assert a.std() > 5, p  # not blank


# --- lr (slides 164-169) ---------------------------------------------------------------------

def test_lr_far_too_high_diverges(english_labs):
    n = result("lr", english_labs).numbers
    assert n["diverged"] == {"far too high": True, "high": False, "too low": False, "right": False}
    assert isinstance(n["diverged_step"]["far too high"], int)
    assert n["final"]["far too high"] == math.inf


def test_lr_high_drops_fast_then_plateaus_above_right(english_labs):
    n = result("lr", english_labs).numbers
    assert n["first"]["high"] < n["first"]["right"]  # faster at first
    assert n["final"]["high"] > n["final"]["right"]  # but ends above
    assert n["best"]["high"] > n["final"]["right"]  # even its lowest point never reaches the right rate's end


def test_lr_too_low_is_slow_and_right_is_best(english_labs):
    n = result("lr", english_labs).numbers
    finite = {k: v for k, v in n["final"].items() if math.isfinite(v)}
    assert n["final"]["too low"] > n["final"]["high"] > n["final"]["right"]
    assert n["first"]["too low"] > 2 * n["first"]["right"]
    assert min(finite, key=finite.get) == "right"


def test_lr_slide_164_hyperparameters_in_both_languages():
    rows = lr_lab.hyperparameter_table().rows
    assert [r[2] for r in rows] == ["--hidden", "--hidden", "--activation", "--lr", "--dropout", "--l2"]
    set_lang("zh")
    try:
        zh = lr_lab.hyperparameter_table()
    finally:
        set_lang("en")
    assert zh.caption.startswith("第164页") and [r[1] for r in zh.rows][3] == "学习率"


def test_lr_four_statements_are_slides_166_to_169(english_labs):
    assert result("lr", english_labs).claim.startswith("Slides 166-169:")


def test_lr_slide_166_overflow_needs_eps_above_inverse_lambda_and_nonconvergence_does_not(english_labs):
    res = result("lr", english_labs)
    n = res.numbers
    assert n["inverse_lambda"] == 1 / lr_lab.LAMBDA
    assert n["rates"]["far too high"] > n["inverse_lambda"] and n["diverged"]["far too high"]
    below = n["below_inverse_lambda"]
    assert below["lr"] < n["inverse_lambda"] and not below["diverged"]  # no overflow below 1/λ ...
    assert below["final"] > below["first"] > n["final"]["right"]  # ... and still no convergence
    assert f"ε > 1/λ = {n['inverse_lambda']:g}" in res.claim
    assert any(r[1] == below["lr"] and r[-1] == "no" for r in res.tables[1].rows)


@pytest.mark.parametrize(("name", "condition"), [
    ("lr", "only when ε > 1/λ = 100"), ("gradients", "holds only at a shared SGD ε"),
    ("gradients", "with a stand-in"), ("optimizers", "from the drawn starts, not from nearer ones"),
    ("optimizers", "at equal ε"), ("optimizers", "a flat point (1-D saddle)"), ("overfit", "a test set held out")])
def test_training_labs_visible_claim_is_short_and_carries_its_conditions(english_labs, name, condition):
    from fcnet.lab.report import CLAIM_WORDS, _words, shown_claim
    r = result(name, english_labs)
    head, rest = shown_claim(r)
    assert r.summary and head == r.summary and rest == r.claim.strip()
    assert _words(head) <= CLAIM_WORDS and condition in head


def test_lr_figure(english_labs):
    _figures_ok(result("lr", english_labs))


# --- optimizers (slides 91-123) --------------------------------------------------------------

def test_valley_sgd_zigzags_and_momentum_damps_it(english_labs):
    n = result("optimizers", english_labs).numbers
    v, names = n["valley"], n["valley_names"]
    sgd, mom = v[names["sgd"]], v[names["momentum"]]
    assert sgd["sign_changes"] >= 3 * mom["sign_changes"]
    assert mom["path_y"] < sgd["path_y"]
    assert mom["steps"] < sgd["steps"]


def test_valley_where_sgd_zigzags_momentum_at_the_same_step_damps_it(english_labs):
    res = result("optimizers", english_labs)
    v, names = res.numbers["valley"], res.numbers["valley_names"]
    sgd, mom = v[names["sgd_big"]], v[names["momentum_big"]]
    assert sgd["sign_changes"] >= 3 * mom["sign_changes"]
    assert mom["path_y"] < sgd["path_y"] and mom["steps"] < sgd["steps"]
    # the figure's pair: late in the run momentum's largest |y| is below SGD's smallest
    assert max(mom["abs_y"][60:]) < min(sgd["abs_y"][60:])
    assert sgd["abs_y"][100] == pytest.approx(abs(1 - 25 * 0.079) ** 100, rel=1e-6)
    # at ε = 0.07 SGD's |y| shrinks faster than momentum's: the claim says so instead of the opposite
    assert v[names["sgd"]]["abs_y"][40] < v[names["momentum"]]["abs_y"][40]
    assert "Slide 102: with momentum 'the oscillating directions cancel" in res.claim
    assert "Slide 101" not in res.claim


def test_local_minimum_panel_shows_the_dip():
    from fcnet.lab import optimizers as opt_lab
    lo, hi = opt_lab.LOCAL_YLIM
    f = [opt_lab.local_min(fcnet.tensor(np.array([x]))).item() for x in (-2.0, -0.3, 0.3)]
    assert all(lo < y < hi for y in f)
    assert hi - lo < 3  # the dip at x = 0.3 (depth about 0.07) stays visible


def test_valley_bigger_step_does_not_help(english_labs):
    n = result("optimizers", english_labs).numbers
    v, names = n["valley"], n["valley_names"]
    assert v[names["sgd_big"]]["steps"] > v[names["sgd"]]["steps"]
    assert v[names["sgd_big"]]["path_y"] > v[names["sgd"]]["path_y"]
    assert v[names["sgd_diverge"]]["diverged"] and not v[names["sgd"]]["diverged"]


def test_momentum_mu_zero_is_sgd(english_labs):
    m = result("optimizers", english_labs).numbers["mu_zero"]
    assert m["lecture_mu0_vs_sgd"] == 0.0 and m["pytorch_mu0_vs_sgd"] == 0.0
    assert m["lecture_vs_pytorch_scaled"] < 1e-12
    assert m["lecture_vs_pytorch_same_eps"] > 1.0  # the two forms differ at equal ε


def test_flat_point_and_local_minimum(english_labs):
    n = result("optimizers", english_labs).numbers
    assert n["flat_steps"]["sgd"] is None
    assert n["flat_steps"]["momentum"] is not None and n["flat_steps"]["adam"] is not None
    assert n["local_steps"]["sgd"] is None and n["local_final"]["sgd"] == pytest.approx(0.3, abs=1e-3)
    assert n["local_steps"]["momentum"] is not None and n["local_final"]["momentum"] == pytest.approx(-2, abs=1e-3)


def test_slides_104_106_the_flat_point_is_named_as_the_slides_saddle_in_both_languages(english_labs, chinese_labs):
    # slides 104-106 say 鞍点 (saddle point); the 1-D curve draws it as a flat point, f' = 0 without a minimum
    assert "the saddle point stands as a 1-D flat point here" in result("optimizers", english_labs).claim
    zh = chinese_labs("optimizers").result  # as `fcnet lab optimizers --lang zh` (the run test_lab_figures watches)
    assert "鞍点画成一维曲线上的平坦点" in zh.claim and "鞍点 (一维平坦点)" in zh.summary


def test_slides_104_106_momentum_stalls_from_nearer_starts(english_labs):
    """The condition of slides 104-106: momentum passes only where it arrives with speed."""
    st = result("optimizers", english_labs).numbers["stall_steps"]
    assert st["flat_stall"]["momentum"] is None and st["flat_stall"]["sgd"] is None
    assert st["flat_stall"]["adam"] is not None  # Adam's step ≈ ε does not need speed to cross a flat point
    assert st["local_stall"]["momentum"] is None and st["local_stall"]["sgd"] is None


def test_slides_108_110_adagrad_smaller_step_in_steep_direction(english_labs):
    r = result("optimizers", english_labs).numbers["rmsprop_rates"]
    assert r["adagrad"][0] > 2.0 * r["adagrad"][1]  # flat x gets the larger step per unit gradient


def test_slides_108_111_adagrad_flat_step_is_smaller_than_sgds_at_the_same_eps_and_faster_tuned(english_labs):
    from fcnet.lab.optimizers import TUNE_EPS
    res = result("optimizers", english_labs)
    n = res.numbers
    r = n["rmsprop_rates"]
    assert n["adagrad_flat_vs_sgd"] == r["adagrad"][0] / r["sgd"][0] < 0.2  # smaller at the same ε, and stated
    assert f"flat step is {n['adagrad_flat_vs_sgd']:.2g} × SGD's" in res.claim
    tuned, best = n["tuned_steps"], n["tuned_best_eps"]
    assert set(tuned["sgd"]) == set(TUNE_EPS) and len(TUNE_EPS) >= 5
    assert tuned["adagrad"][best["sgd"]] is None  # at SGD's best ε AdaGrad does not get there
    assert n["tuned_best_steps"]["adagrad"] < n["tuned_best_steps"]["sgd"]  # each at its own ε, AdaGrad is faster
    for k, e in best.items():
        assert tuned[k][e] == min(v for v in tuned[k].values() if v is not None)
    # which δ placement is whose: the lecture's Adam (inside), torch's Adagrad (outside)
    cap = next(t.caption for t in res.tables if t.caption.startswith("Slides 108-111: step per unit"))
    assert "standard" not in cap and "as the lecture writes Adam (slide 117)" in cap and "torch.optim.Adagrad" in cap


def test_slide_114_rho_zero_uses_only_the_current_gradient(english_labs):
    rho = result("optimizers", english_labs).numbers["rho"]
    assert rho[0.0]["max_dev_from_current_only"] < 1e-9
    assert rho[0.0]["x"] == pytest.approx(1.0, abs=1e-3) and rho[0.0]["y"] == pytest.approx(1.0, abs=1e-3)
    assert rho[0.999]["max_dev_from_current_only"] > 1.0  # with memory the past gradients set the step
    assert rho[0.999]["x"] > 2 * rho[0.999]["y"]


def test_slide_numbers_are_the_lectures_page_markers(english_labs):
    from fcnet.lab.optimizers import FORMULAS
    opt = result("optimizers", english_labs)
    rho = next(t for t in opt.tables if "ρ ∈ [0, 1)" in t.caption)
    assert rho.caption.startswith("Slide 114:") and "Slide 114: with ρ = 0" in opt.claim  # "ρ = 0 时仅考虑当前梯度"
    heads = [f.split(":")[0] for f in FORMULAS]
    assert heads[0].endswith("(99-103)") and heads[1].endswith("(99-103)")  # the two algorithms side by side
    assert heads[3].endswith("(112-114)")  # RMSProp's pseudocode
    over = result("overfit", english_labs)
    l1 = next(t for t in over.tables if "name L1" in t.caption)
    assert l1.caption.startswith("Slides 151, 154 name L1") and "named on slides 151, 154" in over.claim
    assert any(f.startswith(r"\text{L2 (152-153):}") for f in over.formulas)  # L2's formula and its comment


def test_optimizers_formulas_render_as_mathml(english_labs):
    from fcnet.lab.report import mathml
    res = result("optimizers", english_labs)
    assert any("AdaGrad" in f for f in res.formulas) and any(r"\tilde r" in f for f in res.formulas)
    for f in res.formulas:
        assert "<math" in mathml(f) and "merror" not in mathml(f)


def test_rmsprop_smaller_step_in_steep_direction(english_labs):
    r = result("optimizers", english_labs).numbers["rmsprop_rates"]
    assert r["sgd"][0] == pytest.approx(r["sgd"][1])
    assert r["rmsprop"][0] > 1.5 * r["rmsprop"][1]


def test_adam_bias_correction_removes_cold_start(english_labs):
    c = result("optimizers", english_labs).numbers["cold_start"]
    assert max(abs(s - 1.0) for s in c["adam"][:10]) < 0.01
    assert max(c["adam (no correction)"][:20]) > 3.0
    assert c["rmsprop"][0] == pytest.approx(1 / math.sqrt(1 - 0.999), rel=1e-3)


def test_digits_sgd_and_lecture_momentum_end_close(english_labs):
    n = result("optimizers", english_labs).numbers
    assert n["digits_sgd_momentum_gap"] < 0.05
    assert all(math.isfinite(v) for v in n["digits_final"].values())


def test_digits_step_sizes_are_measured_and_the_caption_states_them(english_labs):
    res = result("optimizers", english_labs)
    st = res.numbers["digits_step_over_eps"]
    rms = next(k for k in st["first"] if k.startswith("rmsprop"))
    adam = next(k for k in st["first"] if k.startswith("adam"))
    # RMSProp without bias correction starts far above ε (1/√(1 − ρ) ≈ 31.6 on a steady gradient); Adam does not
    assert st["first"][rms] > 10 > 1.05 > st["first"][adam] > 0.1
    assert st["last_epoch"][adam] < 1 and st["last_epoch"][rms] < st["first"][rms] / 10
    caption = res.tables[-1].caption
    assert "about ε per weight" not in caption.replace("Neither takes 'about ε per weight'", "")
    assert f"{st['first'][rms]:.3g}ε on step 1" in caption and f"{st['last_epoch'][adam]:.2g}ε" in caption


def test_optimizers_figures(english_labs):
    _figures_ok(result("optimizers", english_labs))


# --- gradients (slides 82-88) ----------------------------------------------------------------

def test_sigmoid_vanishes(english_labs):
    n = result("gradients", english_labs).numbers
    assert n["ratios"]["sigmoid, Xavier"] < 1e-3
    assert n["mean_local_gradient"]["sigmoid, Xavier"] <= 0.25


def test_tanh_vanishes_off_centre_not_with_xavier(english_labs):
    n = result("gradients", english_labs).numbers
    off = next(k for k in n["ratios"] if k.startswith("tanh, off-centre"))
    assert n["ratios"][off] < 1e-2
    assert n["ratios"]["tanh, Xavier"] > 0.3 and n["mean_local_gradient"]["tanh, Xavier"] > 0.7
    assert n["mean_local_gradient"][off] < n["mean_local_gradient"]["tanh, Xavier"]


def test_relu_and_leaky_relu(english_labs):
    n = result("gradients", english_labs).numbers
    relu = "ReLU, He"
    leaky = [k for k in n["ratios"] if k.startswith("Leaky ReLU")]
    assert len(leaky) == 2
    assert n["ratios"][relu] > 100 * n["ratios"]["sigmoid, Xavier"] and n["ratios"][relu] > 0.1
    assert n["zero_local_gradient"][relu] > 0.3
    assert all(n["zero_local_gradient"][k] == 0.0 for k in leaky)


def test_exploding_grows_layer_by_layer_and_overflows(english_labs):
    n = result("gradients", english_labs).numbers
    s = n["explode_act_std"]
    assert all(b > 1.5 * a for a, b in pairwise(s)) and all(map(math.isfinite, s))
    assert max(n["he_act_std"]) / min(n["he_act_std"]) < 2
    assert n["unclipped_blew"] is not None
    losses = n["unclipped_losses"]
    assert len(losses) >= 3 and all(map(math.isfinite, losses)) and losses[2] > 100 * losses[0]


def test_clipping_makes_it_train(english_labs):
    n = result("gradients", english_labs).numbers
    assert n["clipped_blew"] is None
    assert n["clipped_final_loss"] < 0.1 * n["clipped_first_loss"]
    assert n["clipped_final_loss"] < 1.0


def test_clipping_is_slide_87_and_legend_hides_no_curve(english_labs):
    res = result("gradients", english_labs)
    assert res.numbers["clipping_slide"] == "Slide 87"
    assert "88" not in res.tables[2].caption and "slide 88" not in res.claim.lower()
    assert res.numbers["points_under_legend"] == 0


def test_slides_87_88_relu_and_leaky_relu_win_the_training_race_on_every_seed(english_labs):
    from fcnet.lab import gradients as g
    last = result("gradients", english_labs).numbers["race_last_epoch"]
    assert set(last) == {"sigmoid", "tanh", "relu", "leaky_relu"}
    for fast in ("relu", "leaky_relu"):
        for slow in ("sigmoid", "tanh"):
            assert all(f < s for f, s in zip(last[fast], last[slow], strict=True)), (fast, slow)
    assert min(last["sigmoid"]) > 2.0  # hardly below ln 10 ≈ 2.30 after the same budget
    assert len(last["relu"]) == len(g.RACE["seeds"]) >= 3


def test_slide_88_holds_only_at_a_shared_small_lr_and_fails_when_each_activation_is_tuned(english_labs):
    from fcnet.lab import gradients as g
    n = result("gradients", english_labs).numbers
    sweep = n["race_sweep"]
    assert set(sweep) == {"sigmoid", "tanh", "relu", "leaky_relu"} and len(g.RACE_LRS) >= 4
    holds = n["race_holds_at"]
    assert g.RACE["lr"] in holds  # the shared-ε race of the figure is one where the slide holds
    for lr in holds:  # there: every seed of ReLU and Leaky ReLU below every seed of tanh and sigmoid
        for fast in ("relu", "leaky_relu"):
            assert all(f < s for f, s in zip(sweep[fast][lr], sweep["tanh"][lr], strict=True))
    assert len(holds) < len(g.RACE_LRS)  # ... and at some shared ε it does not
    best = n["race_best_loss"]
    for a, lr in n["race_best_lr"].items():
        assert best[a] == min(float(np.mean(v)) for v in sweep[a].values()) == float(np.mean(sweep[a][lr]))
    # the stated failure: tuned per activation, tanh ends below ReLU and Leaky ReLU
    assert n["race_tuned_winner"] == "tanh" and best["tanh"] < min(best["relu"], best["leaky_relu"])
    assert "the slide fails" in result("gradients", english_labs).claim
    assert min(best["sigmoid"], *sweep["sigmoid"][g.RACE["lr"]]) > 2.0  # sigmoid hardly moves at any ε


def test_slide_87_explosion_is_labelled_as_a_stand_in_for_the_cliff(english_labs):
    res = result("gradients", english_labs)
    init_table = next(t for t in res.tables if "at initialisation, std of each hidden layer" in t.caption)
    assert init_table.caption.startswith("Slide 87, a stand-in:") and "cliff" in init_table.caption
    assert "Slide 87 (a stand-in:" in res.claim


def test_gradients_figure(english_labs):
    _figures_ok(result("gradients", english_labs))


# --- overfit (slides 142-162) ----------------------------------------------------------------

def test_slides_144_145_underfit_claim_names_the_l2_strength_the_lab_used(tmp_path, monkeypatch):
    """The too-strong λ is a parameter (a notebook may change it): the claim states the one used."""
    for k, v in {"STRONG_L2": 0.25, "EPOCHS": 6, "BIG": [16, 16], "N_VAL": 100, "PATIENCE": 2}.items():
        monkeypatch.setattr(overfit_lab, k, v)
    set_lang("en")
    r = run_lab("overfit", tmp_path, 0, False)
    assert "(L2 λ = 0.25) underfits" in r.claim and "λ = 0.3" not in r.claim


def test_validation_is_carved_from_training_set():
    d = overfit_lab.carve(0)
    ds = image_data("digits", seed=0)
    train_rows = {r.tobytes() for r in ds.xs_train}
    test_rows = {r.tobytes() for r in ds.xs_test}
    val_rows = {r.tobytes() for r in d["x_val"]}
    assert val_rows <= train_rows and not val_rows & test_rows
    assert not val_rows & {r.tobytes() for r in d["x_pool"]}


def test_slide_146_validation_error_turns_up(english_labs):
    none = result("overfit", english_labs).numbers["none"]
    ve, te = none["curve_val_err"], none["curve_train_err"]
    best = int(np.argmin(ve))
    assert best < len(ve) - 10
    assert ve[-1] > ve[best] + 0.02
    assert te[-1] < te[best]  # training error keeps falling


def test_early_stopping_stops_at_the_minimum_with_a_smaller_gap(english_labs):
    n = result("overfit", english_labs).numbers
    assert n["early"]["stopped_at"] == n["best_val_err_epoch"]
    assert n["early"]["epochs"] < n["none"]["epochs"]
    assert n["early"]["gap"] < n["none"]["gap"]


def test_test_set_is_held_out_and_reported_beside_validation(english_labs):
    d = overfit_lab.carve(0)
    ds = image_data("digits", seed=0)
    test_rows = {r.tobytes() for r in d["x_test"]}
    assert test_rows == {r.tobytes() for r in ds.xs_test}
    assert not test_rows & ({r.tobytes() for r in d["x_val"]} | {r.tobytes() for r in d["x_pool"]})
    res = result("overfit", english_labs)
    for k in ("none", "l2", "dropout", "early", "l1"):
        r = res.numbers[k]
        assert 0.0 <= r["test_err"] <= 1.0 and r["test_gap"] == pytest.approx(r["test_err"] - r["train_err"])
    reg = next(t for t in res.tables if t.caption.startswith("Slides 146-162"))
    assert any("test error" in h for h in reg.headers) and any("validation error" in h for h in reg.headers)


def test_regularisers_shrink_the_gap_on_the_held_out_test_set_too(english_labs):
    n = result("overfit", english_labs).numbers
    for k in ("l2", "dropout", "early", "l1"):
        assert n[k]["test_gap"] < n["none"]["test_gap"], k


def test_l1_shrinks_the_gap_and_switches_weights_off(english_labs):
    n = result("overfit", english_labs).numbers
    assert n["l1"]["gap"] < n["none"]["gap"]
    assert n["l1"]["spread"]["near_zero"] > 5 * n["l2"]["spread"]["near_zero"]
    assert n["l1"]["spread"]["near_zero"] > 10 * n["none"]["spread"]["near_zero"]


def test_slide_160_explanation_1_fewer_weights_per_update(english_labs):
    part = result("overfit", english_labs).numbers["participating"]
    assert part[1]["ratio"] == pytest.approx((1 - overfit_lab.DROPOUT) ** 2, abs=0.05)
    assert part[1]["dropout"] < part[1]["none"]
    assert part[32]["dropout"] < part[32]["none"] and part[32]["ratio"] > part[1]["ratio"]


def test_l2_and_dropout_reduce_the_gap(english_labs):
    n = result("overfit", english_labs).numbers
    assert n["l2"]["gap"] < n["none"]["gap"]
    assert n["dropout"]["gap"] < n["none"]["gap"]


def test_underfitting_high_train_and_validation_error(english_labs):
    n = result("overfit", english_labs).numbers
    for r in (n["under_l2"], n["models"]["4"]):
        assert r["train_err"] > 0.3 and r["val_err"] > 0.3
    assert n["none"]["train_err"] < 0.05


def test_more_data_and_smaller_models_shrink_the_gap(english_labs):
    n = result("overfit", english_labs).numbers
    gaps = [n["sizes"][k]["gap"] for k in sorted(n["sizes"])]
    assert gaps[0] > gaps[1] > gaps[2]
    assert n["models"]["4"]["gap"] < n["models"]["32"]["gap"] < n["models"]["256-256"]["gap"]


def test_l2_and_dropout_spread_the_weights(english_labs):
    n = result("overfit", english_labs).numbers
    assert n["l2"]["spread"]["max_abs"] < n["none"]["spread"]["max_abs"]
    toy = n["spread_toy"]
    assert toy["none"] == pytest.approx([1.0, 0.0, 0.0, 0.0], abs=1e-9)
    for k in ("l2", "dropout"):
        w = np.abs(toy[k])
        assert w.max() / w.sum() < 0.35
    # "随机失活鼓励权重分散" is printed on slide 162 (161 shows only "解释2：")
    claim = result("overfit", english_labs).claim
    assert "dropout (162: 'encourages spread-out" in claim and "161-162" not in claim


def test_slide_158_dropout_forms_have_equal_expectations(english_labs):
    d = result("overfit", english_labs).numbers["dropout_example"]
    x = np.array([0.2, 0.5, 1.3, 0.8, 1.1])
    assert d["slide_train_example"] == [0.0, 0.5, 1.3, 0.0, 1.1]
    np.testing.assert_allclose(d["standard_test"], 0.6 * x)
    np.testing.assert_allclose(d["standard_train_mean"], d["standard_test"], atol=0.01)
    np.testing.assert_allclose(d["fcnet_train_example"], [0.0, 0.5 / 0.6, 1.3 / 0.6, 0.0, 1.1 / 0.6])
    np.testing.assert_allclose(d["fcnet_train_mean"], x, atol=0.01)
    np.testing.assert_allclose(d["fcnet_test"], x)


def test_slide_158_only_x_and_the_dropped_vector_are_the_slides(english_labs):
    res = result("overfit", english_labs)
    table = next(t for t in res.tables if t.caption.startswith("Slide 158"))
    slide_cols = [h for h in table.headers if h.lower().startswith("slide")]
    assert slide_cols == ["slide: x", "slide: dropped (mask 01101)"]
    assert all("(1 − p)" not in h and "E[" not in h for h in slide_cols)
    assert "chosen by the lab" in table.caption
    assert any(h.startswith("standard (non-inverted) dropout") for h in table.headers)
    assert any(h.startswith("fcnet (inverted dropout)") for h in table.headers)


def test_plotted_training_error_is_the_tables(english_labs):
    n = result("overfit", english_labs).numbers
    for k in ("none", "l2", "dropout"):
        r = n[k]
        assert r["curve_train_err"][-1] == r["train_err"]
        assert r["val_err"] - r["curve_train_err"][-1] == pytest.approx(r["gap"])
    early = n["early"]
    assert early["curve_train_err"][early["stopped_at"] - 1] == early["train_err"]
    # with dropout on, the error seen while training is higher than the one measured (the old, wrong curve)
    assert n["dropout"]["curve_train_err_while_training"][-1] > n["dropout"]["curve_train_err"][-1]


def test_every_spread_measure_on_the_net_agrees_with_the_claim(english_labs):
    res = result("overfit", english_labs)
    table = next(t for t in res.tables if "largest weight" in t.caption)
    none, l2 = table.rows[0], table.rows[1]
    assert all(b < a for a, b in zip(none[1:], l2[1:], strict=True))  # L2 lowers every measure shown
    assert "spread" not in res.claim.split("On the net")[1].split(";")[0]


def test_early_stopping_is_marked_as_fcnets_addition(english_labs):
    res = result("overfit", english_labs)
    assert "early stopping" not in res.claim.split("Slides 149-153:")[1].split(";")[0]
    assert "not in the lecture" in res.claim and "slide 146" in res.claim
    assert any("fcnet's addition" in row[0] for row in res.tables[1].rows if "early" in row[0])


def test_lecture_term_for_mini_batch_gradient_descent():
    from pathlib import Path

    from fcnet.lab import gradients, optimizers
    for mod in (gradients, lr_lab, optimizers, overfit_lab):
        assert "随机梯度下降" not in Path(mod.__file__).read_text(encoding="utf-8"), mod.__name__


def test_overfit_figure(english_labs):
    _figures_ok(result("overfit", english_labs))


def test_same_seed_same_numbers(english_labs, tmp_path):
    again = run_lab("lr", tmp_path, 0, False).numbers
    assert again["final"] == result("lr", english_labs).numbers["final"]


@pytest.mark.parametrize("name, must", [("lr", r"\lambda"), ("overfit", "|W_{k,l}|"), ("gradients", r"\tfrac14"),
                                        ("optimizers", r"\tilde v")])
def test_update_rules_losses_and_bounds_are_shown_as_mathml(english_labs, name, must):
    from fcnet.lab.report import mathml
    res = result(name, english_labs)
    assert any(must in f for f in res.formulas), res.formulas
    for f in res.formulas:
        m = mathml(f)
        assert m.startswith("<math") and "merror" not in m, f
