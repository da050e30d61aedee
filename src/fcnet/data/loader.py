"""Mini-batches without copying the data set each epoch."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from fcnet.backend import xp_of

__all__ = ["batches"]


def batches(x: np.ndarray, y: np.ndarray, batch_size: int, rng: np.random.Generator | None = None,
            drop_last: bool = False, *, reuse: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield (x_batch, y_batch) in a random order (``rng``) or in order (None).

    Each epoch draws one permutation of indices and gathers each batch with ``np.take``,
    instead of permuting (copying) the whole set.  Every shuffled batch is a new array, so
    ``list(batches(...))`` holds every batch.  ``reuse=True`` (the training loop's choice, one
    allocation per epoch instead of one per batch) gathers into one buffer: a batch is then valid
    only until the next one is drawn.
    """
    n = len(y)
    if batch_size <= 0:
        raise ValueError(f"batch size must be positive, got {batch_size}")
    if rng is None:
        for s in range(0, n, batch_size):
            if drop_last and s + batch_size > n:
                return
            yield x[s:s + batch_size], y[s:s + batch_size]
        return
    order = rng.permutation(n)  # drawn on the host: the same bits on every device
    xp = xp_of(x)
    if xp is not np:  # data on a GPU: gather each batch there, one index transfer per epoch
        idx_dev = xp.asarray(order)
        for s in range(0, n, batch_size):
            idx = idx_dev[s:s + batch_size]
            if drop_last and len(idx) < batch_size:
                return
            yield x[idx], y[idx]
        return
    xbuf = np.empty((batch_size, *x.shape[1:]), dtype=x.dtype) if reuse else None
    # indices of a permutation of range(len(y)) are in range of x when x has as many rows: mode="clip"
    # then gathers straight into the buffer, where the default mode="raise" first gathers into a hidden
    # one and then copies (NumPy's take docs).  Fewer rows in x (or not an array) keep np.take's
    # default, which raises NumPy's IndexError for an index past the end instead of clipping it.
    clip = isinstance(x, np.ndarray) and len(x) >= n
    for s in range(0, n, batch_size):
        idx = order[s:s + batch_size]
        if len(idx) < batch_size:
            if drop_last:
                return
            yield x[idx], y[idx]
            return
        yield (x.take(idx, axis=0, out=xbuf, mode="clip") if clip else np.take(x, idx, axis=0, out=xbuf)), y[idx]
