"""Time to accuracy: fcnet and PyTorch on the same recipe under the same time-based schedule.

    python benchmarks/time_to_accuracy.py [--budgets 60,120] [--config examples/fashion-mnist-time.toml]
                                          [--threads 2] [--results benchmarks/RESULTS.md]

For each budget, one after the other and each in a fresh process: ``fcnet train --config CONFIG
--time-budget B``, then the same recipe written in PyTorch (the same standardised data and
split from ``fcnet.train.recipe.prepare_data``, the same layers and He initialisation, AdamW,
label smoothing, batch size, the same ``--augment`` flips and shifts (``torch_augment``), and the
very same warm-up + cosine schedule object, run on the fraction of the budget used).  Both count
the same seconds: the training loop, from the first step to the step that uses the budget up (data
loading, kernel compilation and the final test evaluation are not counted).  Prints the Markdown
section for ``benchmarks/RESULTS.md`` (appended there with ``--results``), with the machine and
the load average around each run.

A time-budgeted run is not bit-reproducible: how many steps fit in the budget depends on the
machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = ROOT / "examples" / "fashion-mnist-time.toml"


def _cpu() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _env(threads: int) -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": str(threads), "OPENBLAS_NUM_THREADS": str(threads),
            "MKL_NUM_THREADS": str(threads)}


def run_fcnet(config: Path, budget: float, threads: int, work: Path) -> dict:
    """``fcnet train --config CONFIG --time-budget B`` in a fresh process; its summary.json."""
    out = work / f"fcnet-{budget:g}"
    cmd = [sys.executable, "-m", "fcnet", "train", "--config", str(config), "--time-budget", str(budget),
           "--threads", str(threads), "--out", str(out), "--overwrite", "--quiet", "--monitor", "false"]
    res = subprocess.run(cmd, capture_output=True, text=True, env=_env(threads))
    if res.returncode != 0:
        raise SystemExit(f"fcnet train failed:\n{res.stderr}")
    s = json.loads((out / "summary.json").read_text())
    return {"accuracy": s["test_accuracy"], "epochs": s["epochs"], "time_used": s["time_used"],
            "steps": None}


def run_pytorch(config: Path, budget: float, threads: int, work: Path) -> dict:
    """This script's PyTorch worker in a fresh process; its result."""
    out = work / f"pytorch-{budget:g}.json"
    cmd = [sys.executable, __file__, "--worker", "--config", str(config), "--budget", str(budget),
           "--threads", str(threads), "--json", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True, env=_env(threads))
    if res.returncode != 0:
        raise SystemExit(f"the PyTorch run failed:\n{res.stderr}")
    return json.loads(out.read_text())


def torch_augment(x: Any, flips: Any, shifts: Any, mean: Any, std: Any, image_shape: tuple[int, int, int],
                  layout: str = "hwc") -> Any:
    """fcnet's ``--augment`` written in PyTorch: the flattened images ``x`` (N, D) flipped and shifted.

    The same arithmetic as ``fcnet.data.ImageAugment.apply`` (pixel values u = x σ + μ, flip where
    ``flips``, move by ``shifts`` (dy, dx) with black (u = 0) moved in, x' = (u' − μ) / σ), built
    from PyTorch's own operations (``flip``, zero ``pad``, indexing) rather than fcnet's index maps.
    """
    import torch

    h, w, c = image_shape
    n = x.shape[0]
    u = x * std + mean if mean is not None else x
    img = u.view(n, h, w, c) if layout == "hwc" else u.view(n, c, h, w).permute(0, 2, 3, 1)
    img = torch.where(flips.view(n, 1, 1, 1), img.flip(2), img)
    s = int(shifts.abs().max()) if n else 0
    pad = torch.nn.functional.pad(img, (0, 0, s, s, s, s))  # s black rows and columns on each side
    rows = torch.arange(h).view(1, h, 1) - shifts[:, 0].view(n, 1, 1) + s
    cols = torch.arange(w).view(1, 1, w) - shifts[:, 1].view(n, 1, 1) + s
    out = pad[torch.arange(n).view(n, 1, 1), rows, cols]  # (N, H, W, C): out[h, w] = img[h - dy, w - dx]
    out = out.reshape(n, -1) if layout == "hwc" else out.permute(0, 3, 1, 2).reshape(n, -1)
    return (out - mean) / std if mean is not None else out


def pytorch_worker(config: Path, budget: float, threads: int) -> dict:
    """The recipe of ``config`` in PyTorch, trained for ``budget`` seconds."""
    import numpy as np
    import torch

    from fcnet import optim as fo
    from fcnet import tensor
    from fcnet.train.options import load_config, resolve, validate
    from fcnet.train.recipe import make_schedule, prepare_data

    torch.set_num_threads(threads)
    cfg = validate({**resolve({}, load_config(config)), "time_budget": budget})
    if cfg["activation"] != "relu" or cfg["optimizer"] != "adamw" or cfg["loss"] != "cross-entropy":
        raise SystemExit("the PyTorch worker reproduces ReLU nets trained with AdamW and the cross-entropy only")
    prep = prepare_data(cfg)
    x, y = torch.from_numpy(prep.x_train), torch.from_numpy(np.asarray(prep.y_train, np.int64))
    torch.manual_seed(cfg["seed"])
    layers: list[torch.nn.Module] = []
    width = x.shape[1]
    for h in cfg["hidden"]:
        layers.append(torch.nn.Linear(width, h))
        if cfg["batchnorm"]:
            layers.append(torch.nn.BatchNorm1d(h))
        layers.append(torch.nn.ReLU())
        if cfg["dropout"]:
            layers.append(torch.nn.Dropout(cfg["dropout"]))
        width = h
    layers.append(torch.nn.Linear(width, prep.dataset.num_classes))
    model = torch.nn.Sequential(*layers)
    for m in model:
        if isinstance(m, torch.nn.Linear):  # fcnet's "he": N(0, 2/D), zero bias
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            torch.nn.init.zeros_(m.bias)
    eps = 1e-8 if cfg["eps"] is None else cfg["eps"]
    opt = torch.optim.AdamW(model.parameters(), lr=cfg["lr"], betas=(cfg["momentum"], cfg["rho"]), eps=eps,
                            weight_decay=cfg["weight_decay"])
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=cfg["label_smoothing"])
    bs = min(cfg["batch_size"], len(y))
    steps_per_epoch = -(-len(y) // bs)
    # fcnet's own schedule object on a stand-in optimizer: the same learning rate at the same fraction
    shadow = fo.SGD([tensor(np.zeros(1), requires_grad=True)], lr=cfg["lr"])
    sched = make_schedule(cfg, shadow, steps_per_epoch)
    gen = torch.Generator().manual_seed(cfg["seed"])
    augment = None
    if cfg["augment"]:  # the same flips and shifts as fcnet's --augment, drawn from this run's generator
        pre, s_max = prep.dataset.preprocess, cfg["augment_shift"]
        mean = None if pre.mean is None else torch.from_numpy(pre.mean)
        std = None if pre.std is None else torch.from_numpy(pre.std)

        def augment(xb: Any) -> Any:
            k = len(xb)
            flips = (torch.rand(k, generator=gen) < 0.5 if cfg["augment_flip"] else torch.zeros(k, dtype=torch.bool))
            shifts = torch.randint(-s_max, s_max + 1, (k, 2), generator=gen)
            return torch_augment(xb, flips, shifts, mean, std, pre.image_shape, pre.layout)
    model.train()
    # PyTorch's first step sets itself up (seconds on a loaded machine): done on a throwaway copy before
    # the clock starts, as fcnet compiles its kernels before its clock starts
    import copy

    spare = copy.deepcopy(model)
    spare_opt = torch.optim.AdamW(spare.parameters(), lr=cfg["lr"], eps=eps, weight_decay=cfg["weight_decay"])
    for _ in range(2):
        spare_opt.zero_grad()
        loss_fn(spare(x[:bs]), y[:bs]).backward()
        spare_opt.step()
    del spare, spare_opt
    epochs = steps = 0
    start = time.perf_counter()
    used = 0.0
    while used < budget:
        perm = torch.randperm(len(y), generator=gen)
        for s in range(0, len(y), bs):
            for group in opt.param_groups:
                group["lr"] = shadow.lr
            idx = perm[s:s + bs]
            xb = x[idx] if augment is None else augment(x[idx])
            opt.zero_grad()
            loss_fn(model(xb), y[idx]).backward()
            opt.step()
            steps += 1
            used = time.perf_counter() - start
            if sched is not None:
                sched.seek(used)
            if used >= budget:
                break
        epochs += 1
    model.eval()
    with torch.inference_mode():
        xt = torch.from_numpy(prep.x_test)
        pred = torch.cat([model(xt[i:i + 1024]).argmax(1) for i in range(0, len(xt), 1024)])
    acc = float((pred.numpy() == np.asarray(prep.y_test)).mean())
    return {"accuracy": acc, "epochs": epochs, "time_used": used, "steps": steps, "torch": torch.__version__}


def markdown(rows: list[dict], command: str, threads: int, config: Path) -> str:
    """The RESULTS.md section: one table row per budget, fcnet and PyTorch side by side."""
    try:
        import torch

        tv = torch.__version__
    except ImportError:
        tv = "-"
    import numpy as np

    cfg = config.relative_to(ROOT) if config.is_relative_to(ROOT) else config
    lines = [f"## {time.strftime('%Y-%m-%d')}: `{command}`", "",
             f"Machine: {_cpu()}, {os.cpu_count()} cores, {threads} threads; NumPy {np.__version__}, "
             f"PyTorch {tv}. Recipe: `{cfg}`, run with `fcnet train --config {cfg} --time-budget B` and as "
             "the same recipe in PyTorch (this script), one after the other, fresh processes.", "",
             "| budget | fcnet test accuracy | fcnet epochs | PyTorch test accuracy | PyTorch epochs "
             "| fcnet ahead | load average before / after |", "|---|---|---|---|---|---|---|"]
    for r in rows:
        f, t = r["fcnet"], r["pytorch"]
        ahead = "yes" if f["accuracy"] > t["accuracy"] else "no"
        lines.append(f"| {r['budget']:g} s | {100 * f['accuracy']:.2f}% | {f['epochs']} "
                     f"({f['time_used']:.1f} s) | {100 * t['accuracy']:.2f}% | {t['epochs']} "
                     f"({t['time_used']:.1f} s) | {ahead} | {r['load_before']:.1f} / {r['load_after']:.1f} |")
    lines += ["", "Epochs are counted with the last, partial one; the time is the training loop's "
              "(data loading, compilation and the final evaluation not counted)."]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--budgets", default="60,120", help="comma-separated seconds (default: 60,120)")
    p.add_argument("--config", type=Path, default=DEFAULT_CONFIG, help="the recipe (a `fcnet train` TOML)")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)), help="threads for both")
    p.add_argument("--frameworks", default="fcnet,pytorch", help="run only these (fcnet, pytorch)")
    p.add_argument("--results", type=Path, help="append the Markdown section to this file")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--budget", type=float, help=argparse.SUPPRESS)
    p.add_argument("--json", type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        args.json.write_text(json.dumps(pytorch_worker(args.config, args.budget, args.threads)))
        return 0
    budgets = [float(b) for b in args.budgets.split(",") if b.strip()]
    which = [w.strip() for w in args.frameworks.split(",") if w.strip()]
    if "pytorch" in which and importlib.util.find_spec("torch") is None:  # before minutes of fcnet training
        print("time_to_accuracy: the PyTorch side needs torch: pip install 'fcnet[torch]' "
              "(or --frameworks fcnet)", file=sys.stderr)
        return 2
    rows = []
    skipped = {"accuracy": float("nan"), "epochs": "-", "time_used": float("nan")}
    with tempfile.TemporaryDirectory(prefix="fcnet-tta-") as tmp:
        for budget in budgets:
            row = {"budget": budget, "load_before": os.getloadavg()[0]}
            for name, fn in (("fcnet", run_fcnet), ("pytorch", run_pytorch)):
                if name in which:
                    print(f"{budget:g} s: {name} ...", file=sys.stderr, flush=True)
                    row[name] = fn(args.config, budget, args.threads, Path(tmp))
                    print(f"  {100 * row[name]['accuracy']:.2f}% after {row[name]['epochs']} epochs",
                          file=sys.stderr, flush=True)
                else:
                    row[name] = skipped
            row["load_after"] = os.getloadavg()[0]
            rows.append(row)
    command = "python benchmarks/time_to_accuracy.py " + " ".join(sys.argv[1:] if argv is None else argv)
    md = markdown(rows, command.strip(), args.threads, args.config.resolve())
    print(md)
    if args.results is not None:
        old = args.results.read_text() if args.results.exists() else "# Benchmark results\n"
        tmp_path = args.results.with_suffix(".tmp")
        tmp_path.write_text(old.rstrip("\n") + "\n\n" + md)
        tmp_path.replace(args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
