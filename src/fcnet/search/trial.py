"""One trial: a training run with searched options, reporting validation accuracy per epoch."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError
from fcnet.search.space import Choice, Int, LogUniform, Param, Uniform, parse_param
from fcnet.train.callbacks import Callback

__all__ = ["decode", "encode", "objective", "suggest"]


def encode(v: Any) -> Any:
    """Optuna categoricals hold only plain values: tuples become "a,b"."""
    return ",".join(map(str, v)) if isinstance(v, tuple | list) else v


def decode(v: Any, param: Param) -> Any:
    """Back from ``encode``."""
    if isinstance(param, Choice):
        for c in param.values:
            if encode(c) == v:
                return list(c) if isinstance(c, tuple) else c
    return v


def suggest(trial: Any, name: str, param: Param) -> Any:
    """Ask Optuna's trial for ``name`` from ``param``'s distribution."""
    if isinstance(param, Choice):
        return decode(trial.suggest_categorical(name, [encode(v) for v in param.values]), param)
    if isinstance(param, LogUniform):
        return trial.suggest_float(name, param.low, param.high, log=True)
    if isinstance(param, Uniform):
        return trial.suggest_float(name, param.low, param.high)
    if isinstance(param, Int):
        return trial.suggest_int(name, param.low, param.high, log=param.log)
    raise ConfigError(f"cannot search {name} with {param!r}")


class _Report(Callback):
    """Report validation accuracy to Optuna after each epoch; prune hopeless trials."""

    def __init__(self, trial: Any, parent: int | None) -> None:
        self.trial, self.parent = trial, parent

    def on_epoch_end(self, trainer: Any, epoch: int, logs: dict[str, Any]) -> None:
        import optuna

        if self.parent and os.getppid() != self.parent:
            raise SystemExit("the search that started this worker is gone")
        self.trial.report(float(logs["val_accuracy"]), epoch)
        if self.trial.should_prune():
            raise optuna.TrialPruned(f"pruned after epoch {epoch} (val_accuracy {logs['val_accuracy']:.4f})")


def objective(trial: Any, out: Path, parent: int | None = None, threads: int = 1, device: str | None = None) -> float:
    """Train the trial's configuration; its score is the last epoch's validation accuracy.

    Every setting comes from the study (the planner's options, the stage's space, the trial's
    epochs); ``threads`` and ``device`` are the worker's machine-local choices.  An exception is
    recorded on the trial (``error``; ``user_error`` when it is an ``FcnetError``), so a failed
    trial is told apart from one whose worker died.
    """
    import optuna

    from fcnet.errors import FcnetError
    from fcnet.search.storage import StorageUnavailable
    from fcnet.train.options import coerce, resolve
    from fcnet.train.recipe import run

    attrs = trial.user_attrs
    try:
        study_attrs = trial.study.user_attrs
        space = {k: parse_param(v) for k, v in study_attrs["spaces"][str(attrs["stage"])].items()}
        params = {name: coerce(name, suggest(trial, name, p)) for name, p in space.items()}
        local = {"threads": threads, "monitor": False, **({"device": device} if device else {})}
        opts = resolve({**study_attrs["base"], **params, "epochs": attrs["epochs"], **local})
        # a re-run of a dead worker's trial gets a directory of its own: the dead one's may be half written
        attempt = f"-attempt{attrs['attempt']}" if attrs.get("attempt") else ""
        run_dir = out / "trials" / f"{attrs['plan']:04d}{attempt}"
        summary = run(opts, run_dir, progress=False, log=lambda m: None, checkpoint=False, plots=False,
                      on_trainer=lambda t: t.callbacks.append(_Report(trial, parent)))
    except (optuna.TrialPruned, StorageUnavailable):
        raise
    except Exception as exc:
        trial.set_user_attr("error", f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")
        trial.set_user_attr("user_error", isinstance(exc, FcnetError))
        raise
    trial.set_user_attr("test_accuracy", summary["test_accuracy"])
    trial.set_user_attr("seconds", summary["seconds"])
    return float(summary["val_accuracy"])
