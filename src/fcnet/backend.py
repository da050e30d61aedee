"""The only module that knows NumPy from CuPy.

Everything else asks this module for the array namespace (``xp``) of an array or a device,
for a random generator, or for a host copy of an array; no other module imports CuPy.
"""

from __future__ import annotations

import concurrent.futures
import importlib
import os
import sys
from typing import Any

import numpy as np

from fcnet.errors import ConfigError
from fcnet.kernels import for_arrays as _kernels_for

__all__ = [
    "Generator",
    "available_devices",
    "cpu_kernels",
    "default_generator",
    "device_of",
    "fused_kernel",
    "get_generator",
    "manual_seed",
    "num_threads",
    "parallel_elementwise",
    "scatter_add",
    "set_num_threads",
    "synchronize",
    "to_device",
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
            raise ConfigError(
                f"device {device!r} needs CuPy and an NVIDIA GPU, and none is usable here; "
                "install the extra with `pip install fcnet[gpu]` on a machine with a GPU, "
                "or use device='cpu'"
            )
        return cp
    raise ConfigError(f"unknown device {device!r}: use 'cpu' or 'cuda'")


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


# --- threads for elementwise work ----------------------------------------------------------
# NumPy's ufuncs run on one core; BLAS uses all.  Large elementwise updates (the optimizer
# step) are split into contiguous chunks run on a small thread pool (ufuncs release the GIL),
# so both cores work there too.  CuPy arrays are never split.

_threads = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
_pool: concurrent.futures.ThreadPoolExecutor | None = None
# elements per thread's share, at least: where OpenBLAS's threads sleep between products (fcnet set
# OPENBLAS_THREAD_TIMEOUT before NumPy loaded), a share of 64K elements already gains; where they
# spin (NumPy was imported first), only shares of 0.5M+ elements outweigh the contention
_MIN_CHUNK = 1 << 16 if getattr(sys.modules.get("fcnet"), "_BLAS_SLEEPS", False) else 1 << 19


def num_threads() -> int:
    """Threads used for large elementwise updates (default: the cores this process may use)."""
    return _threads


def set_num_threads(n: int) -> None:
    """Set the threads for elementwise updates (``fcnet train --threads`` sets BLAS's too)."""
    global _threads, _pool
    if n < 1:
        raise ConfigError(f"thread count must be an integer ≥ 1, got {n}")
    if n != _threads and _pool is not None:
        _pool.shutdown(wait=True)
        _pool = None
    _threads = int(n)


def min_chunk() -> int:
    """The fewest elements ``parallel_elementwise`` gives one thread (fewer than 2 of these in all run whole)."""
    return _MIN_CHUNK


def parallel_elementwise(fn: Any, jobs: list[list[Any]]) -> None:
    """Run ``fn(*arrays)`` for each job, the elements of all jobs shared out among the threads.

    The arrays of a job must have one shape; ``fn`` must be elementwise (each output element
    depends only on the same element of the inputs), so where a job is cut changes no bit.
    When the jobs hold at least 2 ``_MIN_CHUNK`` elements in all, their concatenated elements
    are cut into one equal share per thread (at most ``total // _MIN_CHUNK``): the calling
    thread runs the first share and each pool thread one other, so a step costs one hand-off
    per thread, not one per parameter.  Pool threads wait on a condition (asleep, not
    spinning) between steps.  A job whose arrays are not all C-contiguous NumPy arrays is run
    whole on the calling thread: a flattened non-contiguous array is a copy, and the update
    would be written into the copy.
    """
    global _pool
    whole, flat = [], []
    for arrays in jobs:
        if xp_of(arrays[0]) is np and all(a.flags.c_contiguous for a in arrays):
            flat.append([a.reshape(-1) for a in arrays])
        else:
            whole.append(arrays)
    total = sum(f[0].size for f in flat)
    k = min(_threads, total // _MIN_CHUNK)
    if k < 2:
        whole += flat
        flat = []
    for arrays in whole:
        fn(*arrays)
    if not flat:
        return
    if _pool is None:
        _pool = concurrent.futures.ThreadPoolExecutor(max_workers=_threads - 1, thread_name_prefix="fcnet")
    shares: list[list[list[Any]]] = [[] for _ in range(k)]
    cuts = [total * j // k // 16 * 16 for j in range(k)] + [total]  # 64-byte aligned float32 cuts
    start = 0
    for f in flat:
        n = f[0].size
        for j in range(k):
            lo, hi = max(cuts[j], start) - start, min(cuts[j + 1], start + n) - start
            if lo < hi:
                shares[j].append([a[lo:hi] for a in f])
        start += n

    def run(share: list[list[Any]]) -> None:
        for arrays in share:
            fn(*arrays)

    futures = [_pool.submit(run, share) for share in shares[1:]]
    run(shares[0])
    for fut in futures:
        fut.result()


# --- scatter and fused kernels ------------------------------------------------------------


def scatter_add(out: Any, index: Any, values: Any) -> None:
    """out[index] += values, summing where an index repeats (NumPy's ``add.at``)."""
    add = xp_of(out).add
    if hasattr(add, "at"):  # NumPy, and CuPy >= 13
        add.at(out, index, values)
    else:
        import cupyx

        cupyx.scatter_add(out, index, values)


_kernels: dict[tuple[str, str, str, str], Any] = {}


def fused_kernel(array: Any, in_params: str, out_params: str, body: str, name: str) -> Any:
    """A compiled elementwise kernel for ``array``'s device, or None on the CPU.

    On CUDA, several elementwise passes (an optimizer update) become one kernel launch
    (``cupy.ElementwiseKernel``); on the CPU the caller runs its NumPy form instead.
    """
    if xp_of(array) is np:
        return None
    key = (in_params, out_params, body, name)
    if key not in _kernels:
        _kernels[key] = _cupy.ElementwiseKernel(in_params, out_params, body, name)
    return _kernels[key]


def cpu_kernels(*arrays: Any) -> Any:
    """The compiled CPU kernels (``fcnet.kernels.jitted``), or None on the NumPy path.

    Chosen once per process from ``FCNET_KERNELS`` (``numba``, the default, or ``numpy``);
    None also when one of ``arrays`` is not a NumPy float32/float64 array (float16 included),
    which the compiled kernels are not built for.
    """
    return _kernels_for(*arrays)


def synchronize(array: Any) -> None:
    """Wait for the device that holds ``array`` (a no-op on the CPU); for timing."""
    if xp_of(array) is not np:
        _cupy.cuda.get_current_stream().synchronize()
