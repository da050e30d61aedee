"""Each lecture preset's claim, as the page shows it, holds in the direction it is stated."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from fcnet.playground.presets import PRESETS
from fcnet.playground.session import Session
from fcnet.playground.setup import validate

P = {p["id"]: p for p in PRESETS}


def session(pid: str, **over) -> Session:
    return Session(validate({**P[pid]["setup"], **over}))


def layer_stats(s: Session) -> tuple[np.ndarray, np.ndarray]:
    """Per hidden layer: std of the outputs on the training points, and the share with |a| > 0.9."""
    outs = s._forward(s.x_train)
    acts = [outs[i] for i in s._activations()]
    return np.array([a.std() for a in acts]), np.array([(np.abs(a) > 0.9).mean() for a in acts])


def test_every_preset_is_a_valid_setup_with_both_languages():
    for p in PRESETS:
        validate(p["setup"])
        assert p["claim"]["en"] and p["claim"]["zh"] and p["title"]["zh"]


def test_wider_nets_fit_the_spirals_better():  # slides 45-47
    losses = [session(pid).advance(0.0, max_steps=1500)["train_loss"] for pid in ("width-3", "width-6", "width-16")]
    assert losses[0] > losses[1] > losses[2]


def test_sigmoid_gradients_vanish_towards_the_input():  # slide 84
    g = session("sigmoid-deep").advance(0.0, max_steps=50)["grad_norms"]
    assert all(a < b for a, b in itertools.pairwise(g)) and g[0] < g[-1] / 100


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_initialisation_scales(seed):  # slides 127-133
    small, _ = layer_stats(session("init-small", seed=seed))
    assert small[0] > 1e-3 and (small[2:] < 1e-3).all()  # after the first layers every activation is ~0
    _, saturated = layer_stats(session("init-large", seed=seed))
    assert (saturated[2:] > 0.5).all()  # most units of the deeper layers at |a| > 0.9
    xavier, xsat = layer_stats(session("init-xavier", seed=seed))
    assert xavier.min() > xavier.max() / 3 and (xsat < 0.2).all()


def test_small_initialisation_does_not_train():
    trained = session("init-small").advance(0.0, max_steps=500)
    assert trained["train_loss"] > 0.95 * np.log(3)  # three classes: still a guess


@pytest.mark.parametrize("seed", [0, 1])
def test_learning_rate_too_high_or_too_low(seed):  # slide 167
    start = session("lr-high", seed=seed).frame()["train_loss"]
    high = session("lr-high", seed=seed).advance(0.0, max_steps=500)["train_loss"]
    low = session("lr-low", seed=seed).advance(0.0, max_steps=500)["train_loss"]
    good = session("lr-high", lr=0.1, seed=seed).advance(0.0, max_steps=500)["train_loss"]
    assert good < 0.5 * start
    assert high is None or (high > 0.5 * start and high > 2 * good)  # does not converge (or diverges)
    assert low > 0.7 * start and low > 2 * good  # has barely moved


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
