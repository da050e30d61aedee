"""The only module that knows NumPy from CuPy.

Everything else asks this module for the array namespace (``xp``) of an array or a device,
for a random generator, or for a host copy of an array; no other module imports CuPy.
"""

from __future__ import annotations

import importlib
from typing import Any

import numpy as np

__all__ = [
    "Generator",
    "available_devices",
    "default_generator",
    "device_of",
    "get_generator",
    "manual_seed",
    "to_numpy",
    "xp_for",
    "xp_of",
]

_cupy: Any = None
_cupy_checked = False


def _load_cupy() -> Any:
    """Import CuPy once; return the module, or None when it (or a GPU) is unavailable."""
    global _cupy, _cupy_checked
    if not _cupy_checked:
        _cupy_checked = True
        try:
            cp = importlib.import_module("cupy")
            if cp.cuda.runtime.getDeviceCount() > 0:
                _cupy = cp
        except Exception:
            _cupy = None
    return _cupy


def available_devices() -> list[str]:
    """Devices fcnet can compute on here: always ``"cpu"``, plus ``"cuda"`` with CuPy and a GPU."""
    return ["cpu", "cuda"] if _load_cupy() is not None else ["cpu"]


def xp_for(device: str | None) -> Any:
    """Array namespace for a device name: NumPy for ``"cpu"`` (or None), CuPy for ``"cuda"``."""
    if device is None or device == "cpu":
        return np
    if device in ("cuda", "gpu") or str(device).startswith("cuda:"):
        cp = _load_cupy()
        if cp is None:
            raise RuntimeError(
                f"device {device!r} needs CuPy and an NVIDIA GPU, and none is usable here; "
                "install the extra with `pip install fcnet[gpu]` on a machine with a GPU, "
                "or use device='cpu'"
            )
        return cp
    raise ValueError(f"unknown device {device!r}: use 'cpu' or 'cuda'")


def xp_of(array: Any) -> Any:
    """Array namespace (NumPy or CuPy) that owns ``array``."""
    if isinstance(array, np.ndarray | np.generic) or _cupy is None:
        return np
    return _cupy if isinstance(array, _cupy.ndarray) else np


def device_of(array: Any) -> str:
    """``"cpu"`` or ``"cuda"`` for an array."""
    return "cpu" if xp_of(array) is np else "cuda"


def to_numpy(array: Any) -> np.ndarray:
    """A NumPy copy (or the array itself when it already lives on the host)."""
    if xp_of(array) is np:
        return np.asarray(array)
    return array.get()


def to_device(array: Any, device: str) -> Any:
    """The array on ``device`` (no copy when it is already there)."""
    xp = xp_for(device)
    if xp is np:
        return to_numpy(array)
    return xp.asarray(array)


# --- randomness -------------------------------------------------------------------------
# All randomness goes through explicit NumPy generators (host side, so the same seed gives
# the same bits on every device).  fcnet.manual_seed(n) reseeds the default one.

Generator = np.random.Generator
_default = np.random.default_rng(0)


def manual_seed(seed: int) -> Generator:
    """Reseed fcnet's default generator (``torch.manual_seed``'s counterpart) and return it."""
    global _default
    _default = np.random.default_rng(seed)
    return _default


def default_generator() -> Generator:
    """The generator used when a function is given none."""
    return _default


def get_generator(rng: Generator | int | None) -> Generator:
    """A generator from a generator, a seed, or None (the default generator)."""
    if rng is None:
        return _default
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer):
        return np.random.default_rng(int(rng))
    raise TypeError(f"expected a numpy Generator, an int seed or None, got {type(rng).__name__}")
