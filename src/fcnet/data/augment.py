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

from typing import Any

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
        self._dev: dict[int, tuple[Any, Any, Any]] = {}  # per array module: mean, std, gather offsets
        self._work: dict[tuple[int, int, str], tuple[Any, Any, Any, Any]] = {}  # reused buffers per batch size

    @property
    def num_features(self) -> int:
        """D = H·W·C."""
        h, w, c = self.image_shape
        return h * w * c

    def draw(self, rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(flips (n,) bool, shifts (n, 2) int of (dy, dx)) for ``n`` images, drawn from ``rng``."""
        flips = rng.random(n) < 0.5 if self.flip else np.zeros(n, bool)
        shifts = (rng.integers(-self.shift, self.shift + 1, size=(n, 2)) if self.shift
                  else np.zeros((n, 2), np.int64))
        return flips, shifts

    def apply(self, x: np.ndarray, flips: np.ndarray, shifts: np.ndarray, *, reuse: bool = False) -> np.ndarray:
        """Images ``x`` (N, D) flipped where ``flips`` and moved by ``shifts`` (dy down, dx right).

        Returns a new array and leaves ``x`` as it was; ``reuse=True`` (the training loop's choice)
        writes into buffers kept from the last call instead, so the result is valid only until the
        next call: a fresh array of a mini-batch's size costs page faults worth several times the
        work on some machines.
        """
        if x.ndim != 2 or x.shape[1] != self.num_features:
            raise ValueError(f"expected images flattened to (N, {self.num_features}) for image shape "
                             f"{self.image_shape}, got {tuple(x.shape)}")
        shifts = np.asarray(shifts)
        if len(shifts) and np.abs(shifts).max() > self.shift:
            raise ValueError(f"shifts must lie in [-{self.shift}, {self.shift}], got up to {np.abs(shifts).max()}")
        xp = xp_of(x)
        mean, std, base = self._on(xp)
        h, w, c = self.image_shape
        n, s = len(x), self.shift
        u, pad, idx, out = self._buffers(xp, n, x.dtype, reuse)
        if mean is not None:  # the pixel values u = x σ + μ
            xp.multiply(x, std, out=u)
            u += mean
        else:
            u[...] = x
        img = u.reshape(n, h, w, c) if self.layout == "hwc" else u.reshape(n, c, h, w).transpose(0, 2, 3, 1)
        inner = pad[:, s:s + h, s:s + w]  # the border of s black rows and columns is never written
        xp.copyto(inner, img)
        flips = np.asarray(flips, dtype=bool)
        if flips.any():
            xp.copyto(inner, img[:, :, ::-1], where=xp.asarray(flips).reshape(n, 1, 1, 1))
        # out[h, w] = img[h − dy, w − dx] = pad[h + s − dy, w + s − dx]: one gather by flat index
        top = s - shifts[:, 0].astype(np.int64)
        left = s - shifts[:, 1].astype(np.int64)
        start = np.arange(n, dtype=np.int64) * pad[0].size + (top * (w + 2 * s) + left) * c
        xp.add(base, xp.asarray(start).reshape(n, 1), out=idx)
        xp.take(pad.reshape(-1), idx, out=out)
        if mean is not None:
            out -= mean
            out /= std
        return out

    def __call__(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """One mini-batch augmented with flips and shifts drawn from ``rng``.

        The result lives in this object's buffers: valid until the next call (copy it to keep it).
        """
        return self.apply(x, *self.draw(rng, len(x)), reuse=True)

    def _buffers(self, xp: Any, n: int, dtype: Any, reuse: bool) -> tuple[Any, Any, Any, Any]:
        """(pixel values (N, D), padded images (N, H+2s, W+2s, C), gather indices (N, D), output (N, D))."""
        key = (id(xp), n, np.dtype(dtype).str)
        if reuse and key in self._work:
            return self._work[key]
        h, w, c = self.image_shape
        s, d = self.shift, self.num_features
        bufs = (xp.empty((n, d), dtype), xp.zeros((n, h + 2 * s, w + 2 * s, c), dtype), xp.empty((n, d), np.int64),
                xp.empty((n, d), dtype))
        if reuse:
            self._work = {k: v for k, v in self._work.items() if k[0] != id(xp) or k[1] >= n}  # a full batch
            self._work[key] = bufs  # and the last, smaller one
        return bufs

    def _on(self, xp: Any) -> tuple[Any, Any, Any]:
        """The statistics, and each output feature's place in a padded image, as arrays of ``xp``."""
        key = id(xp)
        if key not in self._dev:
            h, w, c = self.image_shape
            s = self.shift
            hh, ww, cc = np.meshgrid(np.arange(h), np.arange(w), np.arange(c), indexing="ij")
            base = (hh * (w + 2 * s) + ww) * c + cc  # (H, W, C): offset in the padded image
            base = base.reshape(-1) if self.layout == "hwc" else base.transpose(2, 0, 1).reshape(-1)
            conv = (lambda a: a) if xp is np else xp.asarray
            self._dev[key] = (None if self.mean is None else conv(self.mean),
                              None if self.std is None else conv(self.std), conv(base.astype(np.int64)))
        return self._dev[key]
