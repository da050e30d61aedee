"""``gradcheck``: compare backprop's gradients with central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from fcnet import backend
from fcnet.tensor import Tensor, tensor

__all__ = ["GradcheckReport", "gradcheck"]


@dataclass
class GradcheckReport:
    """Result of ``gradcheck``: ``bool(report)`` is ``report.ok``.

    ``max_rel_error`` is the largest |analytic - numeric| / max(|analytic|, |numeric|, 1)
    over all checked entries; ``worst`` names where it occurred.
    """

    ok: bool
    max_rel_error: float
    worst: dict[str, Any]
    checked: int
    tolerance: float

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        verdict = "ok" if self.ok else "FAILED"
        w = self.worst
        where = f"input {w.get('input')} at {w.get('index')}" if w else "-"
        return (f"gradcheck {verdict}: max relative error {self.max_rel_error:.2e} "
                f"(tolerance {self.tolerance:.0e}) over {self.checked} entries; worst: {where}, "
                f"analytic {w.get('analytic', float('nan')):.6g}, "
                f"numeric {w.get('numeric', float('nan')):.6g}")


def gradcheck(fn: Callable[..., Tensor], inputs: Sequence[Any], eps: float = 1e-6,
              tol: float = 1e-5, seed: int = 0, device: str | None = None) -> GradcheckReport:
    """Check ``fn``'s gradients at ``inputs`` by central differences (f(x+h) - f(x-h)) / 2h.

    Inputs are converted to float64 tensors that require grad (integer arrays stay constant),
    on ``device`` (default: the first input tensor's, else the CPU).  A non-scalar output is
    reduced to the scalar Σ out ⊙ v with a fixed random v.
    """
    if device is None:
        device = next((x.device for x in inputs if isinstance(x, Tensor)), "cpu")
    xs: list[Tensor] = []
    for x in inputs:
        t = x if isinstance(x, Tensor) else tensor(np.asarray(x))
        if t.dtype.kind == "f":
            host = backend.to_numpy(t.data).astype(np.float64)
            t = Tensor(backend.to_device(host, device), requires_grad=True, _raw=True)
        else:
            t = Tensor(backend.to_device(backend.to_numpy(t.data), device), _raw=True)
        xs.append(t)

    probe: np.ndarray | None = None

    def scalar(out: Tensor) -> Tensor:
        nonlocal probe
        if out.size == 1:
            return out.reshape(())
        if probe is None:
            probe = backend.to_device(np.random.default_rng(seed).standard_normal(out.shape), device)
        return (out * Tensor(probe, _raw=True)).sum()

    def value() -> float:
        return float(scalar(fn(*xs)).item())

    loss = scalar(fn(*xs))
    loss.backward()
    worst: dict[str, Any] = {}
    max_err, checked = 0.0, 0
    for i, x in enumerate(xs):
        if not x.requires_grad:
            continue
        analytic = np.zeros(x.shape) if x.grad is None else backend.to_numpy(x.grad)
        flat = x.data.reshape(-1)
        for j in range(flat.size):
            old = flat[j].item()  # a host copy: CuPy's flat[j] is a view that the next line would change
            flat[j] = old + eps
            up = value()
            flat[j] = old - eps
            down = value()
            flat[j] = old
            numeric = (up - down) / (2 * eps)
            a = float(analytic.reshape(-1)[j])
            err = abs(a - numeric) / max(abs(a), abs(numeric), 1.0)
            checked += 1
            if err >= max_err:
                max_err = err
                worst = {"input": i, "index": np.unravel_index(j, x.shape) if x.shape else (),
                         "analytic": a, "numeric": numeric}
    return GradcheckReport(ok=max_err <= tol, max_rel_error=max_err, worst=worst,
                           checked=checked, tolerance=tol)
