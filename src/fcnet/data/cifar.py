"""CIFAR-10 in its two official formats.

Binary version (``cifar-10-batches-bin``): each record is 1 label byte then 3072 pixel
bytes (1024 red, 1024 green, 1024 blue, rows of 32), read without pickle.  Python version
(``cifar-10-batches-py``): pickled dicts, read only through a restricted unpickler that
admits nothing but NumPy arrays, lists, dicts, strings, bytes and numbers.
"""

from __future__ import annotations

import io
import pickle
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from fcnet.errors import DataError

__all__ = ["CLASSES", "RECORD", "RestrictedUnpickler", "read_binary_batch", "read_python_batch"]

CLASSES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
RECORD = 1 + 3 * 32 * 32


def read_binary_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a binary batch: (images uint8 (N, 3072) in CHW order, labels (N,))."""
    path = Path(path)
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD:
        raise DataError(
            f"{path} is truncated or corrupted: {raw.size} bytes is not a whole number of "
            f"{RECORD}-byte CIFAR-10 records; delete it and fetch it again"
        )
    rec = raw.reshape(-1, RECORD)
    labels = rec[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise DataError(f"{path} holds label {labels.max()}, but CIFAR-10 labels are 0-9: the file is corrupted")
    return np.ascontiguousarray(rec[:, 1:]), labels


class RestrictedUnpickler(pickle.Unpickler):
    """Unpickles only what a CIFAR-10 python batch holds; any other global is refused."""

    _ALLOWED: ClassVar[set[tuple[str, str]]] = {
        ("numpy.core.multiarray", "_reconstruct"),
        ("numpy._core.multiarray", "_reconstruct"),
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "scalar"),
        ("numpy._core.multiarray", "scalar"),
        ("builtins", "bytes"),
        ("_codecs", "encode"),
    }

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise DataError(
            f"refusing to unpickle {module}.{name}: a CIFAR-10 batch holds only arrays and lists, "
            "so this file is not one (it could run code); use the binary version instead"
        )


def read_python_batch(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """Read a python-version batch through ``RestrictedUnpickler``."""
    path = Path(path)
    try:
        obj = RestrictedUnpickler(io.BytesIO(path.read_bytes()), encoding="bytes").load()
    except DataError:
        raise
    except Exception as exc:
        raise DataError(f"{path} is not a readable CIFAR-10 python batch ({exc})") from None
    if not isinstance(obj, dict):
        raise DataError(f"{path} is not a CIFAR-10 python batch (no dict inside)")
    data = obj.get(b"data", obj.get("data"))
    labels = obj.get(b"labels", obj.get("labels"))
    if data is None or labels is None:
        raise DataError(f"{path} lacks the 'data' or 'labels' entry of a CIFAR-10 batch")
    data = np.asarray(data, dtype=np.uint8)
    labels = np.asarray(labels, dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data):
        raise DataError(f"{path} has data of shape {data.shape} and {len(labels)} labels, not (N, 3072)")
    return data, labels


def write_binary_batch(path: str | Path, images: np.ndarray, labels: np.ndarray) -> Path:
    """Write a binary batch (used to make test files in the exact official format)."""
    rec = np.concatenate([np.asarray(labels, np.uint8)[:, None], np.asarray(images, np.uint8)], axis=1)
    Path(path).write_bytes(rec.tobytes())
    return Path(path)
