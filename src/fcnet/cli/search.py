"""``fcnet search``: grid, random and coarse-to-fine hyperparameter search (slides 170-178).

``fcnet search [options]`` plans a search and runs it with local workers; ``fcnet search
worker`` (its own parser: storage, study, out, threads, device) runs trials of a study planned
elsewhere and takes every training setting from the study; ``fcnet search dashboard`` opens
optuna-dashboard.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from fcnet.cli.args import whole_number
from fcnet.errors import ConfigError
from fcnet.train.options import OPTIONS, add_training_flags, coerce, parse_config, read_toml, resolve

WORKER_OUT = "search"  # a worker's default --out: trials go to ./search/trials/NNNN, as the planner's do


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="hyperparameter search (grid, random, coarse-to-fine) on Optuna",
                       description="Search training options. `fcnet search [options]` plans and runs a search "
                                   "with local workers; `fcnet search worker --storage URL --study NAME` runs "
                                   "trials of a shared study (any machine; see `fcnet search worker --help`); "
                                   "`fcnet search dashboard` opens optuna-dashboard. Any `fcnet train` flag not "
                                   "searched is passed through.")
    p.add_argument("--space", action="append", default=[], metavar="NAME=KIND:ARGS",
                   help="a searched option: lr=loguniform:1e-4:1e-1, dropout=uniform:0:0.5, "
                        "batch_size=int:32:256, hidden=choice:64,128|256")
    p.add_argument("--strategy", choices=("grid", "random", "coarse-to-fine"), help="default random")
    p.add_argument("--trials", type=whole_number("--trials", 1), help="trials in all (default 12)")
    p.add_argument("--workers", type=whole_number("--workers", 0), default=1,
                   help="local worker processes, at most one per core (0: only plan and watch; default 1)")
    p.add_argument("--coarse-epochs", type=whole_number("--coarse-epochs", 1),
                   help="epochs of the coarse stage (default epochs // 3)")
    p.add_argument("--pruner", choices=("median", "halving", "none"),
                   help="stops hopeless trials early; stored in the study, so every worker uses it "
                        "(default median; on --resume, the search's own)")
    p.add_argument("--storage", help="postgresql://user@host:port/db to share the study across machines "
                                     "(default: a journal file in --out); the password may come from "
                                     "FCNET_STORAGE_PASSWORD, PGPASSWORD or ~/.pgpass instead")
    p.add_argument("--study", help="study name (default fcnet-search)")
    p.add_argument("--resume", action="store_true",
                   help="continue the search in --out (or --storage/--study): its settings come from the study; "
                        "only --workers, --quiet and --out may change")
    p.add_argument("--config", help="TOML with training options and a [space] table")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_training_flags(p)
    p.set_defaults(func=run, action="run")
    actions = p.add_subparsers(dest="action", metavar="{worker,dashboard}")
    w = actions.add_parser("worker", help="run trials of a study planned by `fcnet search --storage ...`",
                           description="Run queued trials of a study until the planner has finished. Every "
                                       "training setting (options, space, epochs, pruner) comes from the "
                                       "study; these flags only say how this machine runs them.")
    w.add_argument("--storage", required=True, help="the planner's storage URL (journal:PATH or "
                                                   "postgresql://user@host:port/db; password from the URL, "
                                                   "FCNET_STORAGE_PASSWORD, PGPASSWORD or ~/.pgpass)")
    w.add_argument("--study", default="fcnet-search", help="study name (default fcnet-search)")
    w.add_argument("--out", default=WORKER_OUT,
                   help=f"directory for this machine's trial runs, written to OUT/trials/NNNN (default ./{WORKER_OUT})")
    w.add_argument("--threads", type=whole_number("--threads", 1), default=1,
                   help="BLAS threads per trial (default 1)")
    w.add_argument("--device", help="cpu or cuda (default: the planner's --device)")
    w.add_argument("--pruner", choices=("median", "halving", "none"),
                   help="only checked: it must match the pruner stored in the study")
    w.add_argument("--parent", type=int, help=argparse.SUPPRESS)
    w.set_defaults(func=run_worker_cmd)
    d = actions.add_parser("dashboard", help="open optuna-dashboard on a search's storage")
    d.add_argument("--storage", help="storage URL (default: the journal file in --out); the password may come "
                                     "from FCNET_STORAGE_PASSWORD, PGPASSWORD or ~/.pgpass")
    d.add_argument("--out", default="search", help="the search's directory (default ./search)")
    d.add_argument("--port", type=whole_number("--port", 1, 65535), default=8080,
                   help="port to serve on (default 8080)")
    d.add_argument("--host", default="127.0.0.1", help="address to serve on (default 127.0.0.1)")
    d.set_defaults(func=dashboard)


def run_worker_cmd(args: argparse.Namespace) -> int:
    from fcnet.search.runners import run_worker
    from fcnet.search.storage import require_optuna

    require_optuna()

    given = sorted(k for k in vars(args) if k in OPTIONS and k not in ("out", "threads", "device"))
    if given:
        flag = "--" + given[0].replace("_", "-")
        raise ConfigError(f"{flag} is a planner option: a worker takes every training setting from the study; "
                          "give it to `fcnet search` instead")
    device = coerce("device", args.device) if args.device else None
    ran = run_worker(args.storage, args.study, Path(args.out), pruner=args.pruner, parent=args.parent,
                     threads=args.threads, device=device)
    print(f"worker ran {ran} trials")
    return 0


def dashboard(args: argparse.Namespace) -> int:
    exe = shutil.which("optuna-dashboard")
    if exe is None:
        raise ConfigError("optuna-dashboard is not installed: pip install optuna-dashboard")
    from fcnet.search.storage import PASSWORD_ENV, split_password

    env = dict(os.environ)
    if args.storage:
        url, password = split_password(args.storage)  # never on a command line (`ps` shows those)
        password = password or os.environ.get(PASSWORD_ENV)
        if password and not url.startswith("journal:"):
            env["PGPASSWORD"] = password  # libpq reads it, as it reads ~/.pgpass
    else:
        journal = (Path(args.out) / "journal.log").resolve()
        if not journal.exists():
            raise ConfigError(f"no search in {args.out} (no {journal.name}): give its --out or --storage")
        url = str(journal)
    url = url[len("journal:"):] if url.startswith("journal:") else url
    return subprocess.call([exe, url, "--port", str(args.port), "--host", args.host], env=env)


def check_out(out: Path, resume: bool, shared: bool = False) -> None:
    """A search writes its own directory: never a file, never a training run's directory."""
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file, not a directory: choose another --out")
    if (out / "model.json").exists() or (out / "checkpoint").is_dir():
        raise ConfigError(f"--out {out} is a training run, not a search directory: choose another --out")
    if resume and not out.is_dir() and not shared:
        raise ConfigError(f"--resume: {out} does not exist, so there is no search to continue; "
                          "drop --resume to start one, or give its --out (or its --storage and --study)")


def run(args: argparse.Namespace) -> int:
    from fcnet.search.runners import SearchConfig, check_completed, run_search
    from fcnet.search.space import parse_space, space_from_dict
    from fcnet.search.storage import require_optuna

    require_optuna()

    out = Path(getattr(args, "out", None) or "search")
    shared = bool(args.storage) and not args.storage.startswith("journal:")
    check_out(out, args.resume, shared)  # a study in a shared storage resumes anywhere; a journal lives in --out
    config: dict[str, Any] = {}
    space = {}
    if args.config:
        raw = read_toml(args.config)
        raw_space = raw.pop("space", {})
        if not isinstance(raw_space, dict):
            raise ConfigError(f"{args.config}: [space] must be a table like lr = \"loguniform:1e-4:1e-1\", "
                              f"got {raw_space!r}")
        space = space_from_dict(raw_space, f"{args.config} [space]")
        config = parse_config(raw, args.config)
    given = set(config) | {k for k in vars(args) if k in OPTIONS}
    if args.space or space:
        given.add("space")
    given |= {k for k in ("strategy", "trials", "coarse_epochs", "pruner") if getattr(args, k) is not None}
    space.update(parse_space(args.space))
    skip = {"func", "command", "action", "space", "strategy", "trials", "workers", "coarse_epochs", "pruner",
            "storage", "study", "resume", "config", "quiet", "debug"}
    cli = {k: v for k, v in vars(args).items() if k not in skip}
    base = resolve(cli, config)
    for k in ("out", "name", "threads"):
        base.pop(k, None)
    strategy, trials = args.strategy or "random", args.trials or 12
    if strategy == "coarse-to-fine" and trials < 2:
        raise ConfigError(f"--strategy coarse-to-fine runs two stages: give --trials 2 or more, got {trials}")
    workers = args.workers
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if workers > cores:
        print(f"note: --workers {workers} capped at {cores}, the cores of this machine (more would only share "
              "them); run `fcnet search worker` on other machines to add more", file=sys.stderr)
        workers = cores
    cfg = SearchConfig(space=space, base=base, strategy=strategy, trials=trials, epochs=base["epochs"],
                       coarse_epochs=args.coarse_epochs, seed=base["seed"], workers=workers,
                       pruner=args.pruner, storage=args.storage, study=args.study, out=out, resume=args.resume,
                       given=given)
    bar = not args.quiet and sys.stderr.isatty()
    summary = run_search(cfg, log=lambda m: print(m, file=sys.stderr, flush=True), progress=bar,
                         report=not args.quiet and not bar)
    s = summary["states"]
    print(f"{summary['trials']} trials ({s['complete']} complete, {s['pruned']} pruned, {s['fail']} failed); "
          f"results: {out / 'results.csv'}")
    if "best_params" in summary:
        print(f"best validation accuracy {summary['best_val_accuracy']:.4f} with {summary['best_params']}; "
              f"retrain with: fcnet train --config {out / 'best.toml'}")
    check_completed(summary)  # no trial completed: exit 2 if every failure was a user error, else 1
    return 0
