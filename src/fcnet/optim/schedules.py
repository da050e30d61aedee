"""Learning-rate schedules: small objects that set ``optimizer.lr`` each ``step()``.

Call ``step()`` once per epoch (or per iteration: the unit is yours); the learning rate
for step t is ``lr_at(t)``.  ``TimeBudgetLR`` runs any of them on the fraction of a time
budget used instead of a step count (``seek(seconds)``).
"""

from __future__ import annotations

import abc
import math
from typing import Any

from fcnet.optim.optimizer import Optimizer

__all__ = ["CosineLR", "LRSchedule", "StepLR", "TimeBudgetLR", "WarmupLR"]


class LRSchedule(abc.ABC):
    """Base: ``lr_at(t)`` gives ε at step t from the optimizer's initial ε₀ (``base_lr``)."""

    def __init__(self, optimizer: Optimizer) -> None:
        self.optimizer = optimizer
        self.base_lr = optimizer.lr
        self.t = 0
        optimizer.lr = self.lr_at(0)

    @abc.abstractmethod
    def lr_at(self, t: int) -> float:
        """The learning rate at step t."""

    def step(self) -> float:
        """Advance one step and set the optimizer's learning rate; returns it."""
        self.t += 1
        self.optimizer.lr = self.lr_at(self.t)
        return self.optimizer.lr

    def state_dict(self) -> dict[str, Any]:
        """``{"t", "base_lr"}``."""
        return {"t": self.t, "base_lr": self.base_lr}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore the step count and set the learning rate for it."""
        self.t, self.base_lr = int(sd["t"]), float(sd["base_lr"])
        self.optimizer.lr = self.lr_at(self.t)


class StepLR(LRSchedule):
    """ε_t = ε₀ γ^⌊t / step_size⌋."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1) -> None:
        if step_size <= 0:
            raise ValueError(f"step_size must be positive, got {step_size}")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer)

    def lr_at(self, t: int) -> float:
        return self.base_lr * self.gamma ** (t // self.step_size)


class CosineLR(LRSchedule):
    """ε_t = ε_min + (ε₀ − ε_min)(1 + cos(π t / T)) / 2 for t ≤ T, then ε_min."""

    def __init__(self, optimizer: Optimizer, total_steps: int, min_lr: float = 0.0) -> None:
        if total_steps <= 0:
            raise ValueError(f"total_steps must be positive, got {total_steps}")
        self.total_steps, self.min_lr = int(total_steps), float(min_lr)
        super().__init__(optimizer)

    def lr_at(self, t: int) -> float:
        t = min(t, self.total_steps)
        return self.min_lr + (self.base_lr - self.min_lr) * (1 + math.cos(math.pi * t / self.total_steps)) / 2


class WarmupLR(LRSchedule):
    """Linear warm-up ε_t = ε₀ (t + 1) / W for t < W, then ``after``'s schedule (or ε₀)."""

    def __init__(self, optimizer: Optimizer, warmup_steps: int,
                 after: LRSchedule | None = None) -> None:
        if warmup_steps <= 0:
            raise ValueError(f"warmup_steps must be positive, got {warmup_steps}")
        self.warmup_steps, self.after = int(warmup_steps), after
        super().__init__(optimizer)

    def lr_at(self, t: int) -> float:
        if t < self.warmup_steps:
            return self.base_lr * (t + 1) / self.warmup_steps
        if self.after is None:
            return self.base_lr
        return self.after.lr_at(t - self.warmup_steps)

    def state_dict(self) -> dict[str, Any]:
        """``{"t", "base_lr", "after"}``: the following schedule's ε₀ may differ (``recipe.set_lr``)."""
        sd = super().state_dict()
        if self.after is not None:
            sd["after"] = self.after.state_dict()
        return sd

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore ``state_dict`` (the following schedule's part too)."""
        if self.after is not None and "after" in sd:
            self.after.load_state_dict(sd["after"])
        super().load_state_dict(sd)


class TimeBudgetLR(LRSchedule):
    """ε at τ seconds of a budget of T seconds: ``schedule``'s ε at step S min(τ / T, 1).

    ``schedule`` is any schedule laid out over ``total_steps`` steps S (e.g. warm-up then
    cosine over the steps of ``epochs`` epochs); the budget stretches or squeezes it onto the
    time actually available, so the learning rate has decayed when the budget is used up,
    however fast the machine.  Advance it with ``seek(seconds_used)``, not ``step()``.
    """

    def __init__(self, schedule: LRSchedule, seconds: float, total_steps: int) -> None:
        if not seconds > 0:
            raise ValueError(f"the time budget must be positive, got {seconds}")
        if total_steps <= 0:
            raise ValueError(f"total_steps must be positive, got {total_steps}")
        self.schedule, self.seconds, self.total_steps = schedule, float(seconds), int(total_steps)
        self.used = 0.0
        super().__init__(schedule.optimizer)

    def lr_at(self, t: float) -> float:  # type: ignore[override]
        """The learning rate at (fractional) step t of the inner schedule."""
        return self.schedule.lr_at(t)

    def fraction(self, seconds: float) -> float:
        """min(τ / T, 1): the share of the budget that ``seconds`` used."""
        return min(seconds / self.seconds, 1.0)

    def seek(self, seconds: float) -> float:
        """Set ε for ``seconds`` of the budget used; returns it."""
        self.used = float(seconds)
        self.t = self.fraction(self.used) * self.total_steps  # type: ignore[assignment]
        self.optimizer.lr = self.lr_at(self.t)
        return self.optimizer.lr

    def step(self) -> float:
        raise TypeError("a TimeBudgetLR follows the clock: call seek(seconds_used) instead of step()")

    def state_dict(self) -> dict[str, Any]:
        """``{"t", "base_lr", "used", "schedule"}``."""
        return {"t": self.t, "base_lr": self.base_lr, "used": self.used, "schedule": self.schedule.state_dict()}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        """Restore ``state_dict``: the inner schedule's ε₀, then ε for the seconds used."""
        self.schedule.load_state_dict(sd["schedule"])
        self.base_lr = float(sd["base_lr"])
        self.seek(float(sd["used"]))
