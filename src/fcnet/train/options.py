"""Training options: one table that feeds argparse, TOML configs, search spaces and validation.

Every ``fcnet train`` flag is also a key of a TOML config (``--batch-size`` ↔ ``batch_size``).
Precedence: built-in default < config file < command line.  Each row of ``OPTIONS`` holds the
option's type, its valid range or choices, its default and its help; ``coerce`` converts and
checks a value from any door (CLI string, TOML value, search space, Python caller) by that row,
so a value is accepted or refused the same way everywhere.  The layout follows scikit-learn's
``_parameter_constraints`` (an ``Interval`` per numeric option), written out here because
scikit-learn's validators are private API.
"""

from __future__ import annotations

import argparse
import math
import numbers
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError
from fcnet.nn.init import INITS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

__all__ = ["OPTIONS", "Interval", "Option", "TrainConfig", "add_training_flags", "coerce", "default",
           "flag", "load_config", "parse_config", "read_toml", "resolve", "validate"]

MAX_WIDTH = 1_000_000  # a hidden layer wider than this is a typo (the memory check catches the rest)


@dataclass(frozen=True)
class Interval:
    """The real numbers (or integers) between ``low`` and ``high``; None is unbounded.

    ``closed`` is "both", "left", "right" or "neither", as in scikit-learn's ``Interval``.
    """

    low: float | None = None
    high: float | None = None
    closed: str = "both"

    def __contains__(self, v: float) -> bool:
        lo_ok = self.low is None or (v >= self.low if self.closed in ("both", "left") else v > self.low)
        hi_ok = self.high is None or (v <= self.high if self.closed in ("both", "right") else v < self.high)
        return lo_ok and hi_ok

    def describe(self) -> str:
        """'≥ 1', '> 0', 'in [0, 1)'..."""
        left = self.closed in ("both", "left")
        right = self.closed in ("both", "right")
        if self.high is None and self.low is None:
            return "finite"
        if self.high is None:
            return f"{'≥' if left else '>'} {_num(self.low)}"
        if self.low is None:
            return f"{'≤' if right else '<'} {_num(self.high)}"
        return f"in {'[' if left else '('}{_num(self.low)}, {_num(self.high)}{']' if right else ')'}"


def _num(v: float | None) -> str:
    return str(int(v)) if v is not None and float(v).is_integer() else str(v)


@dataclass(frozen=True)
class Option:
    """One row of the table: a training option and everything needed to check it."""

    name: str
    kind: str  # "str", "int", "float", "bool", "ints" (a list of ints)
    default: Any
    help: str
    choices: tuple[str, ...] | None = None
    interval: Interval | None = None  # for int/float; for "ints" it bounds every item
    optional: bool = False  # None ("none" on the command line) is allowed

    def requirement(self) -> str:
        """What a valid value looks like, for messages and --help."""
        if self.choices:
            what = "one of " + ", ".join(self.choices)
        elif self.kind == "bool":
            what = "true or false"
        elif self.kind == "ints":
            what = "comma-separated integers like 512,256"
            if self.interval:
                what += f", each {self.interval.describe()}"
        else:
            what = {"int": "an integer", "float": "a finite number", "str": "a string"}[self.kind]
            if self.interval and self.interval.describe() != "finite":
                what += f" {self.interval.describe()}"
        return what + (" (or none)" if self.optional else "")


def _row(name: str, kind: str, default: Any, help_: str, *, choices: tuple[str, ...] | None = None,
         low: float | None = None, high: float | None = None, closed: str = "both",
         optional: bool = False) -> tuple[str, Option]:
    interval = Interval(low, high, closed) if kind in ("int", "float", "ints") else None
    return name, Option(name, kind, default, help_, choices, interval, optional)


OPTIONS: dict[str, Option] = dict([
    _row("data", "str", "digits", "data set name (see `fcnet datasets`) or a .npz/.csv file"),
    _row("data_dir", "str", None, "directory holding the data set files", optional=True),
    _row("subset", "int", None, "train on this many samples (a seeded subset)", low=1, optional=True),
    _row("val_split", "float", 0.1, "fraction of the training set held out for validation",
         low=0, high=1, closed="left"),
    _row("standardize", "bool", True, "standardise features with training mean/std"),
    _row("hidden", "ints", [128], "hidden layer widths, e.g. 512,256 (none: linear classifier)",
         low=1, high=MAX_WIDTH),
    _row("activation", "str", "relu", "activation function", choices=("relu", "sigmoid", "tanh", "leaky_relu")),
    _row("negative_slope", "float", 0.01, "slope α of leaky_relu for x < 0", low=0),
    _row("init", "str", "he", "weight initialisation", choices=INITS),
    _row("init_std", "float", None, "σ for --init normal (default 0.01)", low=0, closed="neither", optional=True),
    _row("batchnorm", "bool", False, "batch normalisation after each hidden linear layer"),
    _row("dropout", "float", 0.0, "dropout probability after each hidden activation", low=0, high=1, closed="left"),
    _row("augment", "bool", False, "image data: flip each training image left-right (probability 1/2) and shift "
         "it by up to --augment-shift pixels, drawn anew each epoch from the run's generator (test and "
         "validation images are left as they are)"),
    _row("augment_flip", "bool", True, "--augment flips images left-right (false: shifts only)"),
    _row("augment_shift", "int", 2, "largest shift of --augment in pixels, up, down, left and right (0: flips only)",
         low=0, high=8),
    _row("loss", "str", "cross-entropy", "loss function", choices=("cross-entropy", "hinge")),
    _row("margin", "float", 1.0, "margin Δ of the hinge loss", low=0),
    _row("label_smoothing", "float", 0.0, "label smoothing ε of the cross-entropy", low=0, high=1, closed="left"),
    _row("optimizer", "str", "adam", "optimizer", choices=("sgd", "momentum", "rmsprop", "adagrad", "adam", "adamw")),
    _row("lr", "float", 1e-3, "learning rate ε", low=0, closed="neither"),
    _row("momentum", "float", 0.9, "momentum μ (momentum; β1 of adam)", low=0, high=1, closed="left"),
    _row("momentum_form", "str", "lecture", "momentum update form", choices=("lecture", "pytorch")),
    _row("rho", "float", 0.999, "decay ρ (rmsprop; β2 of adam)", low=0, high=1, closed="left"),
    _row("eps", "float", None, "δ (default 1e-5; 1e-8 for adamw)", low=0, closed="neither", optional=True),
    _row("eps_inside", "bool", True, "adam, adagrad: δ inside the square root (lecture) or outside (PyTorch)"),
    _row("weight_decay", "float", 0.0, "weight decay λ in the optimizer", low=0),
    _row("l2", "float", 0.0, "L2 regularisation λ R(W) added to the loss", low=0),
    _row("l1", "float", 0.0, "L1 regularisation added to the loss", low=0),
    _row("epochs", "int", 10, "number of epochs (with --time-budget: the length the schedule is laid out on)",
         low=1),
    _row("time_budget", "float", None, "train for this many seconds instead of --epochs; --warmup, --schedule "
         "and --step-size run on the fraction of the budget used (W epochs of warm-up = W/--epochs of it); "
         "not bit-reproducible across machines", low=0, closed="neither", optional=True),
    _row("batch_size", "int", 128, "mini-batch size (capped at the training set size)", low=1),
    _row("schedule", "str", "none", "learning-rate schedule (per step)", choices=("none", "step", "cosine")),
    _row("step_size", "int", 5, "epochs between decays of the step schedule", low=1),
    _row("gamma", "float", 0.1, "decay factor of the step schedule", low=0, high=1, closed="right"),
    _row("warmup", "float", 0.0, "epochs of linear learning-rate warm-up (fewer than --epochs)", low=0),
    _row("clip_norm", "float", None, "clip the gradient norm to this value", low=0, closed="neither", optional=True),
    _row("clip_value", "float", None, "clip gradient entries to ±value", low=0, closed="neither", optional=True),
    _row("early_stopping", "int", 0, "stop after this many epochs without val_loss improvement (0: off)", low=0),
    _row("seed", "int", 0, "random seed", low=0, high=2**32 - 1),
    _row("threads", "int", None, "BLAS threads (default: all cores)", low=1, optional=True),
    _row("device", "str", "cpu", "cpu, cuda or cuda:N"),
    _row("name", "str", None, "run name (directory runs/NAME)", optional=True),
    _row("out", "str", None, "run directory (overrides --name)", optional=True),
    _row("checkpoint_every", "int", 1, "save a checkpoint every N epochs", low=1),
    _row("monitor", "bool", True, "warn about initial loss, dead/saturated units, gradients"),
    _row("tensorboard", "str", None, "write TensorBoard logs (loss, accuracy, lr, gradient norms, weights) here",
         optional=True),
])


def flag(name: str) -> str:
    """The command-line flag of an option: ``batch_size`` → ``--batch-size``."""
    return "--" + name.replace("_", "-")


def default(name: str) -> Any:
    """The built-in default of an option (a fresh copy for lists)."""
    value = OPTIONS[name].default
    return list(value) if isinstance(value, list) else value


class _Invalid(Exception):
    """A value that does not fit its option; the message says why, without naming the option."""


MAX_INT = 2**31 - 1  # an integer option beyond this (10**400 epochs) is a typo, refused like any bad value


def _show(value: Any) -> str:
    """``value`` as an error message shows it: a very long value is cut (10**400 is not 401 digits long)."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and value.bit_length() > 100:  # str() of over 4300 digits raises ValueError
        return f"an integer of {int(value.bit_length() * math.log10(2)) + 1} digits"
    text = value if isinstance(value, str) else str(value)
    if len(text) > 40:
        return f"{text[:20]!r}... ({len(text)} characters)"
    return repr(text) if isinstance(value, str) else text


def _int(value: Any, opt: Option) -> int:
    n = _int_value(value, opt)
    if abs(n) > MAX_INT and (opt.interval is None or opt.interval.high is None):
        raise _Invalid(f"must be {opt.requirement()}, got {_show(value)} (at most {MAX_INT:,})")
    return n


def _int_value(value: Any, opt: Option) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Real | str):
        raise _Invalid(f"must be {opt.requirement()}, got {_show(value)}")
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:  # also a number of over 4300 digits (Python's limit on str → int)
            try:
                value = float(text)
            except ValueError:
                raise _Invalid(f"must be {opt.requirement()}, got {_show(value)}") from None
    if isinstance(value, numbers.Integral):
        return int(value)
    f = float(value)
    if not math.isfinite(f) or not f.is_integer():  # 1.7 is refused rather than truncated to 1
        raise _Invalid(f"must be {opt.requirement()}, got {_show(value)}")
    return int(f)


def _float(value: Any, opt: Option) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real | str):
        raise _Invalid(f"must be {opt.requirement()}, got {_show(value)}")
    try:
        f = float(value)
    except ValueError:
        raise _Invalid(f"must be {opt.requirement()}, got {_show(value)}") from None
    if not math.isfinite(f):
        raise _Invalid(f"must be {opt.requirement()}, got {_show(value)} (NaN and infinity are refused)")
    return f


def _bool(value: Any, opt: Option) -> bool:
    if isinstance(value, bool):
        return value
    low = str(value).strip().lower() if isinstance(value, str) else None
    if low in ("1", "true", "yes", "on"):
        return True
    if low in ("0", "false", "no", "off"):
        return False
    raise _Invalid(f"must be true or false, got {_show(value)}")


def _ints(value: Any, opt: Option) -> list[int]:
    if isinstance(value, str):
        text = value.strip()
        if text.lower() in ("", "none", "[]"):
            return []
        items: list[Any] = [v.strip() for v in text.strip("[]").split(",")]
        if any(v == "" for v in items):
            raise _Invalid(f"must be {opt.requirement()}, got {_show(value)} (an empty item)")
    elif isinstance(value, list | tuple):
        items = list(value)
    elif isinstance(value, numbers.Integral) and not isinstance(value, bool):
        items = [value]
    else:
        raise _Invalid(f"must be {opt.requirement()}, got {_show(value)}")
    out = []
    for item in items:
        try:
            v = _int(item, opt)
        except _Invalid:
            raise _Invalid(f"must be {opt.requirement()}, got {_show(value)}") from None
        if opt.interval is not None and v not in opt.interval:
            raise _Invalid(f"must be {opt.requirement()}, got {_show(value)}")
        out.append(v)
    return out


def _convert(opt: Option, value: Any) -> Any:
    if opt.kind == "str" and isinstance(value, str) and not value.strip():
        raise _Invalid(f"must be {opt.requirement()}, got an empty string")  # `--out ''` is a mistake, not none
    if value is None or (opt.optional and isinstance(value, str) and value.strip().lower() in ("none", "")):
        if opt.optional:
            return None
        raise _Invalid(f"must be {opt.requirement()}, got none")
    if opt.kind == "ints":
        return _ints(value, opt)
    if opt.kind == "bool":
        return _bool(value, opt)
    if opt.kind == "str":
        if not isinstance(value, str):
            raise _Invalid(f"must be {opt.requirement()}, got {_show(value)}")
        if opt.choices and value not in opt.choices:
            raise _Invalid(f"must be one of {', '.join(opt.choices)}, got {_show(value)}")
        return value
    v: float = _int(value, opt) if opt.kind == "int" else _float(value, opt)
    if opt.interval is not None and v not in opt.interval:
        raise _Invalid(f"must be {opt.requirement()}, got {_show(value)}")
    return v


def coerce(name: str, value: Any, *, label: str | None = None) -> Any:
    """``value`` converted to option ``name``'s type and checked against its range or choices.

    Any door uses this: a CLI string ``"256,128"``, a TOML value, a search-space sample, a
    Python argument.  Raises a one-line ConfigError naming ``label`` (default: the flag),
    the value and what is valid.  Names that are not options pass through unchanged.
    """
    if name not in OPTIONS:
        return value
    try:
        return _convert(OPTIONS[name], value)
    except _Invalid as exc:
        raise ConfigError(f"{label or flag(name)} {exc}") from None


class _FlagType:
    """The argparse ``type=`` of an option: ``coerce`` with argparse's error type."""

    def __init__(self, opt: Option) -> None:
        self.opt = opt
        self.__name__ = opt.kind  # argparse names the type in some messages

    def __call__(self, text: str) -> Any:
        try:
            return _convert(self.opt, text)
        except _Invalid as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None


def add_training_flags(parser: argparse.ArgumentParser) -> None:
    """Add one flag per option, defaulting to 'not given' so configs can fill in."""
    for name, opt in OPTIONS.items():
        shown = "none" if opt.default is None else (",".join(map(str, opt.default)) if opt.kind == "ints"
                                                     else _show(opt.default).strip("'"))
        kw: dict[str, Any] = {"dest": name, "default": argparse.SUPPRESS, "type": _FlagType(opt),
                              "help": f"{opt.help}; {opt.requirement()} (default: {shown})"}
        if opt.kind == "bool":
            kw["nargs"] = "?"
            kw["const"] = True
            kw["metavar"] = "BOOL"
        elif opt.choices:
            kw["metavar"] = "{" + ",".join(opt.choices) + "}"
        else:
            kw["metavar"] = {"int": "N", "float": "X", "ints": "N[,N...]", "str": name.upper()}[opt.kind]
        parser.add_argument(flag(name), **kw)


def load_config(path: str | Path) -> dict[str, Any]:
    """Read a TOML config (keys are option names; a [train] table is also accepted)."""
    return parse_config(read_toml(path), str(path))


def read_toml(path: str | Path) -> dict[str, Any]:
    """The raw TOML of ``path``, or a one-line ConfigError."""
    path = Path(path)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except IsADirectoryError:
        raise ConfigError(f"config file {path} is a directory: give a .toml file") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"config file {path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from None
    except ValueError as exc:  # an integer of over 4300 digits (Python's limit on str → int)
        raise ConfigError(f"config file {path} holds a number too long to read ({exc}): fix the file") from None


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
        out[name] = coerce(name, value, label=f"{source}: key {key}")
    return out


def resolve(cli: dict[str, Any], config: dict[str, Any] | None = None) -> dict[str, Any]:
    """Defaults, then the config file, then what was given on the command line."""
    opts = {name: default(name) for name in OPTIONS}
    opts.update(config or {})
    opts.update({k: v for k, v in cli.items() if k in OPTIONS})
    return opts


class TrainConfig(Mapping[str, Any]):
    """A validated, read-only set of every training option (``cfg.lr`` or ``cfg["lr"]``)."""

    __slots__ = ("_values",)

    def __init__(self, values: dict[str, Any]) -> None:
        object.__setattr__(self, "_values", dict(values))

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __getattr__(self, key: str) -> Any:
        try:
            return self._values[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key: str, value: Any) -> None:
        raise AttributeError("TrainConfig is read-only")

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"TrainConfig({self._values!r})"


def validate(opts: Mapping[str, Any]) -> TrainConfig:
    """Every option checked by its row, then the checks that involve two options.

    Options missing from ``opts`` take their defaults; keys that are not options are refused.
    """
    if isinstance(opts, TrainConfig):
        return opts
    unknown = sorted(k for k in opts if k not in OPTIONS)
    if unknown:
        raise ConfigError(f"unknown training option(s) {', '.join(unknown)}; see `fcnet train --help`")
    values = {name: coerce(name, opts[name]) if name in opts else default(name) for name in OPTIONS}
    if not re.fullmatch(r"cpu|cuda|gpu|cuda:\d+", values["device"]):
        raise ConfigError(f"--device must be cpu, cuda or cuda:N, got {values['device']!r}")
    if values["warmup"] and values["warmup"] >= values["epochs"]:
        raise ConfigError(f"--warmup {_num(values['warmup'])} must be shorter than --epochs {values['epochs']}: "
                          "lower --warmup or raise --epochs")
    if values["batchnorm"] and values["batch_size"] < 2:
        raise ConfigError(f"--batchnorm needs --batch-size 2 or more (got {values['batch_size']}): a batch of one "
                          "sample has no variance to normalise by; raise --batch-size or drop --batchnorm")
    return TrainConfig(values)
