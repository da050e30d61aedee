"""Optimizers (slides 89-123), gradient clipping and learning-rate schedules."""

from fcnet.optim.adagrad import Adagrad
from fcnet.optim.adam import Adam, AdamW
from fcnet.optim.clip import clip_grad_norm, clip_grad_value
from fcnet.optim.momentum import Momentum
from fcnet.optim.optimizer import Optimizer
from fcnet.optim.rmsprop import RMSProp
from fcnet.optim.schedules import CosineLR, LRSchedule, StepLR, TimeBudgetLR, WarmupLR
from fcnet.optim.sgd import SGD

OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adagrad": Adagrad,
}

RMSprop = RMSProp  # PyTorch's spelling

__all__ = [
    "OPTIMIZERS",
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "CosineLR",
    "LRSchedule",
    "Momentum",
    "Optimizer",
    "RMSProp",
    "RMSprop",
    "StepLR",
    "TimeBudgetLR",
    "WarmupLR",
    "clip_grad_norm",
    "clip_grad_value",
]
