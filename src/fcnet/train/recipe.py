"""From options (CLI flags, TOML) to a trained run: data, model, optimizer, callbacks, files.

This is where option strings become classes (through the registries ``ACTIVATIONS``,
``OPTIMIZERS`` and ``DATASETS``); ``fcnet train`` and ``fcnet search`` both call ``run``.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fcnet import backend, data, nn, optim
from fcnet.data.dataset import Dataset, split
from fcnet.errors import ConfigError
from fcnet.train import io
from fcnet.train.callbacks import Callback, Checkpoint, EarlyStopping, GradientMonitor, LRScheduler
from fcnet.train.monitor import diagnose
from fcnet.train.trainer import Trainer

__all__ = ["Prepared", "blas_threads", "build", "prepare_data", "run"]


@dataclass
class Prepared:
    """Arrays ready for training: standardised float32 train/val/test splits."""

    dataset: Dataset
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray | None
    y_val: np.ndarray | None
    x_test: np.ndarray
    y_test: np.ndarray


def prepare_data(opts: dict[str, Any]) -> Prepared:
    """Load, subset, split (seeded) and standardise with training-split statistics."""
    ds = data.load(opts["data"], data_dir=opts.get("data_dir"))
    ds = ds.subset(opts.get("subset"), seed=opts["seed"])
    data.check_arrays(ds.x_train, ds.y_train, ds.num_classes, f"{ds.name} training data")
    data.check_arrays(ds.x_test, ds.y_test, ds.num_classes, f"{ds.name} test data")
    xtr, ytr, xva, yva = ds.x_train, ds.y_train, None, None
    if opts.get("val_split"):
        xtr, ytr, xva, yva = split(ds.x_train, ds.y_train, opts["val_split"], opts["seed"])
    pre = ds.preprocess
    if opts.get("standardize", True):
        pre.fit(xtr)
    else:
        pre.mean = pre.std = None
    return Prepared(ds, pre.apply(xtr), ytr, None if xva is None else pre.apply(xva), yva,
                    pre.apply(ds.x_test), ds.y_test)


def build(opts: dict[str, Any], in_features: int, classes: int, steps_per_epoch: int
          ) -> tuple[nn.FullyConnectedNet, optim.Optimizer, nn.Module, list[Callback]]:
    """Model, optimizer, loss and callbacks (schedules, early stopping, monitor) from options."""
    for key in ("lr", "batch_size", "epochs"):
        if not opts[key] > 0:
            raise ConfigError(f"{key} must be positive, got {opts[key]}")
    if not 0.0 <= opts["dropout"] < 1.0:
        raise ConfigError(f"dropout must be in [0, 1), got {opts['dropout']}")
    backend.xp_for(opts.get("device", "cpu"))  # a clear error when CUDA is asked for but absent
    model = nn.FullyConnectedNet(
        in_features, opts["hidden"], classes, activation=opts["activation"], batchnorm=opts["batchnorm"],
        dropout=opts["dropout"], init=opts["init"], std=opts.get("init_std"),
        negative_slope=opts["negative_slope"], rng=backend.default_generator(),
    )
    if opts.get("device", "cpu") != "cpu":
        model.to(opts["device"])
    name = opts["optimizer"]
    params, lr, wd = model.parameters(), opts["lr"], opts["weight_decay"]
    eps = opts.get("eps")
    if name == "sgd":
        opt: optim.Optimizer = optim.SGD(params, lr=lr, weight_decay=wd)
    elif name == "momentum":
        opt = optim.Momentum(params, lr=lr, momentum=opts["momentum"], weight_decay=wd, form=opts["momentum_form"])
    elif name == "rmsprop":
        opt = optim.RMSProp(params, lr=lr, rho=opts["rho"], eps=1e-5 if eps is None else eps, weight_decay=wd)
    elif name == "adam":
        opt = optim.Adam(params, lr=lr, betas=(opts["momentum"], opts["rho"]), eps=1e-5 if eps is None else eps,
                         weight_decay=wd, eps_inside=opts["eps_inside"])
    elif name == "adamw":
        opt = optim.AdamW(params, lr=lr, betas=(opts["momentum"], opts["rho"]), eps=1e-8 if eps is None else eps,
                          weight_decay=wd)
    else:
        raise ConfigError(f"unknown optimizer {name!r}: choose one of sgd, momentum, rmsprop, adam, adamw")
    loss: nn.Module = (nn.MulticlassHingeLoss(opts["margin"]) if opts["loss"] == "hinge"
                       else nn.CrossEntropyLoss(label_smoothing=opts["label_smoothing"]))
    callbacks: list[Callback] = [GradientMonitor()] if opts.get("monitor", True) else []
    total = opts["epochs"] * steps_per_epoch
    warm = round(opts.get("warmup", 0.0) * steps_per_epoch)
    after: optim.LRSchedule | None = None
    if opts["schedule"] == "cosine":
        after = optim.CosineLR(opt, total_steps=max(total - warm, 1))
    elif opts["schedule"] == "step":
        after = optim.StepLR(opt, step_size=max(opts["step_size"] * steps_per_epoch, 1), gamma=opts["gamma"])
    sched = optim.WarmupLR(opt, warm, after=after) if warm > 0 else after
    if sched is not None:
        callbacks.append(LRScheduler(sched, per="step"))
    if opts.get("early_stopping"):
        callbacks.append(EarlyStopping("val_loss" if opts.get("val_split") else "loss",
                                       patience=opts["early_stopping"]))
    if opts.get("tensorboard"):
        from fcnet.train.tensorboard import TensorBoard  # tensorboardX is an optional extra

        callbacks.append(TensorBoard(opts["tensorboard"]))
    return model, opt, loss, callbacks


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Limit BLAS threads to ``n`` (all cores when None)."""
    if not n:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n)):
        yield


def write_config(path: Path, opts: dict[str, Any]) -> None:
    """The effective configuration as TOML (None values are left out)."""
    import tomli_w

    clean = {k: v for k, v in opts.items() if v is not None}
    io.atomic_write(path, tomli_w.dumps(clean).encode())


def run(opts: dict[str, Any], run_dir: str | Path, resume: bool = False, progress: bool = True,
        log: Callable[[str], None] = print, on_trainer: Callable[[Trainer], None] | None = None,
        lr_override: float | None = None, checkpoint: bool = True, plots: bool = True) -> dict[str, Any]:
    """Train as the options say, writing the run directory; returns the summary.

    On ``resume`` the optimizer continues with its saved state, learning rate included,
    unless ``lr_override`` sets a new one (``fcnet train --resume RUN --lr 1e-4``).
    ``checkpoint=False`` and ``plots=False`` skip per-epoch checkpoints and PNGs (search trials).

    Raises KeyboardInterrupt (after the last epoch-boundary checkpoint is on disk) and
    DivergenceError (leaving the last good checkpoint intact).
    """
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    with blas_threads(opts.get("threads")):
        backend.manual_seed(opts["seed"])
        prep = prepare_data(opts)
        steps = math.ceil(len(prep.y_train) / opts["batch_size"])
        model, opt, loss, callbacks = build(opts, prep.x_train.shape[1], prep.dataset.num_classes, steps)
        ckpt = Checkpoint(run_dir / "checkpoint", every=opts.get("checkpoint_every", 1))
        if checkpoint:
            callbacks.append(ckpt)
        trainer = Trainer(model, opt, loss, l2=opts["l2"], l1=opts["l1"], clip_norm=opts.get("clip_norm"),
                          clip_value=opts.get("clip_value"), callbacks=callbacks, seed=opts["seed"],
                          progress=progress, log=log)
        if on_trainer is not None:
            on_trainer(trainer)
        if resume:
            arrays, state = Checkpoint.load(ckpt.directory)
            trainer.load_state_dict(arrays, state)
            ckpt.last_epoch = trainer.epoch
            if lr_override is not None:
                opt.lr = lr_override
            log(f"resuming {run_dir} after epoch {trainer.epoch}")
        else:
            write_config(run_dir / "config.toml", opts)
            if opts.get("monitor", True):
                n = min(len(prep.y_train), max(opts["batch_size"], 2))
                for msg in diagnose(model, loss, prep.x_train[:n], prep.y_train[:n], prep.dataset.num_classes):
                    log(f"warning: {msg}")
        try:
            trainer.fit(prep.x_train, prep.y_train, opts["epochs"], opts["batch_size"],
                        None if prep.x_val is None else (prep.x_val, prep.y_val))
        except KeyboardInterrupt:
            if checkpoint:
                ckpt.flush()  # the last complete epoch, even between --checkpoint-every saves
            raise
        finally:
            trainer.history.to_csv(run_dir / "history.csv")
        test, pred = trainer.evaluate(prep.x_test, prep.y_test, predictions=True)
        io.save_model(run_dir, model, prep.dataset.preprocess, prep.dataset.classes,
                      {"data": opts["data"], "epochs": trainer.epoch})
        summary = _finish(run_dir, trainer, prep, test, pred, time.perf_counter() - t_start, opts, plots)
    return summary


def _finish(run_dir: Path, trainer: Trainer, prep: Prepared, test: dict[str, float], pred: np.ndarray,
            secs: float, opts: dict[str, Any], plots: bool = True) -> dict[str, Any]:
    from fcnet.viz import confusion_matrix, plot_confusion, plot_curves, plot_grad_norms

    rows = trainer.history.rows
    if plots:
        cm = confusion_matrix(prep.y_test, pred, prep.dataset.num_classes)
        if rows:
            plot_curves(rows, "loss", run_dir / "loss.png", "loss per epoch")
            plot_curves(rows, "accuracy", run_dir / "accuracy.png", "accuracy per epoch")
            plot_grad_norms(rows, run_dir / "grad_norms.png")
        plot_confusion(cm, prep.dataset.classes, run_dir / "confusion.png")
    last = rows[-1] if rows else {}
    summary = {
        "data": opts["data"], "epochs": trainer.epoch, "test_accuracy": test["accuracy"],
        "test_loss": test["loss"], "train_loss": last.get("loss"), "train_accuracy": last.get("accuracy"),
        "val_loss": last.get("val_loss"), "val_accuracy": last.get("val_accuracy"),
        "parameters": trainer.model.num_parameters(), "architecture": trainer.model.summary().split("\n")[0],
        "seconds": secs, "seconds_per_epoch": float(np.mean([r["time"] for r in rows])) if rows else None,
        "train_samples": len(prep.y_train), "test_samples": len(prep.y_test),
        "cpu_count": os.cpu_count(),
    }
    io.write_json(run_dir / "summary.json", summary)
    return summary
