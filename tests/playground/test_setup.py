"""Every value the page sends is checked: the option table's coerce, then the playground's bounds."""

from __future__ import annotations

import base64

import numpy as np
import pytest

from fcnet.errors import ConfigError
from fcnet.playground.session import Session
from fcnet.playground.setup import LIMITS, default_setup, make_data, validate


def test_defaults_are_valid_and_complete():
    s = validate({})
    assert s == validate(default_setup())
    assert s["dataset"] == "spirals" and s["hidden"] == [8, 8]


@pytest.mark.parametrize(("raw", "words"), [
    ({"activation": "softplus"}, "activation"),
    ({"lr": "fast"}, "lr"),
    ({"hidden": "a,b"}, "hidden"),
    ({"loss": "mse"}, "loss"),
    ({"init": "orthogonal"}, "init"),
    ({"optimizer": "adamw"}, "optimizer"),
    ({"lr": -0.1}, "lr"),
    ({"lr": float("nan")}, "lr"),
    ({"dropout": 1.0}, "dropout"),
    ({"dataset": "mnist"}, "dataset"),
    ({"features": []}, "features"),
    ({"features": ["x1", "exec('x')"]}, "features"),
    ({"noise": "lots"}, "noise"),
    ({"seed": -1}, "seed"),
    ({"__class__": 1}, "unknown setting"),
    ({"points": 10**400}, "points"),
    ({"lr": 10**400}, "lr"),
    ({"noise": 10**400}, "noise"),
    ({"batch_size": 10**400}, "batch_size"),
    ({"data_seed": -3}, "data_seed"),
    ({"l1": -1}, "l1"),
    ({"loss": "mse"}, "regression"),
    ({"dataset": ["xor"]}, "dataset"),
    ([1, 2], "JSON object"),
])
def test_bad_values_are_refused_with_a_one_line_message(raw, words):
    with pytest.raises(ConfigError) as err:
        validate(raw)
    msg = str(err.value)
    assert words in msg and "\n" not in msg


def test_size_bounds():
    ok = validate({"hidden": [LIMITS["units"]] * LIMITS["layers"], "points": LIMITS["points"]})
    assert len(ok["hidden"]) == LIMITS["layers"]
    for raw in ({"hidden": [4] * (LIMITS["layers"] + 1)}, {"hidden": [LIMITS["units"] + 1]}, {"hidden": [0]},
                {"points": LIMITS["points"] + 1}, {"points": LIMITS["min_points"] - 1},
                {"points": 100, "train_ratio": 0.5, "batch_size": 51}, {"batchnorm": True, "batch_size": 1}):
        with pytest.raises(ConfigError):
            validate(raw)


def test_data_are_seeded_split_and_noisy():
    s = validate({"dataset": "moons", "points": 200, "train_ratio": 0.7})
    a, b = make_data(s), make_data(s)
    assert np.array_equal(a["points_train"], b["points_train"]) and len(a["y_train"]) == 140
    noisy = make_data(validate({"dataset": "moons", "points": 200, "train_ratio": 0.7, "noise": 0.5}))
    assert np.abs(noisy["points_train"] - a["points_train"]).mean() > 0.2


def test_a_session_learns_spirals_and_reports_every_view():
    session = Session(validate({"features": ["x1", "x2", "x1*x2"], "batchnorm": True, "dropout": 0.1}))
    first = session.frame()
    frame = session.advance(0.0, max_steps=600)
    assert frame["step"] == 600 and frame["train_loss"] < first["train_loss"]
    assert len(frame["units"]) == 2 and len(frame["units"][0]) == 8 and len(frame["inputs"]) == 3
    assert len(frame["grad_norms"]) == 3 and all(g > 0 for g in frame["grad_norms"])
    assert len(frame["histograms"]) == 2 and sum(frame["histograms"][0]["counts"]) == 8 * len(session.y_train)
    assert [len(w) for w in frame["weights"]] == [8, 8, 3]


def test_sessions_are_reproducible_from_their_seed_alone():
    from fcnet import backend

    def weights_after(seed, steps=30):
        s = Session(validate({"dropout": 0.2, "seed": seed}))
        backend.manual_seed(1234 + seed)  # the shared default generator does not matter
        s.advance(0.0, max_steps=steps)
        return [p.data.copy() for p in s.model.parameters()]

    a, b, c = weights_after(0), weights_after(0), weights_after(1)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_a_diverging_session_stops_and_its_frame_is_strict_json():
    import json
    import warnings

    s = Session(validate({"optimizer": "sgd", "lr": 10.0, "activation": "relu", "init": "he", "hidden": [16] * 6,
                          "loss": "hinge"}))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warnings on the server's console
        frame = s.advance(0.0, max_steps=200)
    assert frame["diverged"] and frame["train_loss"] is None and s.steps < 200
    json.dumps(frame, allow_nan=False)  # what the page's JSON.parse accepts


def test_regression_tasks_train_with_the_squared_error():
    for name in ("reg-plane", "reg-gauss"):
        s = Session(validate({"dataset": name, "hidden": [8, 8]}))
        assert s.setup["loss"] == "mse" and s.regression and s.data["classes"] == 1
        first = s.frame()
        f = s.advance(0.0, max_steps=400)
        assert f["regression"] and f["test_accuracy"] is None and len(f["weights"][-1]) == 1
        pred = s._forward(s.x_train)[-1]
        assert abs(f["train_loss"] - float(((pred - s.y_train) ** 2).mean())) < 1e-6  # L = mean (ŷ - y)²
        assert f["train_loss"] < 0.3 * first["train_loss"]


def test_l1_shrinks_the_weights():
    def weight_l1(l1):
        s = Session(validate({"dataset": "moons", "l1": l1}))
        s.advance(0.0, max_steps=300)
        return sum(float(abs(m.weight.data).sum()) for m in s._linears())

    assert weight_l1(0.01) < 0.7 * weight_l1(0.0)


def test_the_data_seed_regenerates_the_points_and_keeps_the_net():
    a, b = Session(validate({"data_seed": 5})), Session(validate({"data_seed": 6}))
    assert not np.array_equal(a.data["points_train"], b.data["points_train"])
    assert all(np.array_equal(x.data, y.data) for x, y in zip(a.model.parameters(), b.model.parameters(), strict=True))
    c = Session(validate({"data_seed": 5}))
    assert np.array_equal(a.data["points_train"], c.data["points_train"])


def test_the_boundary_is_at_least_100_by_100():
    f = Session(validate({})).frame()
    assert f["grid"] >= 100 and len(base64.b64decode(f["boundary"])) == 2 * f["grid"] ** 2


@pytest.mark.parametrize("dataset", ["spirals", "moons", "reg-plane"])
@pytest.mark.parametrize(("points", "ratio"), [(20, 0.5), (22, 0.5), (100, 0.1), (2000, 0.9)])
def test_every_accepted_batch_size_trains(dataset, points, ratio):  # spirals makes a multiple of 3 points
    raw = {"dataset": dataset, "points": points, "train_ratio": ratio}
    n_train = len(make_data(validate({**raw, "batch_size": 1}))["y_train"])
    for batch in (1, n_train, n_train + 1, 10):
        try:
            s = Session(validate({**raw, "batch_size": batch}))
        except ConfigError as err:
            assert batch > n_train and "batch_size" in str(err)
            continue
        assert batch <= n_train and s.advance(0.0, max_steps=3)["step"] == 3


@pytest.mark.parametrize(("raw", "words"), [
    ({"activation": "softplus"}, "activation must be one of relu, sigmoid"),  # not "a number"
    ({"batchnorm": "maybe"}, "batchnorm must be true or false"),
    ({"optimizer": "x" * 50000}, "optimizer must be one of"),
    ({"hidden": [1] * 20000}, "hidden must be at most 6 layers"),
    ({"hidden": ["x" * 50000]}, "hidden"),
])
def test_a_refusal_says_what_is_valid_in_a_short_line(raw, words):
    with pytest.raises(ConfigError) as err:
        validate(raw)
    assert str(err.value).startswith(words) and len(str(err.value)) < 300, str(err.value)[:300]
