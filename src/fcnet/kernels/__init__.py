"""CPU kernels for the work around the matrix products, chosen once per process.

``FCNET_KERNELS=numba`` (the default) runs the optimizer updates, the activation backwards
(ReLU, leaky ReLU, sigmoid, tanh), bias + activation in place on a layer's product when there
is no graph (inference), batch norm, dropout's mask and the softmax-cross-entropy gate as
compiled one-pass loops (``jitted.py``); ``FCNET_KERNELS=numpy`` runs the NumPy code written
beside each gate and optimizer, which stays the reference the tests compare the compiled path with.  When Numba
is missing or fails to load, fcnet warns once and runs the NumPy path.  The compiled kernels
take float32 and float64 arrays only (Numba has no float16 arithmetic): every caller asks
``for_arrays(...)``, so float16 and any other dtype run the NumPy reference.

Numba caches what it compiles on disk; when the package directory is not writable (a system
install), the cache goes to ``$XDG_CACHE_HOME/fcnet/numba`` (``~/.cache/fcnet/numba``).
"""

from __future__ import annotations

import os
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from fcnet.errors import ConfigError

__all__ = ["DTYPES", "PATHS", "active", "compiled", "for_arrays", "use", "warm_up"]

PATHS = ("numba", "numpy")
#: the dtypes the compiled kernels are built for
DTYPES = ("float32", "float64")

_module: Any = None
_NP_DTYPES = frozenset(np.dtype(d) for d in DTYPES)
_path: str | None = None


def _choose(want: str | None = None) -> None:
    global _module, _path
    if want is None:
        want = os.environ.get("FCNET_KERNELS", "numba").strip().lower() or "numba"
        if want not in PATHS:
            raise ConfigError(f"FCNET_KERNELS={want!r} is not a kernel path: set it to 'numba' or 'numpy'")
    _module = None
    if want == "numpy":
        _path = "numpy"
        return
    _cache_dir()
    try:
        from fcnet.kernels import jitted as module
    except Exception as exc:  # ImportError, or a Numba that does not match this NumPy
        warnings.warn(f"Numba is unusable here ({type(exc).__name__}: {exc}); fcnet runs its NumPy kernels "
                      "(pip install numba, or set FCNET_KERNELS=numpy to silence this)", RuntimeWarning,
                      stacklevel=3)
        _path = "numpy"
        return
    _module, _path = module, "numba"


def _cache_dir() -> None:
    """Point Numba's disk cache at a writable directory when the package's own is not."""
    if "NUMBA_CACHE_DIR" in os.environ or os.access(Path(__file__).parent, os.W_OK):
        return
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    os.environ["NUMBA_CACHE_DIR"] = str(base / "fcnet" / "numba")


def use(path: str | None) -> str:
    """Switch this process to kernel path ``"numba"`` or ``"numpy"``; return the path now active.

    None reads ``FCNET_KERNELS`` again; the answer is ``"numpy"`` when Numba is unusable.
    """
    if path is not None and path not in PATHS:
        raise ValueError(f"unknown kernel path {path!r}: use 'numba' or 'numpy'")
    _choose(path)
    return active()


def active() -> str:
    """The kernel path this process runs: ``"numba"`` or ``"numpy"``."""
    if _path is None:
        _choose()
    return _path  # type: ignore[return-value]


def compiled() -> Any:
    """The compiled kernels module, or None on the NumPy path."""
    if _path is None:
        _choose()
    return _module


def for_arrays(*arrays: Any) -> Any:
    """The compiled kernels module when every array is a NumPy float32/float64 array, else None."""
    module = _module if _path is not None else compiled()
    if module is None:
        return None
    for a in arrays:
        # called by every gate on the training path: a type test and a dtype lookup, no isinstance chain
        if (type(a) is not np.ndarray and not isinstance(a, np.ndarray)) or a.dtype not in _NP_DTYPES:
            return None
    return module


def warm_up(dtype: Any = "float32") -> float:
    """Compile (or load from the disk cache) the kernels a float net trains with; return the seconds."""
    module = compiled()
    if module is None:
        return 0.0
    t = time.perf_counter()
    f = np.dtype(dtype).type
    a, b, c, d = (np.ones(4, dtype) for _ in range(4))
    one, zero = f(1), f(0)
    module.sgd(a, b, one, zero)
    module.momentum(a, b, c, one, one, zero, True)
    module.rmsprop(a, b, c, one, one, one, zero)
    module.adam(a, b, c, d, one, one, one, zero, one, one, True)
    module.relu_forward(a, b)
    module.relu_backward(a, b, c)
    module.relu_backward_bias(a.reshape(2, 2), b.reshape(2, 2), c.reshape(2, 2), d[:2])
    module.leaky_relu_backward(a, b > 0, one, c)
    module.sigmoid_backward(a, b, c)
    module.tanh_backward(a, b, c)
    s, p = np.ones((2, 2), dtype), np.empty((2, 2), dtype)
    t2 = np.zeros(2, np.int64)
    module.softmax_ce_forward(s, t2, zero, a[:2], p)
    module.softmax_ce_backward(p, t2, zero, one, one, s)
    for kind in range(5):
        module.bias_activation(p, a[:2], kind, one)
    x2, y2 = np.ones((2, 2), dtype), np.empty((2, 2), dtype)
    module.batch_norm_forward(x2, a[:2], b[:2], one, y2, p, c[:2], d[:2], s[0])
    module.batch_norm_backward(y2, p, a[:2], d[:2], x2, c[:2], s[1], True)
    module.dropout_mask(np.ones(4, np.float32), np.float32(0.5), one, a)
    return time.perf_counter() - t
