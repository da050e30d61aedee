"""``fcnet bench``: epoch times of fcnet, PyTorch and scikit-learn on the same MLP, in one run."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="benchmark training and inference against PyTorch and scikit-learn",
                       description="Interleaved epochs of fcnet (API loop and `fcnet train`'s loop), its "
                                   "matmuls alone, PyTorch CPU and scikit-learn, on the same MLP and data.")
    p.add_argument("--nets", default="fashion,cifar", help="comma-separated: fashion, cifar, tiny")
    p.add_argument("--repeats", type=int, default=3, help="timed epochs per implementation (>= 3 for a report)")
    p.add_argument("--threads", type=int, help="threads for BLAS and elementwise work (default: all cores)")
    p.add_argument("--samples", type=int, help="cap each net's training samples (default: the net's full size)")
    p.add_argument("--no-memory", action="store_true", help="skip the peak-memory processes")
    p.add_argument("--results", help="append the Markdown report to this file (e.g. benchmarks/RESULTS.md)")
    p.add_argument("--device", default="cpu", help="cpu (against PyTorch CPU and scikit-learn) or cuda "
                                                    "(fcnet on CuPy against PyTorch CUDA, batches 1024 and 4096)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fcnet import backend
    from fcnet.bench import NETS, run_bench, to_markdown
    from fcnet.train.recipe import blas_threads

    nets = [n.strip() for n in args.nets.split(",") if n.strip()]
    unknown = [n for n in nets if n not in NETS]
    if unknown:
        raise ConfigError(f"unknown net {unknown[0]!r}: choose from {', '.join(NETS)}")
    if args.repeats < 1:
        raise ConfigError(f"--repeats must be an integer ≥ 1, got {args.repeats}")
    if args.threads is not None and args.threads < 1:
        raise ConfigError(f"--threads must be an integer ≥ 1, got {args.threads}")
    if args.samples is not None and args.samples < 1:
        raise ConfigError(f"--samples must be an integer ≥ 1, got {args.samples}")
    results = Path(args.results) if args.results else None
    if results is not None and (results.is_dir() or not results.parent.is_dir()):
        # checked before minutes of benchmarking, not after
        raise ConfigError(f"--results {results}: not a file in an existing directory; create the directory first "
                          "or choose another path")
    if args.threads:
        backend.set_num_threads(args.threads)
    argv = sys.argv[sys.argv.index("bench") + 1:] if "bench" in sys.argv else []
    command = " ".join(["fcnet bench", *(shlex.quote(a) for a in argv)])
    if args.device != "cpu":
        from fcnet.bench.gpu import gpu_markdown, run_bench_gpu

        backend.xp_for(args.device)  # a one-line error without CuPy and a GPU
        md = gpu_markdown(run_bench_gpu(nets, repeats=args.repeats,
                                        log=lambda m: print(m, file=sys.stderr, flush=True)), command)
    else:
        with blas_threads(args.threads):
            res = run_bench(nets, args.repeats, memory=not args.no_memory, samples=args.samples,
                            log=lambda m: print(m, file=sys.stderr, flush=True))
        md = to_markdown(res, command)
    print(md)
    if results is not None:
        from fcnet.train.io import atomic_write

        old = results.read_text() if results.exists() else "# Benchmark results\n"
        atomic_write(results, (old.rstrip("\n") + "\n\n" + md).encode())
    return 0
