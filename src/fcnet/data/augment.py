"""Data augmentation of flattened images: a random horizontal flip and a random pixel shift.

``fcnet train --augment`` (TOML ``augment = true``) draws, for every training image of every
mini-batch, a flip (probability 1/2) and a shift (dy, dx), each uniform in {-s, ..., s}
(``--augment-shift s``), from the run's own generator (the one that shuffles the batches), so a
seeded run is reproducible and a resumed run continues the same draws.  Validation and test
images are never augmented.  Keras's ``RandomFlip("horizontal")`` + ``RandomTranslation`` and
torchvision's ``RandomHorizontalFlip`` + ``RandomAffine(translate=...)`` (integer shifts, zero
fill) do the same.

The model sees standardised features x_d = (u_d − μ_d) / σ_d of the pixel values u_d
(``Preprocess``), and a moved pixel must be standardised with the statistics of the place
it moves to.  So each image is taken back to pixel values u = x σ + μ, moved, and standardised
again; pixels moved in from outside the image are black (u = 0):

    flip:   u'[h, w] = u[h, W − 1 − w]
    shift:  u''[h, w] = u'[h − dy, w − dx]   (0 where h − dy or w − dx falls outside the image)
    x'' = (u'' − μ) / σ
"""

from __future__ import annotations

import numpy as np

from fcnet.backend import xp_of

__all__ = ["ImageAugment"]


class ImageAugment:
    """Random horizontal flip and shift of flattened images (N, H·W·C), drawn per image.

    Args:
        image_shape: (H, W, C) of one image.
        layout: "hwc" or "chw", the order in which an image is flattened (``Preprocess.layout``).
        flip: flip each image left-right with probability 1/2.
        shift: the largest shift s in pixels; dy and dx are uniform in {-s, ..., s} (0: no shift).
        mean, std: the per-feature standardisation (D,) of the inputs, None for raw inputs.

    Example:
        >>> import numpy as np
        >>> aug = ImageAugment((2, 3, 1), flip=True, shift=0)
        >>> aug.apply(np.arange(6, dtype=np.float32)[None], np.array([True]), np.zeros((1, 2), int))
        array([[2., 1., 0., 5., 4., 3.]], dtype=float32)
    """

    def __init__(self, image_shape: tuple[int, int, int], layout: str = "hwc", *, flip: bool = True,
                 shift: int = 2, mean: np.ndarray | None = None, std: np.ndarray | None = None) -> None:
        if len(image_shape) != 3 or min(image_shape) < 1:
            raise ValueError(f"image_shape must be (H, W, C) with positive sizes, got {image_shape}")
        if layout not in ("hwc", "chw"):
            raise ValueError(f"layout must be 'hwc' or 'chw', got {layout!r}")
        if shift < 0:
            raise ValueError(f"shift must be ≥ 0 pixels, got {shift}")
        self.image_shape = tuple(int(v) for v in image_shape)
        self.layout, self.flip, self.shift = layout, bool(flip), int(shift)
        self.mean = None if mean is None else np.asarray(mean, np.float32)
        self.std = None if std is None else np.asarray(std, np.float32)
        self._maps = self._source_maps()
        self._dev: dict[int, tuple[object, object, object]] = {}  # per array module: maps, mean, std

    @property
    def num_features(self) -> int:
        """D = H·W·C."""
        h, w, c = self.image_shape
        return h * w * c

    def _source_maps(self) -> np.ndarray:
        """For each (flip, dy, dx): the feature each output feature is read from (D: a black pixel).

        Shape (2, 2s+1, 2s+1, D); index [f, dy + s, dx + s].
        """
        h, w, c = self.image_shape
        d, s = self.num_features, self.shift
        ids = np.arange(d)
        grid = ids.reshape(h, w, c) if self.layout == "hwc" else ids.reshape(c, h, w).transpose(1, 2, 0)
        maps = np.full((2, 2 * s + 1, 2 * s + 1, h, w, c), d, dtype=np.intp)
        for f in (0, 1):
            src = grid[:, ::-1] if f else grid
            for dy in range(-s, s + 1):
                for dx in range(-s, s + 1):
                    if abs(dy) >= h or abs(dx) >= w:
                        continue  # moved wholly out: all black
                    maps[f, dy + s, dx + s, max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
                        src[max(-dy, 0):h - max(dy, 0), max(-dx, 0):w - max(dx, 0)]
        if self.layout == "chw":
            maps = maps.transpose(0, 1, 2, 5, 3, 4)
        return np.ascontiguousarray(maps.reshape(2, 2 * s + 1, 2 * s + 1, d))

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(flips (n,) bool, shifts (n, 2) int of (dy, dx)) for ``n`` images, drawn from ``rng``."""
        flips = rng.random(n) < 0.5 if self.flip else np.zeros(n, bool)
        shifts = (rng.integers(-self.shift, self.shift + 1, size=(n, 2)) if self.shift
                  else np.zeros((n, 2), np.int64))
        return flips, shifts

    def apply(self, x: np.ndarray, flips: np.ndarray, shifts: np.ndarray) -> np.ndarray:
        """Images ``x`` (N, D) flipped where ``flips`` and moved by ``shifts`` (dy down, dx right).

        Returns a new array; ``x`` is left as it was.
        """
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"expected images flattened to (N, {self.num_features}) for image shape "
                             f"{self.image_shape}, got {tuple(x.shape)}")
        shifts = np.asarray(shifts)
        if len(shifts) and np.abs(shifts).max() > self.shift:
            raise ValueError(f"shifts must lie in [-{self.shift}, {self.shift}], got up to {np.abs(shifts).max()}")
        xp = xp_of(x)
        maps, mean, std = self._on(xp)
        s = self.shift
        code = np.asarray(flips, np.intp) * (2 * s + 1) ** 2 + (shifts[:, 0] + s) * (2 * s + 1) + (shifts[:, 1] + s)
        idx = maps.reshape(-1, self.num_features)[xp.asarray(code)]  # (N, D) source features
        u = x * std + mean if mean is not None else x
        padded = xp.concatenate([u, xp.zeros((len(x), 1), dtype=x.dtype)], axis=1)  # feature D: black
        out = xp.take_along_axis(padded, idx, axis=1)
        if mean is not None:
            out -= mean
            out /= std
        return out

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """``apply`` with flips and shifts drawn from ``rng``: one mini-batch augmented."""
        return self.apply(x, *self.draw(rng, len(x)))

    def _on(self, xp: object) -> tuple[object, object, object]:
        """The maps and statistics as arrays of ``xp`` (numpy or cupy), made once per module."""
        key = id(xp)
        if key not in self._dev:
            conv = (lambda a: a) if xp is np else xp.asarray  # type: ignore[attr-defined]
            self._dev[key] = (conv(self._maps), None if self.mean is None else conv(self.mean),
                              None if self.std is None else conv(self.std))
        return self._dev[key]
