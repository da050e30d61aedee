"""Helpers shared by the labs: quick training on arrays, data, figures."""

from __future__ import annotations

from typing import Any

import numpy as np

import fcnet
from fcnet import data, nn, optim
from fcnet.train.trainer import Trainer

__all__ = ["accuracy", "image_data", "train"]


def image_data(name: str = "digits", n_train: int | None = None, seed: int = 0) -> data.Dataset:
    """A real image data set with standardised float32 inputs (train, test) attached."""
    ds = data.load(name).subset(n_train, seed=seed)
    pre = ds.preprocess.fit(ds.x_train)
    ds.xs_train, ds.xs_test = pre.apply(ds.x_train), pre.apply(ds.x_test)  # type: ignore[attr-defined]
    return ds


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, lr: float = 1e-2, opt: str = "adam",
          batch_size: int = 64, seed: int = 0, val: tuple[np.ndarray, np.ndarray] | None = None,
          l2: float = 0.0, clip_norm: float | None = None, callbacks: list[Any] | None = None) -> list[dict]:
    """Train quietly; returns the history rows."""
    o = optim.OPTIMIZERS[opt](model.parameters(), lr=lr)
    t = Trainer(model, o, l2=l2, clip_norm=clip_norm, seed=seed, progress=False, log=lambda m: None,
                callbacks=callbacks or [])
    t.fit(x, y, epochs, batch_size, val)
    return t.history.rows


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction classified correctly (evaluation mode)."""
    model.eval()
    with fcnet.no_grad():
        pred = model(fcnet.tensor(x)).numpy().argmax(axis=1)
    model.train()
    return float((pred == y).mean())
