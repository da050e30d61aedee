"""Helpers shared by the labs: quick training on arrays, data, figures."""

from __future__ import annotations

from contextvars import ContextVar
from typing import Any

import numpy as np

import fcnet
from fcnet import data, nn, optim
from fcnet.i18n import LANGS, get_lang, set_lang, term, tr
from fcnet.train.trainer import Trainer

__all__ = ["LANGS", "accuracy", "figures_in_english", "get_lang", "image_data", "set_figures_in_english", "set_lang",
           "slide_title", "term", "tr", "train"]

_FIGURES_EN: ContextVar[bool] = ContextVar("fcnet_lab_figures_en", default=False)


def set_figures_in_english(on: bool) -> None:
    """Draw figures in English whatever the text language (no CJK font to draw Chinese with)."""
    _FIGURES_EN.set(bool(on))


def figures_in_english() -> bool:
    """Whether figures fall back to English while the text is Chinese."""
    return _FIGURES_EN.get() and get_lang() == "zh"


def slide_title(slides: str, en: str, zh: str) -> str:
    """A figure title that names its slides and states the claim: "Slide 167: ..." / "第167页: ..."."""
    many = "-" in slides or "," in slides
    head = tr(f"Slide{'s' if many else ''} {slides}", f"第{slides}页")
    return f"{head}: {tr(en, zh)}"


def image_data(name: str = "digits", n_train: int | None = None, seed: int = 0) -> data.Dataset:
    """A real image data set with standardised float32 inputs (train, test) attached."""
    ds = data.load(name).subset(n_train, seed=seed)
    pre = ds.preprocess.fit(ds.x_train)
    ds.xs_train, ds.xs_test = pre.apply(ds.x_train), pre.apply(ds.x_test)  # type: ignore[attr-defined]
    return ds


def train(model: nn.Module, x: np.ndarray, y: np.ndarray, epochs: int, lr: float = 1e-2, opt: str = "adam",
          batch_size: int = 64, seed: int = 0, val: tuple[np.ndarray, np.ndarray] | None = None,
          l2: float = 0.0, l1: float = 0.0, clip_norm: float | None = None,
          callbacks: list[Any] | None = None) -> list[dict]:
    """Train quietly; returns the history rows."""
    o = optim.OPTIMIZERS[opt](model.parameters(), lr=lr)
    t = Trainer(model, o, l2=l2, l1=l1, clip_norm=clip_norm, seed=seed, progress=False, log=lambda m: None,
                callbacks=callbacks or [])
    t.fit(x, y, batch_size, epochs, validation_data=val)
    return t.history.rows


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Fraction classified correctly (evaluation mode)."""
    model.eval()
    with fcnet.no_grad():
        pred = model(fcnet.tensor(x)).numpy().argmax(axis=1)
    model.train()
    return float((pred == y).mean())
