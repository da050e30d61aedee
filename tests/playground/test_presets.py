"""Each lecture preset, run headless through ``Session`` (the engine behind the page), shows its slide's claim.

One test per preset, named after it; each fails if its claim were the other way round.
"""

from __future__ import annotations

import itertools
import re
import time

import numpy as np
import pytest

from fcnet.playground.presets import PRESETS
from fcnet.playground.session import Session
from fcnet.playground.setup import validate

P = {p["id"]: p for p in PRESETS}


def session(pid: str, **over) -> Session:
    return Session(validate({**P[pid]["setup"], **over}))


def accuracy(s: Session, x: np.ndarray, y: np.ndarray) -> float:
    return float((s._forward(x)[-1].argmax(axis=1) == y).mean())


def test_every_preset_is_a_valid_setup_with_both_languages():
    assert len(P) == len(PRESETS)
    for p in PRESETS:
        validate(p["setup"])
        assert p["claim"]["en"] and p["claim"]["zh"] and p["title"]["zh"]
        assert re.fullmatch(r"\d+(-\d+)?", p["slides"])


def test_slide_numbers():  # the lab report's numbers; the slides' own headings
    assert {k: p["slides"] for k, p in P.items()} == {
        "width-3": "46", "width-6": "46", "width-16": "46-47", "sigmoid-deep": "82-83", "init-small": "128",
        "init-large": "129", "init-xavier": "133", "lr-high": "166", "lr-low": "168"}


STEPS_WIDTH = 1500


@pytest.fixture(scope="module")
def widths() -> dict[str, dict]:
    out = {}
    for pid in ("width-3", "width-6", "width-16"):
        s = session(pid)
        f = s.advance(0.0, max_steps=STEPS_WIDTH)
        out[pid] = {"train_loss": f["train_loss"], "test_loss": f["test_loss"],
                    "train_acc": accuracy(s, s.x_train, s.y_train), "test_acc": f["test_accuracy"]}
    return out


def test_preset_width_3(widths):  # slide 46: 3 units fit the set worst
    assert widths["width-3"]["train_loss"] > 2 * widths["width-6"]["train_loss"]
    assert widths["width-3"]["train_acc"] < widths["width-6"]["train_acc"] - 0.1


def test_preset_width_6(widths):  # slide 46: more neurons, a better fit of this set
    assert widths["width-3"]["train_loss"] > widths["width-6"]["train_loss"] > widths["width-16"]["train_loss"]


def test_preset_width_16(widths):  # slide 47: the best training fit, and a train/test gap (overfitting)
    w = widths["width-16"]
    assert w["train_acc"] >= max(widths["width-3"]["train_acc"], widths["width-6"]["train_acc"])
    assert w["test_loss"] > 4 * w["train_loss"]
    assert w["train_acc"] - w["test_acc"] > 0.15
    assert w["test_loss"] > max(widths["width-3"]["test_loss"], widths["width-6"]["test_loss"])  # not the best
    assert P["width-16"]["setup"]["noise"] > 0


def test_preset_sigmoid_deep():  # slides 82-83: vanishing gradients, layer by layer
    assert P["sigmoid-deep"]["setup"]["hidden"] == [16] * 6
    assert "slide" not in P["sigmoid-deep"]["title"]["en"] + P["sigmoid-deep"]["cap"]["en"]  # 82-83 give no depth
    assert "幻灯片" not in P["sigmoid-deep"]["title"]["zh"] + P["sigmoid-deep"]["cap"]["zh"]
    g = session("sigmoid-deep").advance(0.0, max_steps=50)["grad_norms"]
    assert all(a < b for a, b in itertools.pairwise(g)) and g[0] < g[-1] / 100


@pytest.mark.parametrize("seed", [0, 1])
def test_preset_init_small(seed):  # slide 128, at step 0, then it does not train
    s = session("init-small", seed=seed)
    v = s.frame()["initial"]
    assert v["step"] == 0
    std = np.array(v["std"])
    assert std[0] > 1e-3 and (std[2:] < 1e-3).all()  # apart from the first two layers every activation is ~0
    assert std[1] < 0.1 * std[0]  # the cap: a factor σ·√N = 0.04 a layer, so already the second layer shrinks
    if seed == 0:
        trained = s.advance(0.0, max_steps=300)
        assert trained["train_loss"] > 0.95 * np.log(3)  # three classes: still a guess


def _moved(s: Session, steps: int) -> tuple[dict, list[float]]:
    """The frame after ``steps`` more steps and each layer's relative weight change ‖ΔW‖/‖W‖ over them."""
    before = [m.weight.data.copy() for m in s._linears()]
    f = s.advance(0.0, max_steps=steps)
    return f, [float(np.linalg.norm(m.weight.data - a) / np.linalg.norm(a))
               for m, a in zip(s._linears(), before, strict=True)]


@pytest.mark.parametrize("seed", [0, 1])
def test_preset_init_large(seed):  # slide 129: saturated at step 0; no gradient reaches the first layers
    s = session("init-large", seed=seed)
    v = s.frame()["initial"]
    assert v["step"] == 0 and min(v["saturated"][1:]) > 0.8  # almost all |a| > 0.99: 1 - a² < 0.02
    assert v["grad_norms"][0] > 10 * v["grad_norms"][-1]  # unlike the slide: at step 0 the gradient does reach them
    s.advance(0.0, max_steps=300)
    f, moved = _moved(s, 100)
    g = f["grad_norms"]
    assert g[0] < 1e-3 * g[-1] and g[1] < 1e-3 * g[-1]  # the gradient does not reach the first layers
    x = session("init-xavier", seed=seed, optimizer="sgd", lr=0.03)  # the same training, Xavier's weights
    x.advance(0.0, max_steps=300)
    xf, xmoved = _moved(x, 100)
    assert max(moved[:2]) < 0.1 * min(xmoved[:2])  # the first layers' parameters barely move
    assert f["train_loss"] > 3 * xf["train_loss"] and f["test_accuracy"] < 0.6


@pytest.mark.parametrize("seed", [0, 1])
def test_preset_init_xavier(seed):  # slide 133: the same order of spread in every layer at step 0
    v = session("init-xavier", seed=seed).frame()["initial"]
    std = np.array(v["std"])
    assert v["step"] == 0 and std.min() > std.max() / 3 and max(v["saturated"]) < 0.2
    small = np.array(session("init-small", seed=seed).initial["std"])
    large = session("init-large", seed=seed).initial["saturated"]
    assert std[-1] > 100 * small[-1] and max(v["saturated"]) < min(large[1:]) / 4


def test_init_view_stays_at_step_0_while_training():
    s = session("init-xavier")
    before = s.frame()["initial"]
    after = s.advance(0.0, max_steps=20)
    assert after["step"] == 20 and after["initial"] == before


def _curve(pid: str, seed: int, **over) -> list[float]:
    s = session(pid, seed=seed, **over)
    return [s.frame()["train_loss"]] + [s.advance(0.0, max_steps=50)["train_loss"] for _ in range(10)]


@pytest.mark.parametrize("seed", [0, 1])
def test_preset_lr_high(seed):  # slide 166: the loss jumps up and down above where it started; no convergence
    high = _curve("lr-high", seed)
    good = _curve("lr-high", seed, lr=0.1)
    start = high[0]
    assert good[-1] < 0.5 * start and all(a > b for a, b in itertools.pairwise(good[3:]))
    late = [v if v is not None else np.inf for v in high[1:]]
    assert np.mean(late) > start and min(late) > 2 * good[-1]  # above the start on average, never near good
    assert sum(v > start for v in late) >= 0.8 * len(late)  # and nearly always above it, not just on average
    ups = sum(b > a for a, b in itertools.pairwise(late))
    assert 2 <= ups <= len(late) - 3  # it goes up and down (oscillates), not one way


@pytest.mark.parametrize("seed", [0, 1])
def test_preset_lr_low(seed):  # slide 168: barely moves
    low = _curve("lr-low", seed)
    good = _curve("lr-low", seed, lr=0.1)
    assert low[-1] < low[0]  # it does descend, slowly:
    assert low[0] - low[-1] < 0.1 * (good[0] - good[-1])  # less than a tenth of the way ε = 0.1 went
    assert low[-1] > 2 * good[-1]


@pytest.mark.slow
def test_a_session_runs_300_steps_per_second():
    s = Session(validate({"dataset": "circles", "hidden": [8, 8], "batch_size": 10}))
    s.advance(0.0, max_steps=20)
    best = 0.0
    for _ in range(3):
        t0, n = time.perf_counter(), s.steps
        s.advance(0.5)
        best = max(best, (s.steps - n) / (time.perf_counter() - t0))
    assert best >= 300
