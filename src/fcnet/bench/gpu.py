"""fcnet on CuPy against PyTorch CUDA (eager), the same nets as on the CPU, data resident on the GPU."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import fcnet
from fcnet import backend, nn
from fcnet.bench.cpu import NETS, NetSpec, _data, _fcnet_model, _timeit
from fcnet.data.loader import batches

__all__ = ["gpu_markdown", "run_bench_gpu"]


def _gpu_fcnet(spec: NetSpec, x: Any, y: Any, batch_size: int) -> Callable[[], None]:
    model, opt = _fcnet_model(spec)
    model.to("cuda")
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)

    def epoch() -> None:
        for xb, yb in batches(x, y, batch_size, rng):
            opt.zero_grad()
            loss_fn(model(fcnet.Tensor(xb, _raw=True)), yb).backward()
            opt.step()
        backend.synchronize(x)

    return epoch


def _gpu_torch(spec: NetSpec, x: Any, y: Any, batch_size: int) -> Callable[[], None]:
    import torch

    layers: list[Any] = []
    with torch.random.fork_rng(devices=[]):  # seeded initial weights; torch's global generator is left as it was
        torch.manual_seed(0)
        for a, b in zip(spec.widths[:-2], spec.widths[1:-1], strict=True):
            layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        layers.append(torch.nn.Linear(spec.widths[-2], spec.widths[-1]))
    model = torch.nn.Sequential(*layers).cuda()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def epoch() -> None:
        perm = torch.randperm(len(y), device="cuda")
        for s in range(0, len(y), batch_size):
            idx = perm[s:s + batch_size]
            opt.zero_grad()
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        torch.cuda.synchronize()

    return epoch


def run_bench_gpu(nets: list[str], batch_sizes: tuple[int, ...] = (1024, 4096), repeats: int = 3,
                  log: Callable[[str], None] = print) -> dict[str, Any]:
    """Epoch times of fcnet (CuPy) and PyTorch (CUDA, eager) on the same nets, data on the GPU."""
    import cupy
    import torch

    name = cupy.cuda.runtime.getDeviceProperties(0)["name"].decode()
    res: dict[str, Any] = {"device": name, "cupy": cupy.__version__, "torch": torch.__version__, "rows": []}
    for key in nets:
        spec = NETS[key]
        x, y, source = _data(spec)
        xc, yc = cupy.asarray(x), cupy.asarray(np.asarray(y, np.int64))
        xt, yt = torch.from_numpy(x).cuda(), torch.from_numpy(np.asarray(y, np.int64)).cuda()
        for bs in batch_sizes:
            fns = {"fcnet (CuPy)": _gpu_fcnet(spec, xc, yc, bs), "PyTorch (CUDA)": _gpu_torch(spec, xt, yt, bs)}
            for f in fns.values():
                f()  # warm-up: kernels compiled, memory pools filled
            times: dict[str, list[float]] = {k: [] for k in fns}
            for r in range(repeats):
                for k in (list(fns) if r % 2 == 0 else list(reversed(fns))):
                    times[k].append(_timeit(fns[k]))
            row = {"net": spec.name, "data": source, "batch": bs,
                   **{k: {"min": min(v), "median": statistics.median(v)} for k, v in times.items()}}
            row["ratio"] = row["fcnet (CuPy)"]["min"] / row["PyTorch (CUDA)"]["min"]
            log(f"[{key} batch {bs}] fcnet {row['fcnet (CuPy)']['min']:.3f} s, "
                f"PyTorch {row['PyTorch (CUDA)']['min']:.3f} s, ratio {row['ratio']:.2f}")
            res["rows"].append(row)
    return res


def gpu_markdown(res: dict[str, Any], command: str) -> str:
    """GPU results as a Markdown section."""
    lines = [f"## {time.strftime('%Y-%m-%d')}: `{command}`", "",
             f"Device: {res['device']}; CuPy {res['cupy']}, PyTorch {res['torch']} (eager). Data resident on the "
             "GPU; Adam (PyTorch's form); epochs interleaved after a warm-up.", "",
             "| net | batch | fcnet (CuPy) s/epoch | PyTorch (CUDA) s/epoch | ratio |", "|---|---|---|---|---|"]
    for r in res["rows"]:
        lines.append(f"| {r['net']} | {r['batch']} | {r['fcnet (CuPy)']['min']:.3f} | "
                     f"{r['PyTorch (CUDA)']['min']:.3f} | {r['ratio']:.2f}x |")
    return "\n".join(lines) + "\n"
