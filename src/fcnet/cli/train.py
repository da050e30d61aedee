"""``fcnet train``: train a fully-connected net; write a run directory."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError, DivergenceError, FcnetError
from fcnet.train.options import add_training_flags, load_config, resolve, validate
from fcnet.train.rundir import Interrupted, RunWriter, signals_interrupt


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="train a network and write a run directory",
                       description="Train a fully-connected network. Every flag can also come from a "
                                   "TOML file (--config); the effective config is written to the run "
                                   "directory.")
    p.add_argument("--config", help="TOML file of training options")
    p.add_argument("--resume", metavar="RUN_DIR",
                   help="continue an interrupted run from its checkpoint (bit-identical to an "
                        "uninterrupted run; --epochs extends it, --lr sets a new learning rate)")
    p.add_argument("--overwrite", action="store_true",
                   help="replace the run already in --out (the old one is kept until the new one succeeds)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    add_training_flags(p)
    p.set_defaults(func=run)


def _run_dir(opts: dict[str, Any]) -> Path:
    if opts.get("out") is not None:
        if not str(opts["out"]).strip():
            raise ConfigError("--out is empty: give the run directory to write (or leave --out out for runs/NAME)")
        return Path(opts["out"])
    name = opts.get("name") or f"{Path(str(opts['data'])).stem}-{time.strftime('%Y%m%d-%H%M%S')}"
    return Path("runs") / name


# what --resume may change: the run's length and how it is run; --data is checked by its fingerprint
RESUME_MAY_CHANGE = {"epochs", "lr", "threads", "monitor", "checkpoint_every", "early_stopping", "data",
                     "data_dir", "device", "out", "name", "tensorboard"}


def _check_resume_options(cli: dict[str, Any], saved: dict[str, Any]) -> None:
    """A resumed run keeps its model, optimizer and schedule; only RESUME_MAY_CHANGE may differ."""
    for name, value in cli.items():
        if name not in RESUME_MAY_CHANGE and value != saved.get(name):
            shown = ",".join(map(str, value)) if isinstance(value, list) else value
            was = ",".join(map(str, saved[name])) if isinstance(saved.get(name), list) else saved.get(name)
            raise ConfigError(f"--{name.replace('_', '-')} {shown} differs from the run's {was}: --resume continues "
                              "a run with its own model, optimizer and schedule (it may change --epochs, --lr, "
                              "--early-stopping, --checkpoint-every); start a new run with --out or --overwrite")


def run(args: argparse.Namespace) -> int:
    from fcnet.train.recipe import run as run_training

    cli = {k: v for k, v in vars(args).items() if k not in ("func", "command", "config", "resume", "quiet", "debug",
                                                             "overwrite")}
    if getattr(args, "out", None) is not None and not str(args.out).strip():
        raise ConfigError("--out is empty: give the run directory to write (or leave --out out for runs/NAME)")
    if args.resume:
        run_dir = Path(args.resume)
        if not (run_dir / "config.toml").is_file():
            raise FcnetError(f"{run_dir} is not a run directory (no config.toml): nothing to resume")
        if args.overwrite:
            raise ConfigError("--resume continues a run and --overwrite replaces one: give only one of them")
        saved = load_config(run_dir / "config.toml")
        _check_resume_options(cli, resolve({}, saved))
        # the run keeps its own lr: a new --lr is applied to the restored optimizer (recipe.set_lr)
        opts = resolve({k: v for k, v in cli.items() if k != "lr"}, saved)
        try:
            validate(opts)
        except ConfigError as exc:  # a hand-edited config.toml: name the file
            raise ConfigError(f"{run_dir / 'config.toml'}: {exc}") from None
        mode = "resume"
    else:
        opts = resolve(cli, load_config(args.config) if args.config else None)
        run_dir = _run_dir(opts)
        mode = "overwrite" if args.overwrite else "new"
    progress = not args.quiet and sys.stderr.isatty()

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    writer = RunWriter(run_dir, mode)
    quiet = (lambda trainer: setattr(trainer, "log_epochs", False)) if args.quiet else None
    try:
        with signals_interrupt(), writer:
            summary = run_training(opts, writer.work_dir, resume=bool(args.resume), progress=progress, log=log,
                                   lr_override=cli.get("lr") if args.resume else None, on_trainer=quiet)
    except KeyboardInterrupt as exc:
        ckpt = run_dir / "checkpoint"
        what = f"interrupted ({exc.args[0]})" if isinstance(exc, Interrupted) else "interrupted"
        if writer.staging is not None:
            print(f"\n{what}: {run_dir} is unchanged", file=sys.stderr)
        elif (ckpt / "state.json").is_file():
            print(f"\n{what}: the checkpoint of the last complete epoch is in {ckpt}; resume with:\n"
                  f"  fcnet train --resume {run_dir}", file=sys.stderr)
        else:
            print(f"\n{what} before the first epoch completed: no checkpoint to resume from",
                  file=sys.stderr)
        return 128 + exc.signum if isinstance(exc, Interrupted) else 130
    except DivergenceError as exc:
        msg = str(exc).replace(str(writer.work_dir), str(run_dir))
        print(f"fcnet: error: {msg}", file=sys.stderr)
        return exc.exit_code
    print(f"test accuracy: {summary['test_accuracy']:.2%} (loss {summary['test_loss']:.4f}) on "
          f"{summary['test_samples']} {opts['data']} test samples after {summary['epochs']} epochs "
          f"({summary['seconds']:.1f} s); run directory: {run_dir}")
    return 0
