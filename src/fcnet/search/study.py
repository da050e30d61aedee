"""A search's Optuna study: opening it, its pruner, and the attempts at each planned trial.

Each planned trial carries its plan index (a user attribute); a trial whose worker died is
attempted again under the same index, so the outcome of a plan is its complete attempt, or
else its latest one.
"""

from __future__ import annotations

from typing import Any

from fcnet.errors import ConfigError
from fcnet.search.storage import MAX_RETRY, make_storage, mask_url

__all__ = ["PRUNERS", "WORKER_PREFIX", "open_study"]

PRUNERS = ("median", "halving", "none")
WORKER_PREFIX = "worker:"  # user attributes holding workers' heartbeats


def _pruner(name: str) -> Any:
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError(f"unknown pruner {name!r}: choose {', '.join(PRUNERS)}")


def open_study(storage_url: str, name: str, pruner: str | None = None, create: bool = False) -> Any:
    """Load (or create) the study ``name``; without ``pruner``, the one stored in the study."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = make_storage(storage_url)
    if create:
        return optuna.create_study(storage=storage, study_name=name, direction="maximize",
                                   pruner=_pruner(pruner or "median"), load_if_exists=True)
    try:
        study = optuna.load_study(study_name=name, storage=storage, pruner=optuna.pruners.NopPruner())
    except KeyError:
        shown = mask_url(storage_url)
        raise ConfigError(f"no study {name!r} in {shown}: start it with `fcnet search ... --storage "
                          f"{shown} --study {name}` first") from None
    study.pruner = _pruner(pruner or study.user_attrs.get("pruner", "median"))
    return study


def _attempts(study: Any, trials: list[Any] | None = None) -> dict[int, list[Any]]:
    """Every attempt at each plan index, oldest first (a dead worker's trial is attempted again)."""
    out: dict[int, list[Any]] = {}
    for t in sorted(study.get_trials(deepcopy=False) if trials is None else trials, key=lambda t: t.number):
        p = t.user_attrs.get("plan")
        if p is not None:
            out.setdefault(p, []).append(t)
    return out


def _died(t: Any) -> bool:
    """A trial that failed without an error of its own: its worker died (or was stopped)."""
    return t.state.name == "FAIL" and "error" not in t.user_attrs


def _latest(attempts: list[Any]) -> Any:
    """A complete attempt if any, else the latest."""
    done = [t for t in attempts if t.state.name == "COMPLETE"]
    return done[0] if done else attempts[-1]


def _trials_by_plan(study: Any) -> dict[int, Any]:
    """One trial per plan index: a complete one if any, else the latest attempt (retries, resumes)."""
    return {p: _latest(a) for p, a in _attempts(study).items()}


def _finished(t: Any, attempts: list[Any] | None = None) -> bool:
    """Whether a plan's outcome is final: complete, pruned, failed with an error, or dead too often."""
    state = t.state.name
    if state in ("COMPLETE", "PRUNED"):
        return True
    if state != "FAIL":
        return False
    return not _died(t) or sum(map(_died, attempts or [t])) > MAX_RETRY
