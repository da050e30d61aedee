"""Learning-rate schedules: small objects that set ``optimizer.lr`` each ``step()``.

Call ``step()`` once per epoch (or per iteration: the unit is yours); the learning rate
for step t is ``lr_at(t)``.
"""

from __future__ import annotations

import abc
import math
from typing import Any

from fcnet.optim.optimizer import Optimizer

__all__ = ["CosineLR", "LRSchedule", "StepLR", "WarmupLR"]


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
