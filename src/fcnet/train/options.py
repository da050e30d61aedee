"""Training options: one table that feeds argparse, TOML configs and validation.

Every ``fcnet train`` flag is also a key of a TOML config (``--batch-size`` ↔ ``batch_size``).
Precedence: built-in default < config file < command line.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["OPTIONS", "add_training_flags", "coerce", "load_config", "parse_config", "read_toml", "resolve"]


def _ints(text: str | int | list[int] | tuple[int, ...]) -> list[int]:
    if isinstance(text, list | tuple):
        return [int(v) for v in text]
    if isinstance(text, int):
        return [text]
    text = str(text).strip()
    if text in ("", "none", "[]"):
        return []
    try:
        return [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers like 512,256, got {text!r}") from None


def _bool(text: str | bool) -> bool:
    if isinstance(text, bool):
        return text
    low = str(text).lower()
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def _opt_float(text: Any) -> float | None:
    if text is None or str(text).lower() in ("none", ""):
        return None
    return float(text)


# name: (type, default, choices, help)
OPTIONS: dict[str, tuple[Any, Any, tuple[str, ...] | None, str]] = {
    "data": (str, "digits", None, "data set name (see `fcnet datasets`) or a .npz/.csv file"),
    "data_dir": (str, None, None, "directory holding the data set files"),
    "subset": (int, None, None, "train on this many samples (a seeded subset)"),
    "val_split": (float, 0.1, None, "fraction of the training set held out for validation"),
    "standardize": (_bool, True, None, "standardise features with training mean/std"),
    "hidden": (_ints, [128], None, "hidden layer widths, e.g. 512,256 (empty: linear classifier)"),
    "activation": (str, "relu", ("relu", "sigmoid", "tanh", "leaky_relu"), "activation function"),
    "negative_slope": (float, 0.01, None, "slope α of leaky_relu for x < 0"),
    "init": (str, "he", ("he", "xavier", "normal", "zeros"), "weight initialisation"),
    "init_std": (_opt_float, None, None, "σ for --init normal (default 0.01)"),
    "batchnorm": (_bool, False, None, "batch normalisation after each hidden linear layer"),
    "dropout": (float, 0.0, None, "dropout probability after each hidden activation"),
    "loss": (str, "cross-entropy", ("cross-entropy", "hinge"), "loss function"),
    "margin": (float, 1.0, None, "margin of the hinge loss"),
    "label_smoothing": (float, 0.0, None, "label smoothing ε of the cross-entropy"),
    "optimizer": (str, "adam", ("sgd", "momentum", "rmsprop", "adam", "adamw"), "optimizer"),
    "lr": (float, 1e-3, None, "learning rate ε"),
    "momentum": (float, 0.9, None, "momentum μ (momentum; β1 of adam)"),
    "momentum_form": (str, "lecture", ("lecture", "pytorch"), "momentum update form"),
    "rho": (float, 0.999, None, "decay ρ (rmsprop; β2 of adam)"),
    "eps": (_opt_float, None, None, "δ (default 1e-5; 1e-8 for adamw)"),
    "eps_inside": (_bool, True, None, "adam: δ inside the square root (lecture) or outside (PyTorch)"),
    "weight_decay": (float, 0.0, None, "weight decay λ in the optimizer"),
    "l2": (float, 0.0, None, "L2 regularisation λ R(W) added to the loss"),
    "l1": (float, 0.0, None, "L1 regularisation added to the loss"),
    "epochs": (int, 10, None, "number of epochs"),
    "batch_size": (int, 128, None, "mini-batch size"),
    "schedule": (str, "none", ("none", "step", "cosine"), "learning-rate schedule (per step)"),
    "step_size": (int, 5, None, "epochs between decays of the step schedule"),
    "gamma": (float, 0.1, None, "decay factor of the step schedule"),
    "warmup": (float, 0.0, None, "epochs of linear learning-rate warm-up"),
    "clip_norm": (_opt_float, None, None, "clip the gradient norm to this value"),
    "clip_value": (_opt_float, None, None, "clip gradient entries to ±value"),
    "early_stopping": (int, 0, None, "stop after this many epochs without val_loss improvement (0: off)"),
    "seed": (int, 0, None, "random seed"),
    "threads": (int, None, None, "BLAS threads (default: all cores)"),
    "device": (str, "cpu", None, "cpu or cuda"),
    "name": (str, None, None, "run name (directory runs/NAME)"),
    "out": (str, None, None, "run directory (overrides --name)"),
    "checkpoint_every": (int, 1, None, "save a checkpoint every N epochs"),
    "monitor": (_bool, True, None, "warn about initial loss, dead/saturated units, gradients"),
    "tensorboard": (str, None, None, "write TensorBoard logs (loss, accuracy, lr, gradient norms, weights) here"),
}


def coerce(name: str, value: Any) -> Any:
    """A searched or configured value converted to the option's type (``hidden=256`` → [256])."""
    if name not in OPTIONS or value is None:
        return value
    typ, _, choices, _ = OPTIONS[name]
    try:
        value = typ(value)
    except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
        raise ConfigError(f"option {name!r}: {exc}") from None
    if choices and value not in choices:
        raise ConfigError(f"option {name!r} must be one of {', '.join(choices)}, got {value!r}")
    return value


def add_training_flags(parser: argparse.ArgumentParser) -> None:
    """Add one flag per option, defaulting to 'not given' so configs can fill in."""
    for name, (typ, default, choices, help_) in OPTIONS.items():
        flag = "--" + name.replace("_", "-")
        kw: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS,
                              "help": f"{help_} (default: {default})"}
        if typ is _bool:
            kw["nargs"] = "?"
            kw["const"] = True
        if choices:
            kw["choices"] = choices
        parser.add_argument(flag, type=typ, **kw)


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML config (keys are option names; a [train] table is also accepted)."""
    return parse_config(read_toml(path), str(path))


def read_toml(path: str | Path) -> dict[str, Any]:
    """The raw TOML of ``path``, or a one-line ConfigError."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None


def parse_config(raw: dict[str, Any], source: str) -> dict[str, Any]:
    """Training options from a TOML table: every key checked and converted to its option's type."""
    if "train" in raw and isinstance(raw["train"], dict):
        raw = {**{k: v for k, v in raw.items() if k != "train"}, **raw["train"]}
    out: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name not in OPTIONS:
            close = [o for o in OPTIONS if o.startswith(name[:3])]
            hint = f" (did you mean {', '.join(close)}?)" if close else ""
            raise ConfigError(f"unknown config key {key!r} in {source}{hint}; see `fcnet train --help`")
        try:
            out[name] = coerce(name, value)
        except ConfigError as exc:
            raise ConfigError(f"{source}: {exc}") from None
    return out


def resolve(cli: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then the config file, then what was given on the command line."""
    opts = {name: spec[1] for name, spec in OPTIONS.items()}
    opts.update(config or {})
    opts.update({k: v for k, v in cli.items() if k in OPTIONS})
    return opts
