"""``Dataset`` (train/test arrays flattened to vectors) and its preprocessing."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fcnet.errors import DataError

__all__ = ["Dataset", "Preprocess", "check_arrays", "split"]


@dataclass
class Preprocess:
    """How raw inputs become model inputs: x ← (x / scale − mean) / std, per feature.

    ``image_shape`` (H, W, C) and ``layout`` ("hwc" or "chw", the flattening order) say how
    an image file maps to a vector (slide 2); both are None for non-image data.
    """

    scale: float = 1.0
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    image_shape: tuple[int, int, int] | None = None
    layout: str = "hwc"

    def fit(self, x_raw: np.ndarray) -> Preprocess:
        """Set μ_d and σ_d = √((1/N) Σ_i (x_id − μ_d)²) per feature of x / scale, in two passes.

        Two passes over float64 row blocks (no full copy): the mean first, then the squared
        deviations from it, so a feature with a large offset keeps its variance, where
        E[x²] − μ² cancels to noise.  scikit-learn's ``StandardScaler`` computes the same
        (stably) but its NaN-aware reductions took 11 s on Fashion-MNIST's 60000 x 784 here,
        against 0.7 s for these two passes; NaN never reaches this point (``check_arrays``).
        """
        n, d = x_raw.shape
        blocks = range(0, n, 4096)
        total = np.zeros(d)
        for s in blocks:
            total += (x_raw[s:s + 4096].astype(np.float64) / self.scale).sum(axis=0)
        mean = total / max(n, 1)
        squares = np.zeros(d)
        for s in blocks:
            dev = x_raw[s:s + 4096].astype(np.float64) / self.scale
            dev -= mean
            squares += np.einsum("ij,ij->j", dev, dev)
        std = np.sqrt(squares / max(n, 1))
        self.mean = mean.astype(np.float32)
        self.std = np.where(std < 1e-6, 1.0, std).astype(np.float32)  # constant pixels stay 0
        return self

    def apply(self, x_raw: np.ndarray) -> np.ndarray:
        """Scaled and standardised float32 copy of raw inputs (N, D), computed in place."""
        out = np.array(x_raw, dtype=np.float32)
        out *= np.float32(1.0 / self.scale)
        if self.mean is not None:
            out -= self.mean
            out /= self.std
        return out

    def to_json(self) -> dict[str, Any]:
        """The JSON part (mean and std go to safetensors)."""
        return {"scale": self.scale, "image_shape": list(self.image_shape) if self.image_shape else None,
                "layout": self.layout, "standardize": self.mean is not None}

    @classmethod
    def from_json(cls, d: dict[str, Any], mean: np.ndarray | None = None,
                  std: np.ndarray | None = None) -> Preprocess:
        """Rebuild from ``to_json`` and the saved arrays."""
        shape = tuple(d["image_shape"]) if d.get("image_shape") else None
        return cls(scale=float(d.get("scale", 1.0)), mean=mean, std=std, image_shape=shape,  # type: ignore[arg-type]
                   layout=d.get("layout", "hwc"))


@dataclass
class Dataset:
    """A classification data set: raw train/test inputs (N, D) and integer labels.

    Inputs are raw (pixels 0-255 or 0-16); ``preprocess`` scales and standardises them.
    """

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    classes: list[str]
    preprocess: Preprocess = field(default_factory=Preprocess)
    source: str = ""

    @property
    def num_features(self) -> int:
        """D."""
        return int(self.x_train.shape[1])

    @property
    def num_classes(self) -> int:
        """C."""
        return len(self.classes)

    def subset(self, n: int | None, seed: int = 0) -> Dataset:
        """The first ``n`` training samples of a seeded permutation (the test set stays whole)."""
        if n is None or n >= len(self.y_train):
            return self
        if n <= 0:
            raise DataError(f"subset size must be positive, got {n}")
        idx = np.random.default_rng(seed).permutation(len(self.y_train))[:n]
        return Dataset(self.name, self.x_train[idx], self.y_train[idx], self.x_test, self.y_test,
                       self.classes, self.preprocess, self.source)


def check_arrays(x: np.ndarray, y: np.ndarray, num_classes: int | None, where: str) -> None:
    """Raise a one-line DataError for shapes, NaN/inf features or labels out of range."""
    if x.ndim != 2:
        raise DataError(f"{where}: features must be a 2-D array (N, D), got shape {x.shape}")
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{where}: labels must be a vector of N={len(x)} entries, got shape {y.shape}")
    if x.dtype.kind == "f":
        bad = ~np.isfinite(x)
        if bad.any():
            row = int(np.argwhere(bad)[0][0])
            raise DataError(f"{where}: features contain NaN or inf (first at row {row}); "
                            "remove or impute those values first")
    if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
        raise DataError(f"{where}: labels must be integer class indices, found non-integer values")
    if len(y) and (y.min() < 0 or (num_classes is not None and y.max() >= num_classes)):
        hi = "" if num_classes is None else f", {num_classes - 1}"
        raise DataError(f"{where}: labels out of range: found {int(y.min())}..{int(y.max())}, "
                        f"expected 0{hi or '..C-1'}")


def split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Carve a seeded validation split: (x_train, y_train, x_val, y_val)."""
    if not 0.0 < fraction < 1.0:
        raise DataError(f"validation fraction must be in (0, 1), got {fraction}")
    n = len(y)
    n_val = max(1, round(n * fraction))
    perm = np.random.default_rng(seed).permutation(n)
    val, tr = np.sort(perm[:n_val]), np.sort(perm[n_val:])
    return x[tr], y[tr], x[val], y[val]
