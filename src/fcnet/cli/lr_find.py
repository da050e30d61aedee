"""``fcnet lr-find``: a learning-rate range test that suggests a starting learning rate."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError
from fcnet.train.options import add_training_flags, load_config, resolve


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="learning-rate range test: loss against exponentially growing lr",
                       description="Train briefly while the learning rate grows from --start to --end; plot the "
                                   "loss against the learning rate and suggest where to start.")
    p.add_argument("--start", type=float, default=1e-6)
    p.add_argument("--end", type=float, default=10.0)
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--config", help="TOML file of training options")
    add_training_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import matplotlib.pyplot as plt

    from fcnet.train.io import atomic_write
    from fcnet.train.lr_find import lr_find
    from fcnet.train.recipe import build, prepare_data
    from fcnet.viz.plots import save_figure

    skip = {"func", "command", "start", "end", "steps", "config", "debug"}
    opts = resolve({k: v for k, v in vars(args).items() if k not in skip},
                   load_config(args.config) if args.config else None)
    if not 0 < args.start < args.end < float("inf"):
        raise ConfigError(f"--start and --end must satisfy 0 < start < end, got {args.start} and {args.end}")
    if args.steps < 2:
        raise ConfigError(f"--steps must be an integer ≥ 2, got {args.steps}")
    out = Path(opts.get("out") or "lr-find")
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a directory: choose another --out")
    prep = prepare_data(opts)
    model, opt, loss, _ = build(opts, prep.x_train.shape[1], prep.dataset.num_classes, 1)
    res = lr_find(model, opt, loss, prep.x_train, prep.y_train, opts["batch_size"], args.start, args.end,
                  args.steps, seed=opts["seed"])
    out.mkdir(parents=True, exist_ok=True)
    atomic_write(out / "lr_find.csv", ("lr,smoothed_loss\n" + "".join(
        f"{lr!r},{loss_!r}\n" for lr, loss_ in zip(res.lrs, res.losses, strict=True))).encode())
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.semilogx(res.lrs, res.losses)
    ax.axvline(res.suggestion, color="C2", ls="--", label=f"suggested {res.suggestion:.2g} (steepest fall)")
    ax.axvline(res.min_loss_lr, color="C3", ls=":", label=f"minimum loss at {res.min_loss_lr:.2g}")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("training loss (smoothed)")
    ax.set_title(f"learning-rate range test, {opts['optimizer']} on {opts['data']}")
    ax.legend()
    save_figure(fig, out / "lr_find.png")
    print(f"suggested learning rate: {res.suggestion:.3g} (steepest fall of the loss); the loss is lowest at "
          f"{res.min_loss_lr:.3g} and rises after it. Plot: {out / 'lr_find.png'}")
    return 0
