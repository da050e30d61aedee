"""``fcnet search``: grid, random and coarse-to-fine hyperparameter search (slides 170-178)."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError
from fcnet.train.options import add_training_flags, parse_config, read_toml, resolve


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="hyperparameter search (grid, random, coarse-to-fine) on Optuna",
                       description="Search training options. `fcnet search [options]` plans and runs a search "
                                   "with local workers; `fcnet search worker --storage URL --study NAME` runs "
                                   "trials of a shared study (any machine); `fcnet search dashboard` opens "
                                   "optuna-dashboard. Any `fcnet train` flag not searched is passed through.")
    p.add_argument("action", nargs="?", choices=("run", "worker", "dashboard"), default="run")
    p.add_argument("--space", action="append", default=[], metavar="NAME=KIND:ARGS",
                   help="a searched option: lr=loguniform:1e-4:1e-1, dropout=uniform:0:0.5, "
                        "batch_size=int:32:256, hidden=choice:64,128|256")
    p.add_argument("--strategy", choices=("grid", "random", "coarse-to-fine"), default="random")
    p.add_argument("--trials", type=int, default=12, help="trials in all (default 12)")
    p.add_argument("--workers", type=int, default=1, help="local worker processes (0: only plan and watch)")
    p.add_argument("--coarse-epochs", type=int, help="epochs of the coarse stage (default epochs // 3)")
    p.add_argument("--pruner", choices=("median", "halving", "none"), default="median")
    p.add_argument("--storage", help="postgresql://user@host:port/db to share the study across machines "
                                     "(default: a journal file in --out)")
    p.add_argument("--study", help="study name (default fcnet-search)")
    p.add_argument("--resume", action="store_true", help="continue the search in --out")
    p.add_argument("--parent", type=int, help=argparse.SUPPRESS)
    p.add_argument("--config", help="TOML with training options and a [space] table")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_training_flags(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fcnet.search.runners import SearchConfig, run_search, run_worker
    from fcnet.search.space import parse_space, space_from_dict

    out = Path(getattr(args, "out", None) or "search")
    if args.action == "worker":
        if not args.storage or (not args.study and args.storage.startswith("postgresql")):
            raise ConfigError("fcnet search worker needs --storage URL and --study NAME")
        ran = run_worker(args.storage, args.study or "fcnet-search", out, args.pruner, args.parent)
        print(f"worker ran {ran} trials")
        return 0
    if args.action == "dashboard":
        exe = shutil.which("optuna-dashboard")
        if exe is None:
            raise ConfigError("optuna-dashboard is not installed: pip install optuna-dashboard")
        url = args.storage or f"{(out / 'journal.log').resolve()}"
        return subprocess.call([exe, url])
    config: dict[str, Any] = {}
    space = {}
    if args.config:
        raw = read_toml(args.config)
        space = space_from_dict(raw.pop("space", {}))
        config = parse_config(raw, args.config)
    space.update(parse_space(args.space))
    skip = {"func", "command", "action", "space", "strategy", "trials", "workers", "coarse_epochs", "pruner",
            "storage", "study", "resume", "parent", "config", "quiet", "debug"}
    cli = {k: v for k, v in vars(args).items() if k not in skip}
    base = resolve(cli, config)
    for k in ("out", "name", "threads"):
        base.pop(k, None)
    unknown = [k for k in space if k not in base and k != "epochs"]
    if unknown:
        raise ConfigError(f"cannot search {unknown[0]!r}: it is not a training option (see `fcnet train --help`)")
    cfg = SearchConfig(space=space, base=base, strategy=args.strategy, trials=args.trials, epochs=base["epochs"],
                       coarse_epochs=args.coarse_epochs, seed=base["seed"], workers=args.workers,
                       pruner=args.pruner, storage=args.storage, study=args.study, out=out, resume=args.resume)
    summary = run_search(cfg, log=lambda m: print(m, file=sys.stderr), progress=not args.quiet and sys.stderr.isatty())
    s = summary["states"]
    print(f"{summary['trials']} trials ({s['complete']} complete, {s['pruned']} pruned, {s['fail']} failed); "
          f"results: {out / 'results.csv'}")
    if "best_params" in summary:
        print(f"best validation accuracy {summary['best_val_accuracy']:.4f} with {summary['best_params']}; "
              f"retrain with: fcnet train --config {out / 'best.toml'}")
    return 0
