"""Search spaces (slides 170-178): ``choice``, ``uniform``, ``loguniform`` (log scale) and ``int``.

A space is a dict from option name to a parameter.  Each parameter samples itself from an
explicit generator, lays out a grid, and narrows around good values (coarse-to-fine).
Text form, as on the command line: ``lr=loguniform:1e-4:1e-1``, ``dropout=uniform:0:0.5``,
``batch_size=int:32:256``, ``hidden=choice:64,128|256`` (choices separated by ``|``; a
choice with commas is a list).
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from fcnet.errors import ConfigError

__all__ = ["Choice", "Int", "LogUniform", "Param", "Uniform", "check_param", "parse_param", "parse_space",
           "space_from_dict"]


class Param(abc.ABC):
    """A searched option."""

    log = False

    @abc.abstractmethod
    def sample(self, rng: np.random.Generator) -> Any:
        """One value drawn from ``rng``."""

    @abc.abstractmethod
    def grid(self, n: int) -> list[Any]:
        """About ``n`` evenly spaced values (all of them for a choice)."""

    def narrow(self, values: list[Any], factor: float = 0.25) -> Param:
        """A smaller range around ``values`` (the best trials), inside this one."""
        return self

    @abc.abstractmethod
    def to_text(self) -> str:
        """The text form, as on the command line."""


@dataclass(frozen=True)
class Choice(Param):
    """One of a list of values (categorical)."""

    values: tuple[Any, ...]

    def sample(self, rng: np.random.Generator) -> Any:
        return self.values[int(rng.integers(len(self.values)))]

    def grid(self, n: int) -> list[Any]:
        return list(self.values)

    def narrow(self, values: list[Any], factor: float = 0.25) -> Param:
        kept = tuple(v for v in self.values if v in values)
        return Choice(kept or self.values)

    def to_text(self) -> str:
        return "choice:" + "|".join(",".join(map(str, v)) if isinstance(v, list | tuple) else str(v)
                                    for v in self.values)


@dataclass(frozen=True)
class Uniform(Param):
    """A real number uniform in [low, high].

    Sampling, the grid and narrowing all happen on the scale ``_to`` maps to (linear here,
    logarithmic in ``LogUniform``) and are mapped back with ``_from``.
    """

    low: float
    high: float
    kind = "uniform"

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ConfigError(f"uniform range needs low < high, got {self.low}, {self.high}")

    @staticmethod
    def _to(v: float) -> float:
        return v

    @staticmethod
    def _from(u: float) -> float:
        return u

    def sample(self, rng: np.random.Generator) -> float:
        return float(self._from(rng.uniform(self._to(self.low), self._to(self.high))))

    def grid(self, n: int) -> list[float]:
        return [float(self._from(u)) for u in np.linspace(self._to(self.low), self._to(self.high), n)]

    def narrow(self, values: list[Any], factor: float = 0.25) -> Param:
        half = factor * (self._to(self.high) - self._to(self.low)) / 2
        lo = max(self.low, self._from(self._to(min(values)) - half))
        hi = min(self.high, self._from(self._to(max(values)) + half))
        return type(self)(lo, hi) if lo < hi else self

    def to_text(self) -> str:
        return f"{self.kind}:{_num(self.low)}:{_num(self.high)}"


@dataclass(frozen=True)
class LogUniform(Uniform):
    """A positive real number whose logarithm is uniform in [log low, log high] (slide 177)."""

    log = True
    kind = "loguniform"

    def __post_init__(self) -> None:
        if not 0 < self.low < self.high:
            raise ConfigError(f"loguniform range needs 0 < low < high, got {self.low}, {self.high}")

    @staticmethod
    def _to(v: float) -> float:
        return math.log(v)

    @staticmethod
    def _from(u: float) -> float:
        return math.exp(u)


@dataclass(frozen=True)
class Int(Param):
    """An integer in [low, high] (inclusive), optionally log-uniform."""

    low: int
    high: int
    log: bool = False

    def __post_init__(self) -> None:
        if not self.low <= self.high or (self.log and self.low <= 0):
            raise ConfigError(f"int range needs low <= high (and low > 0 for log), got {self.low}, {self.high}")

    def sample(self, rng: np.random.Generator) -> int:
        if self.log:
            return round(math.exp(rng.uniform(math.log(self.low), math.log(self.high + 0.5)) - 1e-12))
        return int(rng.integers(self.low, self.high + 1))

    def grid(self, n: int) -> list[int]:
        vals = np.geomspace(self.low, self.high, n) if self.log else np.linspace(self.low, self.high, n)
        return sorted({round(v) for v in vals})

    def narrow(self, values: list[Any], factor: float = 0.25) -> Param:
        half = max(1, round(factor * (self.high - self.low) / 2))
        lo, hi = max(self.low, int(min(values)) - half), min(self.high, int(max(values)) + half)
        return Int(lo, hi, self.log)

    def to_text(self) -> str:
        return f"int:{self.low}:{self.high}" + (":log" if self.log else "")


def _num(v: float) -> str:
    """Short where that is exact (a stored space is parsed back from this text), else every digit."""
    return f"{v:g}" if float(f"{v:g}") == v else repr(float(v))


def _value(text: str) -> Any:
    if "," in text:
        return tuple(_value(t) for t in text.split(",") if t)
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


_ARGS = {"uniform": "LOW:HIGH", "loguniform": "LOW:HIGH", "int": "LOW:HIGH or LOW:HIGH:log"}


def _number(kind: str, text: str, what: str, where: str) -> float:
    conv = int if kind == "int" else float
    try:
        v = conv(text)
    except ValueError:
        noun = "an integer" if conv is int else "a number"
        raise ConfigError(f"{where}: {what} {text!r} of a {kind} range is not {noun}: use {kind}:{_ARGS[kind]}"
                          ) from None
    if not math.isfinite(v):
        raise ConfigError(f"{where}: {what} {text!r} of a {kind} range must be finite")
    return v


def parse_param(text: str, name: str | None = None) -> Param:
    """``loguniform:1e-4:1e-1``, ``uniform:0:0.5``, ``int:32:256[:log]``, ``choice:a|b|c``.

    Every malformed range is a one-line ``ConfigError`` saying what is wrong: a wrong number
    of fields, a field that is not a number, low above high, a log range that is not positive.
    With ``name`` (the option searched), each end of a range and each choice is checked through
    ``fcnet.train.options.coerce``, so a value the option refuses is refused before any trial runs.
    """
    where = f"--space {name}={text}" if name else f"search range {text!r}"
    kind, _, rest = text.partition(":")
    if kind == "choice":
        values = [v for v in rest.split("|")]
        if not rest or any(v == "" for v in values):
            raise ConfigError(f"{where}: a choice needs values separated by |, e.g. choice:64|128|256")
        param: Param = Choice(tuple(_value(v) for v in values))
    elif kind in _ARGS:
        parts = rest.split(":")
        allowed = (2, 3) if kind == "int" else (2,)
        if len(parts) not in allowed or (len(parts) == 3 and parts[2] != "log"):
            raise ConfigError(f"{where}: a {kind} range takes {_ARGS[kind]}, got {len(parts)} field"
                              f"{'s' if len(parts) != 1 else ''} ({rest!r})")
        low, high = (_number(kind, parts[0], "low", where), _number(kind, parts[1], "high", where))
        if low > high or (low == high and kind != "int"):
            raise ConfigError(f"{where}: low {parts[0]} is {'above' if low > high else 'equal to'} high {parts[1]}:"
                              f" write the range as {kind}:LOW:HIGH with LOW < HIGH")
        if (kind == "loguniform" or len(parts) == 3) and low <= 0:
            raise ConfigError(f"{where}: a log-scale range needs low > 0, got {parts[0]}: use uniform:"
                              f"{parts[0]}:{parts[1]} or a positive low")
        param = (Uniform(low, high) if kind == "uniform" else LogUniform(low, high) if kind == "loguniform"
                 else Int(int(low), int(high), len(parts) == 3))
    else:
        raise ConfigError(f"{where}: unknown search range kind {kind!r}: use choice, uniform, loguniform or int")
    if name is not None:
        check_param(name, param, where)
    return param


def check_param(name: str, param: Param, where: str | None = None) -> None:
    """Check every value ``param`` can produce against option ``name`` (its ends, or each choice)."""
    from fcnet.train.options import coerce

    where = where or f"--space {name}={param.to_text()}"
    values = list(param.values) if isinstance(param, Choice) else [param.low, param.high]  # type: ignore[attr-defined]
    for v in values:
        try:
            coerce(name, list(v) if isinstance(v, tuple) else v)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}") from None


def parse_space(items: list[str]) -> dict[str, Param]:
    """``["lr=loguniform:1e-4:1e-1", ...]`` → a space, every range checked against its option."""
    space = {}
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep or not name.strip():
            raise ConfigError(f"--space takes NAME=KIND:ARGS (e.g. lr=loguniform:1e-4:1e-1), got {item!r}")
        name = name.strip().replace("-", "_")
        if name in space:
            raise ConfigError(f"--space {name} is given twice ({name}={space[name].to_text()} and {item}): "
                              "give each searched option once")
        space[name] = parse_param(spec.strip(), _option(name, f"--space {item}"))
    return space


def _option(name: str, where: str) -> str:
    from fcnet.train.options import OPTIONS

    if name not in OPTIONS:
        raise ConfigError(f"{where}: cannot search {name!r}: it is not a training option (see `fcnet train --help`)")
    return name


def space_from_dict(d: dict[str, Any], source: str = "[space]") -> dict[str, Param]:
    """A space from TOML: values are strings like "loguniform:1e-4:1e-1" or lists (choices)."""
    space: dict[str, Param] = {}
    for k, v in d.items():
        name = _option(k.replace("-", "_"), f"{source}: {k}")
        if isinstance(v, list):
            if not v:
                raise ConfigError(f"{source}: {k} = [] has no choices: list at least one value")
            param: Param = Choice(tuple(tuple(x) if isinstance(x, list) else x for x in v))
            check_param(name, param, f"{source}: {k}")
        else:
            param = parse_param(str(v), name)
        space[name] = param
    return space
