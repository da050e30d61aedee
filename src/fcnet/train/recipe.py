"""From options (CLI flags, TOML) to a trained run: data, model, optimizer, callbacks, files.

This is where option strings become classes (through the registries ``ACTIVATIONS``,
``OPTIMIZERS`` and ``DATASETS``); ``fcnet train`` and ``fcnet search`` both call ``run``.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import math
import os
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from fcnet import backend, data, nn, optim
from fcnet.data.dataset import Dataset, split
from fcnet.errors import ConfigError, DataError
from fcnet.train import io
from fcnet.train.callbacks import Callback, Checkpoint, CSVLogger, EarlyStopping, GradientMonitor, LRScheduler
from fcnet.train.monitor import diagnose
from fcnet.train.options import TrainConfig, coerce, validate
from fcnet.train.trainer import Trainer

__all__ = ["OPTIMIZERS", "Prepared", "blas_threads", "build", "check_memory", "fingerprint", "make_augment",
           "make_schedule", "prepare_data", "run"]

OptimizerFactory = Callable[[list[Any], Mapping[str, Any]], optim.Optimizer]

# --optimizer NAME → the optimizer built from the validated options (δ defaults differ per optimizer)
OPTIMIZERS: dict[str, OptimizerFactory] = {
    "sgd": lambda p, o: optim.SGD(p, lr=o["lr"], weight_decay=o["weight_decay"]),
    "momentum": lambda p, o: optim.Momentum(p, lr=o["lr"], momentum=o["momentum"], weight_decay=o["weight_decay"],
                                            form=o["momentum_form"], nesterov=o.get("nesterov", False)),
    "rmsprop": lambda p, o: optim.RMSProp(p, lr=o["lr"], rho=o["rho"], eps=1e-5 if o["eps"] is None else o["eps"],
                                          weight_decay=o["weight_decay"]),
    "adagrad": lambda p, o: optim.Adagrad(p, lr=o["lr"], eps=1e-5 if o["eps"] is None else o["eps"],
                                          weight_decay=o["weight_decay"], eps_inside=o["eps_inside"]),
    "adam": lambda p, o: optim.Adam(p, lr=o["lr"], betas=(o["momentum"], o["rho"]),
                                    eps=1e-5 if o["eps"] is None else o["eps"], weight_decay=o["weight_decay"],
                                    eps_inside=o["eps_inside"]),
    "adamw": lambda p, o: optim.AdamW(p, lr=o["lr"], betas=(o["momentum"], o["rho"]),
                                      eps=1e-8 if o["eps"] is None else o["eps"], weight_decay=o["weight_decay"]),
}


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


def prepare_data(opts: Mapping[str, Any]) -> Prepared:
    """Load, subset, split (seeded) and standardise with training-split statistics."""
    ds = data.load(opts["data"], data_dir=opts.get("data_dir"))
    ds = ds.subset(opts.get("subset"), seed=opts["seed"])
    data.check_arrays(ds.x_train, ds.y_train, ds.num_classes, f"{ds.name} training data")
    data.check_arrays(ds.x_test, ds.y_test, ds.num_classes, f"{ds.name} test data")
    if len(ds.y_train) < 2 or len(ds.y_test) < 1:
        raise DataError(f"{ds.name} has {len(ds.y_train)} training and {len(ds.y_test)} test samples: "
                        "a run needs at least 2 and 1; give more data (or a larger --subset)")
    present = np.unique(ds.y_train)
    if len(present) < 2:
        raise DataError(f"{ds.name}: every training sample has the class {ds.classes[int(present[0])]!r}; "
                        "a classifier needs at least two classes (an accuracy of 100% would mean nothing)")
    xtr, ytr, xva, yva = ds.x_train, ds.y_train, None, None
    if opts.get("val_split"):
        frac = opts["val_split"]
        xtr, ytr, xva, yva = split(ds.x_train, ds.y_train, frac, opts["seed"])
        if len(ytr) < 1 or len(yva) < 1:
            raise ConfigError(f"--val-split {frac} of the {len(ds.y_train)} {ds.name} training samples leaves "
                              f"{len(ytr)} for training and {len(yva)} for validation: lower --val-split "
                              "or raise --subset (a run needs at least 1 of each)")
    pre = ds.preprocess
    if opts.get("standardize", True):
        pre.fit(xtr)
    else:
        pre.mean = pre.std = None
    return Prepared(ds, pre.apply(xtr), ytr, None if xva is None else pre.apply(xva), yva,
                    pre.apply(ds.x_test), ds.y_test)


def fingerprint(ds: Dataset) -> dict[str, Any]:
    """What identifies the data a run trains on: its name, array shapes and a SHA-256 of every array.

    Hashing all bytes takes ~0.1 s per 50 MB; it makes ``--resume`` on other data of the same
    shape detectable.
    """
    h = hashlib.sha256()
    for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        h.update(str((a.dtype.str, a.shape)).encode())
        h.update(np.ascontiguousarray(a).data)
    return {"name": ds.name, "x_train": list(ds.x_train.shape), "x_test": list(ds.x_test.shape),
            "classes": len(ds.classes), "sha256": h.hexdigest()}


def available_memory() -> int | None:
    """Bytes of memory available to a new allocation (Linux ``MemAvailable``), or None if unknown.

    Read from /proc/meminfo rather than through psutil: one number does not justify a dependency.
    """
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(opts: Mapping[str, Any], in_features: int, classes: int, batch_size: int,
                 available: int | None = None) -> None:
    """Refuse, before allocating, a model or batch larger than the memory the machine has.

    Parameters count 4 float32 copies (weights, gradients, two optimizer moments); a batch
    counts 4 float32 values per unit (pre-activation, activation and their gradients).
    """
    widths = [in_features, *opts["hidden"], classes]
    params = sum(a * b + b for a, b in itertools.pairwise(widths))
    model_bytes = 4 * 4 * params
    batch_bytes = 4 * 4 * batch_size * sum(widths)
    need = model_bytes + batch_bytes
    available = available_memory() if available is None else available
    if available is None or need <= 0.8 * available:
        return
    what = "--hidden (the layer widths)" if model_bytes >= batch_bytes else "--batch-size"
    raise ConfigError(f"this model ({params:,} parameters) and a batch of {batch_size} need about "
                      f"{need / 1e9:.1f} GB of memory, but {available / 1e9:.1f} GB is available: lower {what}")


def build(opts: Mapping[str, Any], in_features: int, classes: int, steps_per_epoch: int,
          rng: np.random.Generator | None = None
          ) -> tuple[nn.FullyConnectedNet, optim.Optimizer, nn.Module, list[Callback]]:
    """Model, optimizer, loss and callbacks (schedules, early stopping, monitor) from options.

    The model owns ``rng`` (a new generator seeded with ``--seed`` when None): it draws the
    initial weights, then the dropout masks; no process-wide generator is read.
    """
    opts = validate(opts)
    backend.xp_for(opts["device"])  # a clear error when CUDA is asked for but absent
    model = nn.FullyConnectedNet(
        in_features, opts["hidden"], classes, activation=opts["activation"], batchnorm=opts["batchnorm"],
        dropout=opts["dropout"], init=opts["init"], std=opts.get("init_std"),
        negative_slope=opts["negative_slope"], rng=np.random.default_rng(opts["seed"]) if rng is None else rng,
    )
    if opts["device"] != "cpu":
        model.to(opts["device"])
    opt = OPTIMIZERS[opts["optimizer"]](model.parameters(), opts)
    loss: nn.Module = (nn.MulticlassHingeLoss(opts["margin"]) if opts["loss"] == "hinge"
                       else nn.CrossEntropyLoss(label_smoothing=opts["label_smoothing"]))
    callbacks: list[Callback] = [GradientMonitor()] if opts.get("monitor", True) else []
    sched = make_schedule(opts, opt, steps_per_epoch)
    if sched is not None:
        callbacks.append(LRScheduler(sched, per="step"))
    if opts.get("early_stopping"):
        callbacks.append(EarlyStopping("val_loss" if opts.get("val_split") else "loss",
                                       patience=opts["early_stopping"]))
    if opts.get("tensorboard"):
        from fcnet.train.tensorboard import TensorBoard  # tensorboardX is an optional extra

        callbacks.append(TensorBoard(opts["tensorboard"]))
    return model, opt, loss, callbacks


def make_schedule(opts: Mapping[str, Any], opt: optim.Optimizer, steps_per_epoch: int) -> optim.LRSchedule | None:
    """The per-step learning-rate schedule the options ask for (None for a constant rate).

    Warm-up, then cosine or step decay, laid out over ``epochs`` epochs; with a ``time_budget``
    the same shape runs on the fraction of the budget used (``TimeBudgetLR``).
    """
    total = opts["epochs"] * steps_per_epoch
    warm = round(opts.get("warmup", 0.0) * steps_per_epoch)
    after: optim.LRSchedule | None = None
    if opts["schedule"] == "cosine":
        after = optim.CosineLR(opt, total_steps=max(total - warm, 1))
    elif opts["schedule"] == "step":
        after = optim.StepLR(opt, step_size=max(opts["step_size"] * steps_per_epoch, 1), gamma=opts["gamma"])
    sched = optim.WarmupLR(opt, warm, after=after) if warm > 0 else after
    if sched is not None and opts.get("time_budget"):  # the same shape, on the fraction of the budget used
        sched = optim.TimeBudgetLR(sched, opts["time_budget"], total_steps=max(total, 1))
    return sched


def make_augment(opts: Mapping[str, Any], prep: Prepared) -> data.ImageAugment | None:
    """The ``--augment`` of the options for the prepared data (None when off).

    Flips and shifts need to know the image shape and the standardisation (μ, σ per pixel), so a
    data set without an image shape (a CSV or .npz of plain features) is refused.
    """
    if not opts.get("augment"):
        return None
    pre = prep.dataset.preprocess
    d = prep.x_train.shape[1]
    if pre.image_shape is None or math.prod(pre.image_shape) != d:
        raise ConfigError(f"--augment flips and shifts images, but {prep.dataset.name} has no image shape "
                          f"for its {d} features: leave --augment off for data that are not images")
    return data.ImageAugment(pre.image_shape, pre.layout, flip=opts.get("augment_flip", True),
                             shift=opts.get("augment_shift", 2), mean=pre.mean, std=pre.std)


@contextlib.contextmanager
def blas_threads(n: int | None) -> Iterator[None]:
    """Limit BLAS threads to ``n`` (all cores when None)."""
    if not n:
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=int(n)):
        yield


def write_config(path: Path, opts: Mapping[str, Any]) -> None:
    """The effective configuration as TOML (None values are left out)."""
    import tomli_w

    clean = {k: v for k, v in opts.items() if v is not None}
    io.atomic_write(path, tomli_w.dumps(clean).encode())


def set_lr(schedule: optim.LRSchedule | None, opt: optim.Optimizer, lr: float) -> None:
    """Make ``lr`` the learning rate from now on, keeping the schedule's remaining shape.

    A schedule sets ε_t = ε₀ f(t) at every step; a resumed run with a new ``--lr`` ε' at step t₀
    continues with ε₀ ← ε' / f(t₀), so its next learning rate is ε' and later decays still apply.
    """
    if schedule is None:
        opt.lr = lr
        return
    now = schedule.lr_at(schedule.t)
    if not now > 0:
        raise ConfigError(f"the {type(schedule).__name__} schedule has reached a learning rate of 0 at step "
                          f"{schedule.t}, so --lr {lr} cannot rescale it: raise --epochs or use --schedule none")
    factor = lr / now
    s: optim.LRSchedule | None = schedule
    while s is not None:  # WarmupLR hands over to ``after``, TimeBudgetLR drives ``schedule``: each has its ε₀
        s.base_lr *= factor
        s = getattr(s, "after", None) or getattr(s, "schedule", None)
    opt.lr = schedule.lr_at(schedule.t)


def run(opts: Mapping[str, Any], run_dir: str | Path, resume: bool = False, progress: bool = True,
        log: Callable[[str], None] = print, on_trainer: Callable[[Trainer], None] | None = None,
        lr_override: float | None = None, checkpoint: bool = True, plots: bool = True) -> dict[str, Any]:
    """Train as the options say, writing the run directory; returns the summary.

    On ``resume`` the optimizer continues with its saved state, learning rate included,
    unless ``lr_override`` sets a new one (``fcnet train --resume RUN --lr 1e-4``; see ``set_lr``).
    A resume on data other than the checkpoint's (by ``fingerprint``) is refused.
    ``checkpoint=False`` and ``plots=False`` skip per-epoch checkpoints and PNGs (search trials).

    Raises KeyboardInterrupt (after the last epoch-boundary checkpoint is on disk) and
    DivergenceError (leaving the last good checkpoint intact).
    """
    cfg: TrainConfig = validate(opts)
    if lr_override is not None:
        lr_override = coerce("lr", lr_override)
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    with blas_threads(cfg["threads"]):
        prep = prepare_data(cfg)
        n = len(prep.y_train)
        batch_size = cfg["batch_size"]
        if batch_size > n:
            log(f"note: --batch-size {batch_size} is larger than the {n} training samples; using {n}")
            batch_size = n
        check_memory(cfg, prep.x_train.shape[1], prep.dataset.num_classes, batch_size)
        steps = math.ceil(n / batch_size)
        model, opt, loss, callbacks = build(cfg, prep.x_train.shape[1], prep.dataset.num_classes, steps)
        schedule = next((cb.schedule for cb in callbacks if isinstance(cb, LRScheduler)), None)
        ckpt = Checkpoint(run_dir / "checkpoint", every=cfg["checkpoint_every"])
        data_id = fingerprint(prep.dataset)
        ckpt.extra = {"data": data_id}
        if checkpoint:
            callbacks.append(ckpt)
        callbacks.append(CSVLogger(run_dir / "history.csv"))  # last: after the callbacks that add metrics
        trainer = Trainer(model, opt, loss, l2=cfg["l2"], l1=cfg["l1"], clip_norm=cfg["clip_norm"],
                          clip_value=cfg["clip_value"], callbacks=callbacks, seed=cfg["seed"],
                          progress=progress, log=log, time_budget=cfg["time_budget"],
                          augment=make_augment(cfg, prep))
        if on_trainer is not None:
            on_trainer(trainer)
        if resume:
            arrays, state = Checkpoint.load(ckpt.directory)
            _check_same_data(state.get("data"), data_id, run_dir, log)
            trainer.load_state_dict(arrays, state)
            ckpt.last_epoch = trainer.epoch
            if not cfg["time_budget"] and cfg["epochs"] < trainer.epoch:
                raise ConfigError(f"--epochs {cfg['epochs']} is fewer than the {trainer.epoch} epochs {run_dir} has "
                                  f"trained: give --epochs {trainer.epoch + 1} or more to continue it (--epochs "
                                  f"{trainer.epoch} only finishes it)")
            if lr_override is not None:
                set_lr(schedule, opt, lr_override)
            log(f"resuming {run_dir} after epoch {trainer.epoch}")
        else:
            write_config(run_dir / "config.toml", cfg)
            if cfg["monitor"]:
                k = min(n, max(batch_size, 2))
                for msg in diagnose(model, loss, prep.x_train[:k], prep.y_train[:k], prep.dataset.num_classes):
                    log(f"warning: {msg}")
        try:
            trainer.fit(prep.x_train, prep.y_train, batch_size=batch_size,
                        epochs=None if cfg["time_budget"] else cfg["epochs"],
                        validation_data=None if prep.x_val is None else (prep.x_val, prep.y_val),
                        initial_epoch=trainer.epoch)
        except KeyboardInterrupt:
            if checkpoint:
                ckpt.flush()  # the last complete epoch, even between --checkpoint-every saves
            raise
        if checkpoint:
            ckpt.flush()  # the last epoch too: a finished run can always be resumed for more epochs
        test, pred = trainer.evaluate(prep.x_test, prep.y_test, predictions=True)
        io.save_model(run_dir, model, prep.dataset.preprocess, prep.dataset.classes,
                      {"data": cfg["data"], "epochs": trainer.epoch})
        summary = _finish(run_dir, trainer, prep, test, pred, time.perf_counter() - t_start, cfg, plots)
    return summary


def _check_same_data(saved: dict[str, Any] | None, now: dict[str, Any], run_dir: Path,
                     log: Callable[[str], None]) -> None:
    if saved is None:
        log(f"warning: the checkpoint in {run_dir} does not record its data, so it cannot be checked")
        return
    if saved != now:
        def show(d: dict[str, Any]) -> str:
            shape = "×".join(map(str, d.get("x_train", [])))
            return f"{d.get('name')} (x_train {shape}, sha256 {str(d.get('sha256'))[:12]})"
        raise DataError(f"--resume {run_dir}: its checkpoint was trained on {show(saved)}, but the data now is "
                        f"{show(now)}; resume with the same --data, --subset and --seed, or start a new run")


def _finish(run_dir: Path, trainer: Trainer, prep: Prepared, test: dict[str, float], pred: np.ndarray,
            secs: float, opts: Mapping[str, Any], plots: bool = True) -> dict[str, Any]:
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
        "cpu_count": os.cpu_count(), "time_used": trainer.time_used, "time_budget": opts["time_budget"],
    }
    io.write_json(run_dir / "summary.json", summary)
    return summary
