"""Training plots: loss and accuracy curves, per-layer gradient norms, confusion matrix."""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only; never needs a display
import matplotlib.pyplot as plt
import matplotlib.text
import numpy as np
from PIL import Image

from fcnet.train.io import atomic_write
from fcnet.viz.style import DPI, MAX_HEIGHT_PX, MAX_WIDTH_PX

__all__ = ["confusion_matrix", "plot_confusion", "plot_curves", "plot_grad_norms", "save_figure"]


FONT_PT: dict[str, float] = {}  # path -> the smallest font size (points) of the text saved in that figure


def save_figure(fig: Any, path: str | Path, dpi: int = DPI) -> Path:
    """Save a figure as PNG atomically and close it: at least 100 dpi, at most 1600 × 1200 px.

    A figure that would come out larger than :data:`~fcnet.viz.style.MAX_WIDTH_PX` ×
    :data:`~fcnet.viz.style.MAX_HEIGHT_PX` is shrunk in inches (the text keeps its point size, so it
    stays readable) rather than in dots per inch.  The smallest font of the figure is kept in
    :data:`FONT_PT` so tests can check what a reader will see.
    """
    dpi = max(dpi, 100)
    for _ in range(4):
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        width, height = Image.open(io.BytesIO(buf.getvalue())).size
        if width <= MAX_WIDTH_PX and height <= MAX_HEIGHT_PX:
            break
        w, h = fig.get_size_inches()
        sw = min(1.0, MAX_WIDTH_PX / width * 0.98)
        sh = min(1.0, MAX_HEIGHT_PX / height * 0.98)
        # narrower keeps most of the height (titles wrap less than they shrink); too tall shrinks the height
        fig.set_size_inches(w * sw, h * min(sh, max(sw, 0.8)))
    sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_visible() and t.get_text().strip()]
    FONT_PT[str(Path(path))] = float(min(sizes)) if sizes else 0.0
    plt.close(fig)
    return atomic_write(path, buf.getvalue())


def plot_curves(rows: Sequence[dict[str, Any]], metric: str, path: str | Path, title: str = "") -> Path:
    """``metric`` and ``val_<metric>`` per epoch."""
    epochs = [r["epoch"] for r in rows]
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    ax.plot(epochs, [r.get(metric) for r in rows], "o-", label=f"train {metric}")
    if any(f"val_{metric}" in r for r in rows):
        ax.plot(epochs, [r.get(f"val_{metric}") for r in rows], "s-", label=f"validation {metric}")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    ax.set_title(title or metric)
    ax.grid(alpha=0.3)
    ax.legend()
    return save_figure(fig, path)


def plot_grad_norms(rows: Sequence[dict[str, Any]], path: str | Path) -> Path:
    """Per-layer mean weight-gradient norm per epoch, log scale (slides 82-88)."""
    keys = sorted({k for r in rows for k in r if k.startswith("grad_norm/")},
                  key=lambda k: int(k.split("/")[1]) if k.split("/")[1].isdigit() else 0)
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for k in keys:
        ax.semilogy([r["epoch"] for r in rows if k in r], [r[k] for r in rows if k in r], "o-",
                    label=f"layer {k.split('/')[1]}")
    ax.set_xlabel("epoch")
    ax.set_ylabel("‖∂L/∂W‖ (mean over steps)")
    ax.set_title("gradient norm per layer")
    ax.grid(alpha=0.3, which="both")
    if keys:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, "no gradients recorded", ha="center", va="center", transform=ax.transAxes)
    return save_figure(fig, path)


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts M[i, j] of samples of class i predicted as j, for classes 0..num_classes-1.

    What ``sklearn.metrics.confusion_matrix(y_true, y_pred, labels=range(num_classes))`` counts (a
    sample whose true or predicted label is not among the classes is left out), without importing
    scikit-learn (about 1.7 s) at the end of every ``fcnet train``.
    """
    n = int(num_classes)
    t, p = _class_indices(y_true, "y_true", n), _class_indices(y_pred, "y_pred", n)
    if len(t) != len(p):
        raise ValueError(f"y_true has {len(t)} labels but y_pred {len(p)}: pass one prediction per sample")
    known = (t >= 0) & (t < n)
    if len(t) and not known.any():
        raise ValueError(f"no label of y_true is a class 0..{n - 1}: pass labels as class indices")
    keep = known & (p >= 0) & (p < n)
    pairs = t[keep].astype(np.int64) * n + p[keep].astype(np.int64)
    return np.bincount(pairs, minlength=n * n).reshape(n, n).astype(np.int64, copy=False)


def _class_indices(labels: np.ndarray, name: str, n: int) -> np.ndarray:
    """``labels`` flattened, refused unless whole numbers (integers, or floats such as 2.0, as scikit-learn takes)."""
    a = np.asarray(labels).reshape(-1)
    if a.dtype.kind in "biu":
        return a
    if a.dtype.kind == "O":  # Python numbers in an object array: compared as numbers
        try:
            a = a.astype(np.float64)
        except (TypeError, ValueError):
            pass
    if a.dtype.kind == "f":
        bad = ~np.isfinite(a) | (a != np.floor(a))
        if not bad.any():
            return a
        raise ValueError(f"{name} must hold whole class indices 0..{n - 1}, got {float(a[bad][0])}: "
                         f"pass class indices (e.g. the argmax of the scores), not scores or probabilities")
    raise ValueError(f"{name} must hold whole class indices 0..{n - 1}, got an array of {a.dtype}: "
                     f"map the labels to class indices first")


def plot_confusion(matrix: np.ndarray, classes: Sequence[str], path: str | Path, title: str = "") -> Path:
    """Confusion matrix with counts; rows are true classes."""
    c = len(classes)
    fig, ax = plt.subplots(figsize=(1.0 + 0.55 * c, 0.8 + 0.5 * c))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(range(c), classes, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(c), classes, fontsize=8)
    hi = matrix.max() if matrix.size else 0
    for i in range(c):
        for j in range(c):
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center", fontsize=7,
                    color="white" if matrix[i, j] > hi / 2 else "black")
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    acc = np.trace(matrix) / max(matrix.sum(), 1)
    ax.set_title(title or f"confusion matrix (accuracy {acc:.2%})")
    return save_figure(fig, path)
