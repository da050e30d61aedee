"""``fcnet bench``: fcnet against PyTorch (CPU) and scikit-learn on the same MLP, in one run.

Each implementation trains the same architecture with Adam (PyTorch's form, δ = 1e-8
outside the root, so the arithmetic is the same) on the same float32 data and batch size.
Epochs are interleaved (fcnet, PyTorch, scikit-learn, fcnet's matmuls alone, ...) after a
warm-up, so machine noise hits all alike; min and median of ``repeats`` epochs are
reported.  Peak memory is measured in a fresh process per implementation.

fcnet runs on the kernel path this process chose (``FCNET_KERNELS``, compiled Numba kernels by
default); ``fcnet-numpy-kernels`` is the same loop on the NumPy reference kernels, and
``pytorch-fused-adam`` PyTorch with ``Adam(fused=True)``.  The kernels' first-use compile time
is measured twice: in a fresh process with an empty disk cache, and in this one (from the cache).
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import subprocess
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

import fcnet
from fcnet import backend, kernels, nn, optim
from fcnet.bench.report import machine_info, to_markdown
from fcnet.data.loader import batches

__all__ = ["NETS", "NetSpec", "compile_seconds_cold", "phase_split", "run_bench", "to_markdown"]


@dataclass(frozen=True)
class NetSpec:
    """One benchmark: layer widths, batch size, number of samples, data source."""

    name: str
    widths: tuple[int, ...]
    batch_size: int
    samples: int
    data: str  # "fashion-mnist" (real when available) or "random"


NETS = {
    "fashion": NetSpec("Fashion-MNIST 784-512-256-10, batch 128", (784, 512, 256, 10), 128, 60000, "fashion-mnist"),
    "cifar": NetSpec("CIFAR-shaped 3072-1024-512-10, batch 256", (3072, 1024, 512, 10), 256, 50000, "random"),
    "tiny": NetSpec("tiny 64-32-10, batch 32 (smoke test)", (64, 32, 10), 32, 2000, "random"),
}


def _data(spec: NetSpec) -> tuple[np.ndarray, np.ndarray, str]:
    if spec.data == "fashion-mnist":
        try:
            from fcnet import data

            ds = data.load("fashion-mnist", download=False)
            x = ds.preprocess.fit(ds.x_train).apply(ds.x_train)[: spec.samples]
            return np.ascontiguousarray(x), ds.y_train[: spec.samples], "real Fashion-MNIST"
        except Exception:
            pass
    rng = np.random.default_rng(0)
    x = rng.standard_normal((spec.samples, spec.widths[0]), dtype=np.float32)
    return x, rng.integers(0, spec.widths[-1], spec.samples), "random float32"


def matmul_flops(spec: NetSpec, n: int) -> float:
    """FLOPs of one epoch's matrix products: forward, weight gradients, input gradients (not layer 1)."""
    pairs = list(zip(spec.widths[:-1], spec.widths[1:], strict=True))
    fwd = sum(a * b for a, b in pairs)
    grad_in = sum(a * b for a, b in pairs[1:])
    return 2.0 * n * (2 * fwd + grad_in)


def measure_peak_gflops(repeats: int = 5) -> float:
    """Best sgemm GFLOP/s of (2048×2048)·(2048×2048) with NumPy."""
    a = np.random.default_rng(0).standard_normal((2048, 2048), dtype=np.float32)
    best = min(_timeit(lambda: a @ a) for _ in range(repeats))
    return 2 * 2048**3 / best / 1e9


def _timeit(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


# --- the implementations: each returns (epoch function, inference function) ---------------------

def _fcnet_model(spec: NetSpec) -> tuple[nn.FullyConnectedNet, optim.Adam]:
    model = nn.FullyConnectedNet(spec.widths[0], list(spec.widths[1:-1]), spec.widths[-1],
                                 rng=np.random.default_rng(0))
    return model, optim.Adam(model.parameters(), lr=1e-3, eps=1e-8, eps_inside=False)


def fcnet_api(spec: NetSpec, x: np.ndarray, y: np.ndarray) -> tuple[Callable, Callable]:
    """The bare public-API loop: zero_grad, forward, loss, backward, step."""
    model, opt = _fcnet_model(spec)
    loss_fn = nn.CrossEntropyLoss()
    rng = np.random.default_rng(0)

    def epoch() -> None:
        for xb, yb in batches(x, y, spec.batch_size, rng, reuse=True):
            opt.zero_grad()
            loss_fn(model(fcnet.Tensor(xb, _raw=True)), yb).backward()
            opt.step()

    def infer(xs: np.ndarray) -> None:
        model.eval()
        with fcnet.no_grad():
            for s in range(0, len(xs), 1024):
                model(fcnet.Tensor(xs[s:s + 1024], _raw=True))
        model.train()

    return epoch, infer


def fcnet_numpy_kernels(spec: NetSpec, x: np.ndarray, y: np.ndarray) -> tuple[Callable, Callable]:
    """The API loop on the NumPy reference kernels (``FCNET_KERNELS=numpy``), for before/after in one run."""
    epoch, infer = fcnet_api(spec, x, y)

    def on_numpy(fn: Callable) -> Callable:
        def run(*args: Any) -> None:
            before = kernels.active()
            kernels.use("numpy")
            try:
                fn(*args)
            finally:
                kernels.use(before)
        return run

    return on_numpy(epoch), on_numpy(infer)


def fcnet_trainer(spec: NetSpec, x: np.ndarray, y: np.ndarray) -> tuple[Callable, Callable]:
    """``fcnet train``'s loop: the Trainer with its gradient monitor, metrics and divergence check."""
    from fcnet.train import GradientMonitor, Trainer

    model, opt = _fcnet_model(spec)
    trainer = Trainer(model, opt, callbacks=[GradientMonitor()], progress=False, log=lambda m: None)
    return (lambda: trainer.train_epoch(x, y, spec.batch_size)), (lambda xs: trainer.predict_proba(xs))


def fcnet_matmuls(spec: NetSpec, x: np.ndarray, y: np.ndarray) -> tuple[Callable, Callable]:
    """Only the epoch's matrix products, same calls and shapes as fcnet's Linear gate."""
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal((b, a), dtype=np.float32) for a, b in zip(spec.widths[:-1], spec.widths[1:],
                                                                        strict=True)]

    def epoch() -> None:
        for xb, _ in batches(x, y, spec.batch_size, rng, reuse=True):
            h = xb
            outs = []
            for w in ws:
                outs.append(h)
                h = h @ w.T
            g = h
            for i in range(len(ws) - 1, -1, -1):
                _ = g.T @ outs[i]  # dW
                if i:
                    g = g @ ws[i]  # dx

    return epoch, lambda xs: None


def _matmul_replay(spec: NetSpec) -> Callable[[], float]:
    """A function timing one step's matrix products (fcnet's Linear gate's calls and shapes)."""
    rng = np.random.default_rng(2)
    b = spec.batch_size
    ws = [rng.standard_normal((o, i), dtype=np.float32) for i, o in zip(spec.widths[:-1], spec.widths[1:],
                                                                        strict=True)]
    xs = [rng.standard_normal((b, i), dtype=np.float32) for i in spec.widths[:-1]]
    gs = [rng.standard_normal((b, o), dtype=np.float32) for o in spec.widths[1:]]

    def replay() -> float:
        t = time.perf_counter()
        for x, w in zip(xs, ws, strict=True):
            x @ w.T
        for k in range(len(ws) - 1, -1, -1):
            gs[k].T @ xs[k]  # dW
            if k:
                gs[k] @ ws[k]  # dx
        return time.perf_counter() - t

    return replay


def _instrumented_epoch(model: Any, opt: optim.Optimizer, x: np.ndarray, y: np.ndarray, batch_size: int,
                        rng: np.random.Generator, replay: Callable[[], float] | None = None,
                        limit: int | None = None) -> dict[str, float]:
    """Seconds of fcnet's API loop over (x, y): all of it, inside ``opt.step()``, and ``replay``'s matmuls.

    The matmuls are replayed right after each step (same shapes, the cache as the step left it)
    and timed apart from the step.
    """
    loss_fn = nn.CrossEntropyLoss()
    out = {"step": 0.0, "optimizer": 0.0, "matmuls": 0.0, "steps": 0}
    for xb, yb in batches(x, y, batch_size, rng, reuse=True):
        t0 = time.perf_counter()
        opt.zero_grad()
        loss_fn(model(fcnet.Tensor(xb, _raw=True)), yb).backward()
        t1 = time.perf_counter()
        opt.step()
        t2 = time.perf_counter()
        out["step"] += t2 - t0
        out["optimizer"] += t2 - t1
        out["steps"] += 1
        if replay is not None:
            out["matmuls"] += replay()
        if limit is not None and out["steps"] >= limit:
            break
    return out


def phase_split(spec: NetSpec, x: np.ndarray, y: np.ndarray, epoch_s: float, repeats: int = 3) -> dict[str, float]:
    """Where fcnet's epoch of ``epoch_s`` seconds goes: matmuls, optimizer, elementwise, Python overhead.

    Measured in instrumented epochs of the API loop (the fastest of ``repeats``), as shares of
    their steps' time, then scaled to ``epoch_s`` (the four add up to it):

    - matmuls: each step's products replayed right after it (same shapes and calls);
    - optimizer: the time inside ``opt.step()``, less its Python part;
    - Python overhead: the same loop on a net of the same depth with every width 1 and batches
      of 1 (the same calls with almost no arithmetic), per step, times the steps;
    - elementwise: the rest (bias, activations, loss, batch-norm/dropout work, gradient sums,
      the batch gather).
    """
    model, opt = _fcnet_model(spec)
    rng = np.random.default_rng(1)
    replay = _matmul_replay(spec)
    _instrumented_epoch(model, opt, x, y, spec.batch_size, rng, replay, limit=5)
    runs = [_instrumented_epoch(model, opt, x, y, spec.batch_size, rng, replay) for _ in range(max(repeats, 1))]
    best = min(runs, key=lambda r: r["step"])
    tiny = dataclasses.replace(spec, widths=(1,) * (len(spec.widths) - 1) + (spec.widths[-1],), batch_size=1)
    t_model, t_opt = _fcnet_model(tiny)
    xt, yt = np.ascontiguousarray(x[:500, :1]), y[:500]
    _instrumented_epoch(t_model, t_opt, xt, yt, 1, rng, limit=20)
    small = min((_instrumented_epoch(t_model, t_opt, xt, yt, 1, rng) for _ in range(max(repeats, 1))),
                key=lambda r: r["step"])
    n = best["steps"]
    parts = {"matmuls": best["matmuls"], "python": small["step"] / small["steps"] * n,
             "optimizer": max(best["optimizer"] - small["optimizer"] / small["steps"] * n, 0.0)}
    parts["elementwise"] = max(best["step"] - sum(parts.values()), 0.0)
    # where the parts measured apart exceed the step (noise; nets so small that Python is all), the
    # shares are of their sum
    scale = epoch_s / sum(parts.values())
    return {**{k: v * scale for k, v in parts.items()}, "epoch": epoch_s}


def torch_impl(spec: NetSpec, x: np.ndarray, y: np.ndarray, fused: bool = False) -> tuple[Callable, Callable]:
    """PyTorch on the CPU, slicing a permuted tensor (its fastest plain loop here); ``fused``: Adam(fused=True)."""
    import torch

    layers: list[Any] = []
    with torch.random.fork_rng(devices=[]):  # seeded initial weights; torch's global generator is left as it was
        torch.manual_seed(0)
        for a, b in zip(spec.widths[:-2], spec.widths[1:-1], strict=True):
            layers += [torch.nn.Linear(a, b), torch.nn.ReLU()]
        layers.append(torch.nn.Linear(spec.widths[-2], spec.widths[-1]))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, fused=True) if fused else torch.optim.Adam(
        model.parameters(), lr=1e-3)
    xt, yt = torch.from_numpy(x), torch.from_numpy(np.asarray(y, np.int64))
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(0)

    def epoch() -> None:
        perm = torch.randperm(len(yt), generator=gen)
        for s in range(0, len(yt), spec.batch_size):
            idx = perm[s:s + spec.batch_size]
            opt.zero_grad()
            loss_fn(model(xt[idx]), yt[idx]).backward()
            opt.step()

    def infer(xs: np.ndarray) -> None:
        xs_t = torch.from_numpy(xs)
        with torch.inference_mode():
            for s in range(0, len(xs_t), 1024):
                model(xs_t[s:s + 1024])

    return epoch, infer


def sklearn_impl(spec: NetSpec, x: np.ndarray, y: np.ndarray) -> tuple[Callable, Callable]:
    """scikit-learn's MLPClassifier, one epoch per ``partial_fit`` (float32 input)."""
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(hidden_layer_sizes=spec.widths[1:-1], batch_size=spec.batch_size, solver="adam",
                        learning_rate_init=1e-3, random_state=0, shuffle=True)
    classes = np.arange(spec.widths[-1])

    def epoch() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            clf.partial_fit(x, y, classes=classes)

    return epoch, lambda xs: clf.predict_proba(xs)


IMPLS: dict[str, Callable[..., tuple[Callable, Callable]]] = {
    "fcnet": fcnet_api, "fcnet-train-loop": fcnet_trainer, "fcnet-numpy-kernels": fcnet_numpy_kernels,
    "matmuls-only": fcnet_matmuls, "pytorch": torch_impl,
    "pytorch-fused-adam": lambda spec, x, y: torch_impl(spec, x, y, fused=True), "scikit-learn": sklearn_impl,
}


def _available(name: str) -> bool:
    mod = {"pytorch": "torch", "pytorch-fused-adam": "torch", "scikit-learn": "sklearn"}.get(name)
    if mod is None:
        return True
    try:
        __import__(mod)
        return True
    except ImportError:
        return False


def peak_rss_mib(impl: str, net: str, threads: int, samples: int | None = None) -> float | None:
    """Peak RSS (MiB) of a fresh process that loads the data and trains one epoch with ``impl``."""
    code = (f"import dataclasses, fcnet.bench as b; s=b.NETS[{net!r}]; "
            f"s=dataclasses.replace(s, samples={samples or NETS[net].samples}); x,y,_=b._data(s); "
            f"e,_=b.IMPLS[{impl!r}](s,x,y); e(); "
            "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM')][0])")
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=1800)
    if res.returncode != 0:
        return None
    # VmHWM (kB): the high-water mark of this process image; ru_maxrss would include the
    # parent's, which fork hands down across exec
    return int(res.stdout.strip().splitlines()[-1]) / 1024


def compile_seconds_cold() -> float | None:
    """Seconds a fresh process with an empty Numba disk cache takes to compile the float32 kernels."""
    import tempfile

    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache, "FCNET_KERNELS": "numba"}
        code = "import fcnet.kernels as k; print(k.warm_up() if k.active() == 'numba' else -1)"
        res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600)
    if res.returncode != 0 or float(res.stdout.split()[-1]) < 0:
        return None
    return float(res.stdout.split()[-1])


def run_bench(nets: list[str], repeats: int = 3, impls: list[str] | None = None, memory: bool = True,
              log: Callable[[str], None] = print, samples: int | None = None) -> dict[str, Any]:
    """Interleaved epochs of every implementation on every net; returns the results.

    ``samples`` caps each net's training set (default: the net's full size).
    """
    threads = backend.num_threads()
    path = kernels.active()
    warm = kernels.warm_up()  # this process's first use: from the disk cache when it is filled
    cold = compile_seconds_cold() if path == "numba" else None
    log(f"kernels: {path}; first use here {warm:.2f} s, fresh process with an empty cache "
        f"{'-' if cold is None else f'{cold:.2f} s'}")
    wanted = impls or list(IMPLS)
    impls = [i for i in wanted if _available(i)]
    if any(i.startswith("pytorch") for i in wanted if i not in impls):
        log("note: PyTorch is not installed, so its rows are left out; add them with: pip install 'fcnet[torch]'")
    try:
        import torch

        torch.set_num_threads(threads)
        torch_version = torch.__version__
    except ImportError:
        torch_version = None
    peak = measure_peak_gflops()
    log(f"sgemm peak (NumPy, 2048²): {peak:.1f} GFLOP/s; threads {threads}")
    results: dict[str, Any] = {"machine": machine_info(), "threads": threads, "peak_gflops": peak,
                               "torch": torch_version, "kernels": path, "compile_s_cached": warm,
                               "compile_s_cold": cold, "load_before": os.getloadavg(), "nets": {},
                               "blas_timeout": os.environ.get("OPENBLAS_THREAD_TIMEOUT"),
                               "min_share": backend._MIN_CHUNK}
    for key in nets:
        spec = NETS[key]
        if samples:
            spec = dataclasses.replace(spec, samples=min(spec.samples, int(samples)))
        x, y, source = _data(spec)
        fns = {name: IMPLS[name](spec, x, y) for name in impls}
        for name, (epoch, _) in fns.items():  # warm-up: one epoch each (allocations, caches, JIT-free)
            log(f"[{key}] warm-up {name}")
            epoch()
        times: dict[str, list[float]] = {name: [] for name in fns}
        for r in range(repeats):
            order = list(fns) if r % 2 == 0 else list(reversed(fns))
            for name in order:
                times[name].append(_timeit(fns[name][0]))
                log(f"[{key}] repeat {r + 1}/{repeats} {name}: {times[name][-1]:.2f} s")
        xs = x[:10240]
        infer = {}
        for name in ("fcnet", "fcnet-numpy-kernels", "pytorch"):
            if name in fns:
                fns[name][1](xs)
                infer[name] = len(xs) / min(_timeit(lambda f=fns[name][1], xs=xs: f(xs)) for _ in range(3))
        flops = matmul_flops(spec, len(y))
        row: dict[str, Any] = {"spec": spec.name, "data": source, "samples": len(y), "matmul_gflop": flops / 1e9,
                               "inference_samples_per_s": infer, "impls": {}}
        for name, ts in times.items():
            row["impls"][name] = {"min": min(ts), "median": statistics.median(ts),
                                  "samples_per_s": len(y) / min(ts),
                                  "peak_share": flops / min(ts) / 1e9 / peak}
        if "fcnet" in fns:
            log(f"[{key}] phases of fcnet's step")
            row["phases"] = phase_split(spec, x, y, min(times["fcnet"]), repeats)
        if memory:
            for name in ("fcnet", "pytorch", "scikit-learn"):
                if name in fns:
                    log(f"[{key}] peak memory of {name} (fresh process)")
                    row["impls"][name]["peak_rss_mib"] = peak_rss_mib(name, key, threads, spec.samples)
        results["nets"][key] = row
    results["load_after"] = os.getloadavg()
    return results
