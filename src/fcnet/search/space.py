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

__all__ = ["Choice", "Int", "LogUniform", "Param", "Uniform", "parse_param", "parse_space", "space_from_dict"]


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
        return f"{self.kind}:{self.low:g}:{self.high:g}"


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


def _value(text: str) -> Any:
    if "," in text:
        return tuple(_value(t) for t in text.split(",") if t)
    for conv in (int, float):
        try:
            return conv(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def parse_param(text: str) -> Param:
    """``loguniform:1e-4:1e-1``, ``uniform:0:0.5``, ``int:32:256[:log]``, ``choice:a|b|c``."""
    kind, _, rest = text.partition(":")
    try:
        if kind == "choice":
            return Choice(tuple(_value(v) for v in rest.split("|")))
        parts = rest.split(":")
        if kind == "uniform":
            return Uniform(float(parts[0]), float(parts[1]))
        if kind == "loguniform":
            return LogUniform(float(parts[0]), float(parts[1]))
        if kind == "int":
            return Int(int(parts[0]), int(parts[1]), len(parts) > 2 and parts[2] == "log")
    except (ValueError, IndexError):
        raise ConfigError(f"cannot read search range {text!r}: use e.g. loguniform:1e-4:1e-1, uniform:0:0.5, "
                          "int:32:256 or choice:a|b") from None
    raise ConfigError(f"unknown search range kind {kind!r} in {text!r}: use choice, uniform, loguniform or int")


def parse_space(items: list[str]) -> dict[str, Param]:
    """``["lr=loguniform:1e-4:1e-1", ...]`` → a space."""
    space = {}
    for item in items:
        name, sep, spec = item.partition("=")
        if not sep:
            raise ConfigError(f"--space takes NAME=KIND:..., got {item!r}")
        space[name.strip().replace("-", "_")] = parse_param(spec.strip())
    return space


def space_from_dict(d: dict[str, Any]) -> dict[str, Param]:
    """A space from TOML: values are strings like "loguniform:1e-4:1e-1" or lists (choices)."""
    return {k.replace("-", "_"): (Choice(tuple(tuple(x) if isinstance(x, list) else x for x in v))
                                  if isinstance(v, list) else parse_param(str(v))) for k, v in d.items()}
