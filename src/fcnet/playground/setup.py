"""What the page may ask for: one playground setup, checked value by value on the server.

Training options go through ``fcnet.train.options.coerce`` (the same table as ``fcnet train``);
the playground adds its own keys (data set, noise, points, split, features) and size bounds so
that no page can exhaust the machine.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from fcnet.data.toy import TOYS, make_toy
from fcnet.errors import ConfigError
from fcnet.train import options

__all__ = ["DATASETS", "FEATURES", "LIMITS", "REGRESSIONS", "TRAIN_KEYS", "default_setup", "features", "make_data",
           "validate"]

LIMITS = {"layers": 6, "units": 16, "points": 2000, "min_points": 20, "sessions": 8}
"""Size bounds of one playground session (and how many sessions a server runs at once)."""

TRAIN_KEYS = ("hidden", "activation", "negative_slope", "init", "init_std", "batchnorm", "dropout", "loss", "margin",
              "optimizer", "lr", "momentum", "momentum_form", "rho", "eps", "eps_inside", "weight_decay", "l2", "l1",
              "batch_size", "seed")
"""The ``fcnet train`` options the page controls (validated through ``options.coerce``)."""

OPTIMIZERS = ("sgd", "momentum", "rmsprop", "adam")  # the lecture's four forms (slides 89-123)

FEATURES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "x1": lambda x: x[:, 0],
    "x2": lambda x: x[:, 1],
    "x1^2": lambda x: x[:, 0] ** 2,
    "x2^2": lambda x: x[:, 1] ** 2,
    "x1*x2": lambda x: x[:, 0] * x[:, 1],
    "sin(x1)": lambda x: np.sin(x[:, 0]),
    "sin(x2)": lambda x: np.sin(x[:, 1]),
}
"""Input features computed from the standardised point (x₁, x₂)."""

REGRESSIONS = ("reg-plane", "reg-gauss")
"""Regression tasks (one output, squared-error loss ``"mse"``), as in TF Playground."""
DATASETS = (*TOYS, *REGRESSIONS)

_OWN = {"dataset", "noise", "points", "train_ratio", "features", "data_seed"}


def default_setup() -> dict[str, Any]:
    """The page's first setup: spirals, x₁ and x₂, two tanh layers of 8, Adam."""
    opts = options.resolve({})
    setup = {k: opts[k] for k in TRAIN_KEYS}
    setup.update({"dataset": "spirals", "data_seed": None, "noise": 0.0, "points": 400, "train_ratio": 0.5,
                  "features": ["x1", "x2"], "hidden": [8, 8], "activation": "tanh", "lr": 0.03, "batch_size": 10,
                  "init": "xavier"})
    return setup


def _number(name: str, value: Any, lo: float, hi: float, integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{name} must be a number, got {_short(value)}")
    try:
        num = int(value) if integer else float(value)
    except (ValueError, OverflowError):  # OverflowError: 10**400 as a float, or inf as an int
        raise ConfigError(f"{name} must be a number between {lo:g} and {hi:g}, got {_short(value)}") from None
    if integer and isinstance(value, float) and value != num:
        raise ConfigError(f"{name} must be a whole number, got {_short(value)}")
    if not (lo <= num <= hi and math.isfinite(num)):  # compared first: isfinite(10**400) overflows
        raise ConfigError(f"{name} must be between {lo:g} and {hi:g}, got {_short(value)}")
    return num


def validate(raw: Any) -> dict[str, Any]:
    """A complete, checked setup from the page's partial one (missing keys take the defaults).

    Raises ConfigError (one line, naming the key and the allowed values) on anything else.
    """
    if not isinstance(raw, dict):
        raise ConfigError("the setup must be a JSON object of option names to values")
    setup = default_setup()
    for key, value in raw.items():
        if key in _OWN or (key == "loss" and value == "mse"):  # mse: checked against the task below
            setup[key] = value
        elif key in TRAIN_KEYS:
            try:
                setup[key] = options.coerce(key, value, label=key)
            except ConfigError as err:  # the table's message names what is valid; the value cut short
                text = str(err)
                raise ConfigError(text if len(text) <= 200 else text[:197] + "...") from None
            except (OverflowError, ValueError, TypeError):  # e.g. 10**400: no float holds it
                raise ConfigError(f"{key} must be a number in its range, got {_short(value)}") from None
        else:
            raise ConfigError(f"unknown setting {str(key)[:40]!r}: the playground accepts "
                              f"{', '.join(sorted(_OWN | set(TRAIN_KEYS)))}")
    for key in TRAIN_KEYS:
        if isinstance(setup[key], float) and not math.isfinite(setup[key]):
            raise ConfigError(f"{key} must be a finite number, got {setup[key]}")
    if not isinstance(setup["dataset"], str) or setup["dataset"] not in DATASETS:
        raise ConfigError(f"dataset must be one of {', '.join(DATASETS)}, got {_short(setup['dataset'])}")
    if setup["dataset"] in REGRESSIONS:
        setup["loss"] = "mse"  # a regression task has one output and the squared error
    elif setup["loss"] == "mse":
        raise ConfigError(f"loss mse is for the regression tasks ({', '.join(REGRESSIONS)}); "
                          f"{setup['dataset']} is a classification: use cross-entropy or hinge")
    setup["noise"] = _number("noise", setup["noise"], 0.0, 1.0)
    setup["points"] = _number("points", setup["points"], LIMITS["min_points"], LIMITS["points"], integer=True)
    setup["train_ratio"] = _number("train_ratio", setup["train_ratio"], 0.1, 0.9)
    feats = setup["features"]
    if (not isinstance(feats, list) or not feats or any(not isinstance(f, str) or f not in FEATURES for f in feats)
            or len(set(feats)) < len(feats)):
        raise ConfigError(f"features must be a non-empty list of distinct names from {', '.join(FEATURES)}")
    setup["features"] = [f for f in FEATURES if f in feats]  # canonical order
    hidden = setup["hidden"]
    if len(hidden) > LIMITS["layers"] or any(not 1 <= h <= LIMITS["units"] for h in hidden):
        raise ConfigError(f"hidden must be at most {LIMITS['layers']} layers of 1 to {LIMITS['units']} units, "
                          f"got {_short(hidden)}")
    if setup["optimizer"] not in OPTIMIZERS:
        raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)} here, got {setup['optimizer']!r}")
    for key, lo, hi in (("lr", 1e-7, 10.0), ("dropout", 0.0, 0.9), ("weight_decay", 0.0, 10.0),
                        ("momentum", 0.0, 0.9999), ("rho", 0.0, 0.9999), ("negative_slope", 0.0, 1.0),
                        ("margin", 0.0, 100.0)):
        setup[key] = _number(key, setup[key], lo, hi)
    for key in ("eps", "init_std"):
        if setup[key] is not None:
            setup[key] = _number(key, setup[key], 1e-12, 10.0)
    n_train = max(2, round(_count(setup["dataset"], setup["points"]) * setup["train_ratio"]))  # as make_data
    setup["batch_size"] = _number("batch_size", setup["batch_size"], 2 if setup["batchnorm"] else 1, n_train,
                                  integer=True)
    setup["seed"] = _number("seed", setup["seed"], 0, 2**31 - 1, integer=True)
    if setup["data_seed"] is not None:
        setup["data_seed"] = _number("data_seed", setup["data_seed"], 0, 2**31 - 1, integer=True)
    for key in ("l1", "l2"):
        setup[key] = _number(key, setup[key], 0.0, 10.0)
    return setup


def _count(dataset: str, points: int) -> int:
    """How many points ``make_data`` makes for ``points`` (spirals: a multiple of 3, see ``_toy_points``)."""
    return points if dataset in REGRESSIONS else _toy_points(dataset, points)


def _toy_points(dataset: str, points: int) -> int:
    """The points asked of ``make_toy``: the playground's spirals keep three arms of equal length
    (a multiple of 3 points, the data its presets were set up on); every other toy gets ``points``.
    """
    return points - points % 3 if dataset == "spirals" else points


def _short(value: Any) -> str:
    """``repr(value)`` cut to 40 characters, for a one-line message."""
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def features(points: np.ndarray, names: list[str]) -> np.ndarray:
    """The network's inputs (N, len(names)) from standardised points (N, 2)."""
    return np.stack([FEATURES[n](points) for n in names], axis=1).astype(np.float32)


def make_data(setup: dict[str, Any]) -> dict[str, Any]:
    """Seeded toy points, standardised, with Gaussian noise of σ = ``noise``, split train / test.

    The points are standardised with the training split's mean and standard deviation, so the
    view's square [-3, 3]² covers the data of every toy.
    """
    seed = setup["seed"] if setup.get("data_seed") is None else setup["data_seed"]
    if setup["dataset"] in REGRESSIONS:
        x, y = _regression(setup["dataset"], setup["points"], seed)
    else:
        x, y = make_toy(setup["dataset"], n=_toy_points(setup["dataset"], setup["points"]), seed=seed)
    rng = np.random.default_rng([seed, 1])
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    n_train = max(2, round(len(y) * setup["train_ratio"]))
    mean, std = x[:n_train].mean(axis=0), x[:n_train].std(axis=0) + 1e-6
    x = (x - mean) / std
    x = x + setup["noise"] * rng.standard_normal(x.shape)
    x = x.astype(np.float32)
    classes = 1 if setup["dataset"] in REGRESSIONS else int(y.max()) + 1
    return {"points_train": x[:n_train], "y_train": y[:n_train], "points_test": x[n_train:], "y_test": y[n_train:],
            "classes": classes, "mean": mean, "std": std}


def _regression(name: str, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Points uniform in [-1, 1]² and a target in [-1, 1] (shape (n, 1)): TF Playground's plane and Gaussians."""
    rng = np.random.default_rng([seed, 5])
    x = rng.uniform(-1, 1, (n, 2))
    if name == "reg-plane":
        y = (x[:, 0] + x[:, 1]) / 2
    else:  # two bumps of opposite sign
        bump = lambda c: np.exp(-((x - c) ** 2).sum(axis=1) / (2 * 0.3**2))  # noqa: E731
        y = bump(np.array([0.4, 0.4])) - bump(np.array([-0.4, -0.4]))
    return x.astype(np.float32), y.astype(np.float32)[:, None]
