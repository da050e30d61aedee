"""The Markdown report of ``fcnet bench`` on the CPU, and the machine it ran on."""

from __future__ import annotations

import os
import platform
import resource
import time
from typing import Any

import numpy as np

import fcnet

__all__ = ["machine_info", "to_markdown"]


def machine_info() -> dict[str, Any]:
    """CPU model, cores, library versions and the BLAS threadpoolctl reports."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in open("/proc/cpuinfo").read().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from threadpoolctl import threadpool_info

    blas = [f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, {i.get('num_threads')} threads)"
            for i in threadpool_info()]
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__,
            "fcnet": fcnet.__version__, "blas": blas,
            "max_rss_mib_so_far": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def _load(avg: Any) -> str:
    return "-" if not avg else " / ".join(f"{a:.1f}" for a in avg)


def to_markdown(res: dict[str, Any], command: str) -> str:
    """The results as a Markdown section."""
    m = res["machine"]
    lines = [f"## {time.strftime('%Y-%m-%d')}: `{command}`", "",
             f"Machine: {m['cpu']}, {m['cores']} cores; Python {m['python']}, NumPy {m['numpy']}, "
             f"PyTorch {res['torch']}; BLAS: {'; '.join(m['blas'])}. Threads: {res['threads']}. "
             f"Measured sgemm peak: {res['peak_gflops']:.1f} GFLOP/s.", ""]
    if "kernels" in res:
        cold = res.get("compile_s_cold")
        lines += [f"Kernels: {res['kernels']}; first use in this process {res['compile_s_cached']:.2f} s, "
                  f"compiling in a fresh process with an empty cache "
                  f"{'-' if cold is None else f'{cold:.2f} s'}. Load average (1, 5, 15 min) before "
                  f"{_load(res.get('load_before'))}, after {_load(res.get('load_after'))}.", ""]
    if "min_share" in res:
        timeout = res.get("blas_timeout")
        lines += [f"OPENBLAS_THREAD_TIMEOUT={timeout or 'unset (threads spin)'}; elementwise work shared "
                  f"out among threads from {res['min_share']:,} elements per thread.", ""]
    for _key, row in res["nets"].items():
        imps = row["impls"]
        torch_t = imps.get("pytorch", {}).get("min")
        mm = imps.get("matmuls-only", {}).get("min")
        lines += [f"### {row['spec']} ({row['data']}, {row['samples']:,} samples, "
                  f"{row['matmul_gflop']:.0f} GFLOP of matmuls per epoch)", "",
                  "| implementation | s/epoch min | median | vs PyTorch | vs its matmuls | samples/s "
                  "| share of sgemm peak | peak RSS MiB |", "|---|---|---|---|---|---|---|---|"]
        for name, r in imps.items():
            vs_t = f"{r['min'] / torch_t:.2f}x" if torch_t else "-"
            vs_mm = f"{r['min'] / mm:.2f}x" if mm and name.startswith("fcnet") else "-"
            rss = r.get("peak_rss_mib")
            lines.append(f"| {name} | {r['min']:.2f} | {r['median']:.2f} | {vs_t} | {vs_mm} | "
                         f"{r['samples_per_s']:,.0f} | {r['peak_share']:.0%} | {f'{rss:.0f}' if rss else '-'} |")
        api, loop = imps.get("fcnet", {}).get("min"), imps.get("fcnet-train-loop", {}).get("min")
        if api and loop:
            lines += ["", f"`fcnet train`'s loop costs {100 * (loop / api - 1):+.1f}% over the bare API loop."]
        ph = row.get("phases")
        if ph:
            total = ph["epoch"]
            lines += ["", "Where fcnet's epoch goes (see `fcnet.bench.cpu.phase_split`):", "",
                      "| phase | s/epoch | share of the epoch |", "|---|---|---|"]
            for k, label in (("matmuls", "matmuls"), ("optimizer", "optimizer"),
                             ("elementwise", "elementwise (bias, activations, loss, gradient sums, batch gather)"),
                             ("python", "Python overhead")):
                lines.append(f"| {label} | {ph[k]:.2f} | {ph[k] / total:.0%} |")
        inf = row["inference_samples_per_s"]
        if inf:
            lines += ["", "Inference (batch 1024, no graph): " + ", ".join(
                f"{k} {v:,.0f} samples/s" for k, v in inf.items())]
        lines.append("")
    return "\n".join(lines)
