"""`fcnet bench` runs every implementation side by side and reports ratios (smoke size)."""

from __future__ import annotations

import os
import re
import subprocess

from tests.conftest import fcnet_cmd


def test_bench_tiny_reports_every_implementation(tmp_path):
    res = subprocess.run([*fcnet_cmd(), "bench", "--nets", "tiny", "--repeats", "1", "--samples", "500",
                          "--results", "R.md"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "FCNET_KERNELS": "numba"})
    assert res.returncode == 0, res.stderr
    for name in ["fcnet", "fcnet-train-loop", "fcnet-numpy-kernels", "matmuls-only", "scikit-learn"]:
        assert f"| {name} |" in res.stdout
    assert "| pytorch-fused-adam |" in res.stdout or "| pytorch |" not in res.stdout
    assert "sgemm peak" in res.stdout and "Inference" in res.stdout
    kernels_line = next(line for line in res.stdout.splitlines() if line.startswith("Kernels: "))
    assert re.match(r"Kernels: numba; first use in this process \d+\.\d\d s, compiling in a fresh process "
                    r"with an empty cache \d+\.\d\d s\. Load average", kernels_line), kernels_line
    assert "Threads: " in res.stdout
    shares = re.findall(r"^\| (matmuls|optimizer|elementwise|Python overhead)[^|]* \| (\d+\.\d\d) \| (\d+)% \|$",
                        res.stdout, re.M)
    assert [s[0] for s in shares] == ["matmuls", "optimizer", "elementwise", "Python overhead"], res.stdout
    assert 95 <= sum(int(s[2]) for s in shares) <= 105  # the four phases make up the epoch (rounding aside)
    report = (tmp_path / "R.md").read_text()
    assert "`fcnet bench --nets tiny --repeats 1 --samples 500 --results R.md`" in report
    assert "500 samples" in report
    assert "peak RSS MiB" in report


def test_bench_cuda_without_gpu_is_one_line(tmp_path):
    from tests.conftest import CUDA

    if CUDA:
        return
    res = subprocess.run([*fcnet_cmd(), "bench", "--device", "cuda"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 2 and "CuPy" in res.stderr and "Traceback" not in res.stderr


def test_bench_results_into_a_missing_directory_is_refused_before_running(tmp_path):
    res = subprocess.run([*fcnet_cmd(), "bench", "--results", str(tmp_path / "missing" / "r.md")],
                         capture_output=True, text=True, timeout=60)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2 and len(lines) == 1 and "--results" in lines[0], res.stderr


def test_bench_without_pytorch_says_its_rows_are_left_out(monkeypatch):
    import sys

    from fcnet import kernels
    from fcnet.bench import cpu

    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` raises ImportError, as without PyTorch
    monkeypatch.setattr(kernels, "warm_up", lambda: 0.0)
    monkeypatch.setattr(cpu, "compile_seconds_cold", lambda: None)
    monkeypatch.setattr(cpu, "measure_peak_gflops", lambda: 1.0)
    lines: list[str] = []
    res = cpu.run_bench(["tiny"], repeats=1, impls=["matmuls-only", "pytorch"], memory=False, log=lines.append,
                        samples=64)
    assert list(res["nets"]["tiny"]["impls"]) == ["matmuls-only"]
    assert "note: PyTorch is not installed, so its rows are left out; add them with: pip install 'fcnet[torch]'" \
        in lines
