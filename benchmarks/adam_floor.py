"""Adam's floor on this machine: the update of the Fashion-MNIST net's 535,818 float32 parameters alone
(fcnet's compiled kernel, and PyTorch's ``Adam(fused=True)``), against the eight matrix products of one step
(784-512-256-10, batch 128), and a copy's memory bandwidth.

    python benchmarks/adam_floor.py [--calls 200] [--repeats 5]

(matmuls + Adam) / matmuls is the least an epoch can cost against its matrix products with this optimizer,
before any bias, activation, loss or Python time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import torch

from fcnet import nn, optim


def best(f: Callable[[], object], n: int = 200, reps: int = 5) -> float:
    """Milliseconds per call, the best of ``reps`` runs of ``n`` calls after one warm-up call."""
    f()
    out = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(n):
            f()
        out.append((time.perf_counter() - t) / n * 1e3)
    return min(out)


def main(argv: list[str] | None = None) -> dict[str, float]:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=200, help="calls per timed run (default 200)")
    ap.add_argument("--repeats", type=int, default=5, help="timed runs; the best is kept (default 5)")
    args = ap.parse_args(argv)
    if args.calls < 1 or args.repeats < 1:
        ap.error("--calls and --repeats must be at least 1")
    n, reps = args.calls, args.repeats
    torch.set_num_threads(2)
    rng = np.random.default_rng(0)
    m = nn.FullyConnectedNet(784, [512, 256], 10, rng=0)
    o = optim.Adam(m.parameters(), lr=1e-3)
    for p in m.parameters():
        p.grad = rng.standard_normal(p.shape).astype(np.float32)
    fc = best(o.step, n, reps)
    tm = torch.nn.Sequential(torch.nn.Linear(784, 512), torch.nn.ReLU(), torch.nn.Linear(512, 256), torch.nn.ReLU(),
                             torch.nn.Linear(256, 10))
    for p in tm.parameters():
        p.grad = torch.randn_like(p)
    to = torch.optim.Adam(tm.parameters(), lr=1e-3, fused=True)
    tf = best(to.step, n, reps)
    x = rng.standard_normal((128, 784)).astype(np.float32)
    w = [p.data for p in m.parameters()][::2]

    def matmuls() -> None:
        h1 = x @ w[0].T
        h2 = h1 @ w[1].T
        s = h2 @ w[2].T
        s.T @ h2
        gh2 = s @ w[2]
        gh2.T @ h1
        gh1 = gh2 @ w[1]
        gh1.T @ x

    mt = best(matmuls, n, reps)
    a = np.ones(535818 * 4, np.float32)
    gbs = a.nbytes * 2 / best(a.copy, max(n // 2, 1), reps) / 1e6
    print(f"matmuls of one step {mt:.3f} ms; Adam alone: fcnet {fc:.3f} ms, PyTorch fused {tf:.3f} ms; "
          f"copy bandwidth {gbs:.1f} GB/s; Adam traffic 7 x 2.14 MB = 15.0 MB -> {15.0 / gbs:.3f} ms at that bandwidth")
    print(f"floor (matmuls + fcnet Adam) / matmuls = {(mt + fc) / mt:.2f}x; "
          f"with PyTorch's fused Adam {(mt + tf) / mt:.2f}x")
    return {"matmuls_ms": mt, "fcnet_adam_ms": fc, "torch_fused_adam_ms": tf, "copy_gb_s": gbs}


if __name__ == "__main__":
    main()
