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

__all__ = ["FEATURES", "LIMITS", "TRAIN_KEYS", "default_setup", "features", "make_data", "validate"]

LIMITS = {"layers": 6, "units": 16, "points": 2000, "min_points": 20, "sessions": 8}
"""Size bounds of one playground session (and how many sessions a server runs at once)."""

TRAIN_KEYS = ("hidden", "activation", "negative_slope", "init", "init_std", "batchnorm", "dropout", "loss", "margin",
              "optimizer", "lr", "momentum", "momentum_form", "rho", "eps", "eps_inside", "weight_decay", "l2",
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

_OWN = {"dataset", "noise", "points", "train_ratio", "features"}


def default_setup() -> dict[str, Any]:
    """The page's first setup: spirals, x₁ and x₂, two tanh layers of 8, Adam."""
    opts = options.resolve({})
    setup = {k: opts[k] for k in TRAIN_KEYS}
    setup.update({"dataset": "spirals", "noise": 0.0, "points": 400, "train_ratio": 0.5, "features": ["x1", "x2"],
                  "hidden": [8, 8], "activation": "tanh", "lr": 0.03, "batch_size": 10, "init": "xavier"})
    return setup


def _number(name: str, value: Any, lo: float, hi: float, integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{name} must be a number, got {value!r}")
    try:
        num = int(value) if integer else float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if integer and isinstance(value, float) and value != num:
        raise ConfigError(f"{name} must be a whole number, got {value!r}")
    if not (math.isfinite(num) and lo <= num <= hi):
        raise ConfigError(f"{name} must be between {lo:g} and {hi:g}, got {value!r}")
    return num


def validate(raw: Any) -> dict[str, Any]:
    """A complete, checked setup from the page's partial one (missing keys take the defaults).

    Raises ConfigError (one line, naming the key and the allowed values) on anything else.
    """
    if not isinstance(raw, dict):
        raise ConfigError("the setup must be a JSON object of option names to values")
    setup = default_setup()
    for key, value in raw.items():
        if key in _OWN:
            setup[key] = value
        elif key in TRAIN_KEYS:
            setup[key] = options.coerce(key, value)
        else:
            raise ConfigError(f"unknown setting {str(key)[:40]!r}: the playground accepts "
                              f"{', '.join(sorted(_OWN | set(TRAIN_KEYS)))}")
    for key in TRAIN_KEYS:
        if isinstance(setup[key], float) and not math.isfinite(setup[key]):
            raise ConfigError(f"{key} must be a finite number, got {setup[key]}")
    if setup["dataset"] not in TOYS:
        raise ConfigError(f"dataset must be one of {', '.join(TOYS)}, got {str(setup['dataset'])[:40]!r}")
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
                          f"got {hidden}")
    if setup["optimizer"] not in OPTIMIZERS:
        raise ConfigError(f"optimizer must be one of {', '.join(OPTIMIZERS)} here, got {setup['optimizer']!r}")
    for key, lo, hi in (("lr", 1e-7, 10.0), ("dropout", 0.0, 0.9), ("l2", 0.0, 10.0), ("weight_decay", 0.0, 10.0),
                        ("momentum", 0.0, 0.9999), ("rho", 0.0, 0.9999), ("negative_slope", 0.0, 1.0),
                        ("margin", 0.0, 100.0)):
        setup[key] = _number(key, setup[key], lo, hi)
    for key in ("eps", "init_std"):
        if setup[key] is not None:
            setup[key] = _number(key, setup[key], 1e-12, 10.0)
    n_train = max(2, round(setup["points"] * setup["train_ratio"]))
    setup["batch_size"] = _number("batch_size", setup["batch_size"], 2 if setup["batchnorm"] else 1, n_train,
                                  integer=True)
    setup["seed"] = _number("seed", setup["seed"], 0, 2**31 - 1, integer=True)
    return setup


def features(points: np.ndarray, names: list[str]) -> np.ndarray:
    """The network's inputs (N, len(names)) from standardised points (N, 2)."""
    return np.stack([FEATURES[n](points) for n in names], axis=1).astype(np.float32)


def make_data(setup: dict[str, Any]) -> dict[str, Any]:
    """Seeded toy points, standardised, with Gaussian noise of σ = ``noise``, split train / test.

    The points are standardised with the training split's mean and standard deviation, so the
    view's square [-3, 3]² covers the data of every toy.
    """
    x, y = make_toy(setup["dataset"], n=setup["points"], seed=setup["seed"])
    rng = np.random.default_rng([setup["seed"], 1])
    order = rng.permutation(len(y))
    x, y = x[order], y[order]
    n_train = max(2, round(len(y) * setup["train_ratio"]))
    mean, std = x[:n_train].mean(axis=0), x[:n_train].std(axis=0) + 1e-6
    x = (x - mean) / std
    x = x + setup["noise"] * rng.standard_normal(x.shape)
    x = x.astype(np.float32)
    return {"points_train": x[:n_train], "y_train": y[:n_train], "points_test": x[n_train:], "y_test": y[n_train:],
            "classes": int(y.max()) + 1, "mean": mean, "std": std}
