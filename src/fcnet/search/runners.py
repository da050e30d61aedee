"""Running a search: the planner (parent) and workers (local processes or other machines).

The parent draws every trial's configuration with fcnet's strategies from a seeded
generator and puts them in an Optuna study's queue (``enqueue_trial``), so a search is
reproducible trial for trial however many workers run it.  Workers (``fcnet search
worker``) pop queued trials until none is left; pruning uses Optuna's pruners on per-epoch
validation accuracy.  The parent writes the results table as trials finish.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fcnet.errors import ConfigError
from fcnet.search.space import Param, parse_param
from fcnet.search.storage import MAX_RETRY, make_storage, uses_heartbeat
from fcnet.search.strategies import edge_warnings, grid_points, narrow_space, random_points
from fcnet.search.trial import encode, objective

__all__ = ["SearchConfig", "run_search", "run_worker"]

STRATEGIES = ("grid", "random", "coarse-to-fine")


@dataclass
class SearchConfig:
    """What to search: the space, the strategy, the budget, and the fixed training options."""

    space: dict[str, Param]
    base: dict[str, Any]
    strategy: str = "random"
    trials: int = 12
    epochs: int = 3
    coarse_epochs: int | None = None
    seed: int = 0
    workers: int = 1
    pruner: str = "median"
    storage: str | None = None
    study: str | None = None
    out: Path = field(default_factory=lambda: Path("search"))
    resume: bool = False


def _pruner(name: str) -> Any:
    import optuna

    if name == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1)
    if name == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    if name == "none":
        return optuna.pruners.NopPruner()
    raise ConfigError(f"unknown pruner {name!r}: choose median, halving or none")


def open_study(storage_url: str, name: str, pruner: str = "median", create: bool = False) -> Any:
    """Load (or create) the study ``name`` in ``storage_url``."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = make_storage(storage_url)
    if create:
        return optuna.create_study(storage=storage, study_name=name, direction="maximize",
                                   pruner=_pruner(pruner), load_if_exists=True)
    try:
        return optuna.load_study(study_name=name, storage=storage, pruner=_pruner(pruner))
    except KeyError:
        raise ConfigError(f"no study {name!r} in {storage_url}: start it with `fcnet search ... --storage "
                          f"{storage_url} --study {name}` first") from None


def _plan_stage(cfg: SearchConfig, study: Any, stage: int, space: dict[str, Param], n: int, epochs: int,
                rng: np.random.Generator, start: int) -> None:
    points = grid_points(space, n) if cfg.strategy == "grid" else random_points(space, n, rng)
    spaces = dict(study.user_attrs.get("spaces", {}))
    spaces[str(stage)] = {k: p.to_text() for k, p in space.items()}
    study.set_user_attr("spaces", spaces)
    for i, pt in enumerate(points):
        study.enqueue_trial({k: encode(v) for k, v in pt.items()},
                            user_attrs={"plan": start + i, "stage": stage, "epochs": epochs})
    study.set_user_attr("planned", start + len(points))


def _trials_by_plan(study: Any) -> dict[int, Any]:
    """One trial per plan index: a complete one if any, else the latest attempt (retries, resumes)."""
    out: dict[int, Any] = {}
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
        p = t.user_attrs.get("plan")
        if p is None or t.user_attrs.get("surplus"):
            continue
        if p in out and out[p].state.name == "COMPLETE":
            continue
        out[p] = t
    return out


def _finished(t: Any, heartbeat: bool) -> bool:
    """Whether a trial's outcome is final.

    With heartbeats, a trial that failed without an error of its own died with its worker and
    is queued again (up to ``MAX_RETRY`` times) by the storage: not final yet.
    """
    state = t.state.name
    if state in ("COMPLETE", "PRUNED"):
        return True
    if state != "FAIL":
        return False
    retried = len(t.system_attrs.get("retry_history", []))
    return not (heartbeat and "error" not in t.user_attrs and retried < MAX_RETRY)


def _requeue_unfinished(study: Any) -> int:
    """On --resume: planned trials that never finished run again; finished ones do not."""
    from optuna.trial import TrialState

    n = 0
    for t in _trials_by_plan(study).values():
        interrupted = t.state == TrialState.FAIL and "error" not in t.user_attrs
        if t.state == TrialState.RUNNING or interrupted:  # its worker died with the parent
            if t.state == TrialState.RUNNING:
                study._storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL)
            study.enqueue_trial(t.params, user_attrs=dict(t.user_attrs))
            n += 1
    return n


def _spawn_workers(cfg: SearchConfig, url: str, name: str) -> list[subprocess.Popen]:
    cmd = [sys.executable, "-m", "fcnet", "search", "worker", "--storage", url, "--study", name,
           "--out", str(cfg.out), "--pruner", cfg.pruner, "--parent", str(os.getpid())]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    return [subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL) for _ in range(cfg.workers)]


def _wait_stage(study: Any, cfg: SearchConfig, upto: int, workers: list[subprocess.Popen], bar: Any,
                writer: ResultsWriter) -> None:
    heartbeat = uses_heartbeat(cfg.storage or "journal:")
    while True:
        by_plan = _trials_by_plan(study)
        done = [t for p, t in by_plan.items() if p < upto and _finished(t, heartbeat)]
        writer.update(by_plan, heartbeat)
        bar.n = len([t for t in by_plan.values() if _finished(t, heartbeat)])
        best = writer.best_value()
        if best is not None:
            bar.set_postfix(best=f"{best:.4f}", refresh=False)
        bar.refresh()
        if len(done) >= upto:
            return
        alive = [w for w in workers if w.poll() is None]
        if workers and not alive:
            if any(t.state.name == "WAITING" for t in study.get_trials(deepcopy=False)):
                workers[:] = _spawn_workers(cfg, cfg.storage or "", study.study_name)  # a worker crashed
                continue
            if not any(t.state.name == "RUNNING" for t in study.get_trials(deepcopy=False)):
                return
        time.sleep(0.3)


class ResultsWriter:
    """results.jsonl (one line per finished trial, append-only) and results.csv (rewritten)."""

    def __init__(self, out: Path, names: list[str]) -> None:
        self.out, self.names = out, names
        self.jsonl = out / "results.jsonl"
        self.written: set[int] = set()
        if self.jsonl.exists():
            for line in self.jsonl.read_text().splitlines():
                if line.strip():
                    self.written.add(json.loads(line)["plan"])
        self.rows: dict[int, dict[str, Any]] = {}
        self._value: float | None = None

    @staticmethod
    def row(t: Any) -> dict[str, Any]:
        """One finished trial as a flat record."""
        return {"plan": t.user_attrs["plan"], "stage": t.user_attrs.get("stage", 0),
                "epochs": t.user_attrs.get("epochs"), "state": t.state.name.lower(),
                "val_accuracy": t.value, "test_accuracy": t.user_attrs.get("test_accuracy"),
                "error": t.user_attrs.get("error", ""), "seconds": t.user_attrs.get("seconds"),
                "trial": t.number, **t.params}

    def update(self, by_plan: dict[int, Any], heartbeat: bool = False) -> None:
        """Append newly finished trials, rewrite the CSV."""
        from fcnet.train.io import atomic_write

        new = False
        for p, t in sorted(by_plan.items()):
            if not _finished(t, heartbeat):
                continue
            r = self.row(t)
            if self.rows.get(p) != r:
                self.rows[p] = r
                new = True
            if p not in self.written:
                with self.jsonl.open("a") as fh:
                    fh.write(json.dumps(r, default=str) + "\n")
                    fh.flush()
                    os.fsync(fh.fileno())
                self.written.add(p)
        if new:
            cols = ["plan", "stage", "epochs", "state", "val_accuracy", "test_accuracy", *self.names,
                    "seconds", "trial", "error"]
            lines = [",".join(cols)]
            for _, r in sorted(self.rows.items()):
                lines.append(",".join(_csv(r.get(c, "")) for c in cols))
            atomic_write(self.out / "results.csv", ("\n".join(lines) + "\n").encode())

    def best_value(self) -> float | None:
        vals = [r["val_accuracy"] for r in self.rows.values() if r["state"] == "complete"]
        return max(vals) if vals else None

    def best(self) -> dict[str, Any] | None:
        done = [r for r in self.rows.values() if r["state"] == "complete" and r["val_accuracy"] is not None]
        if not done:
            return None
        # the longest-trained stage wins ties; then the lowest plan index
        return max(done, key=lambda r: (r["val_accuracy"], r["epochs"] or 0, -r["plan"]))


def _csv(v: Any) -> str:
    s = "" if v is None else (repr(v) if isinstance(v, float) else str(v))  # full precision: scores compare exactly
    return '"' + s.replace('"', "'") + '"' if ("," in s or "\n" in s) else s


def run_search(cfg: SearchConfig, log: Any = print, progress: bool = True) -> dict[str, Any]:
    """Plan, run (with local workers unless ``workers`` is 0) and summarise a search."""
    from tqdm.auto import tqdm

    if cfg.strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {cfg.strategy!r}: choose {', '.join(STRATEGIES)}")
    if not cfg.space:
        raise ConfigError("nothing to search: give at least one --space NAME=KIND:...")
    if not cfg.base.get("val_split"):
        raise ConfigError("a search scores trials on a validation split: set --val-split above 0")
    cfg.out.mkdir(parents=True, exist_ok=True)
    url = cfg.storage or f"journal:{(cfg.out / 'journal.log').resolve()}"
    cfg.storage = url
    name = cfg.study or "fcnet-search"
    if not cfg.resume and cfg.storage.startswith("journal:") and (cfg.out / "journal.log").exists():
        raise ConfigError(f"{cfg.out} already holds a search: pass --resume to continue it, or another --out")
    study = open_study(url, name, cfg.pruner, create=True)
    rng = np.random.default_rng(cfg.seed)
    coarse = cfg.strategy == "coarse-to-fine"
    n1 = math.ceil(cfg.trials / 2) if coarse else cfg.trials
    e1 = (cfg.coarse_epochs or max(1, cfg.epochs // 3)) if coarse else cfg.epochs
    if "planned" not in study.user_attrs:
        study.set_user_attr("base", cfg.base)
        study.set_user_attr("strategy", cfg.strategy)
        _plan_stage(cfg, study, 0, cfg.space, n1, e1, rng, 0)
    else:
        n = _requeue_unfinished(study)
        log(f"resuming study {name!r}: {len(_trials_by_plan(study))} planned trials seen, {n} to run again")
        if cfg.strategy != "grid":
            random_points(cfg.space, n1, rng)  # replay stage 0's draws so a later stage draws the same
    names = list(cfg.space)
    writer = ResultsWriter(cfg.out, names)
    bar = tqdm(total=cfg.trials, desc="trials", unit="trial", disable=not progress, file=sys.stderr)
    workers = _spawn_workers(cfg, url, name) if cfg.workers > 0 else []
    try:
        _wait_stage(study, cfg, study.user_attrs["planned"] if not coarse else n1, workers, bar, writer)
        if coarse:
            stage0 = [r for r in writer.rows.values() if r["stage"] == 0 and r["state"] == "complete"]
            top = sorted(stage0, key=lambda r: -r["val_accuracy"])[:3]
            fine = narrow_space(cfg.space, [{k: _decode_row(r, k, cfg.space) for k in names} for r in top],
                                factor=0.3)
            if str(1) not in study.user_attrs.get("spaces", {}):
                _plan_stage(cfg, study, 1, fine, cfg.trials - n1, cfg.epochs, rng, n1)
            for w in workers:
                w.wait()
            workers = _spawn_workers(cfg, url, name) if cfg.workers > 0 else []
            _wait_stage(study, cfg, cfg.trials, workers, bar, writer)
    finally:
        for w in workers:
            if w.poll() is None:
                w.wait(timeout=600)
        bar.close()
    writer.update(_trials_by_plan(study), uses_heartbeat(url))
    return _summarise(cfg, study, writer, log)


def _decode_row(r: dict[str, Any], k: str, space: dict[str, Param]) -> Any:
    from fcnet.search.trial import decode

    return decode(r[k], space[k])


def _summarise(cfg: SearchConfig, study: Any, writer: ResultsWriter, log: Any) -> dict[str, Any]:
    import tomli_w

    from fcnet.search.plots import plot_results
    from fcnet.train.io import atomic_write, write_json

    best = writer.best()
    summary: dict[str, Any] = {"trials": len(writer.rows), "strategy": cfg.strategy,
                               "states": {s: sum(r["state"] == s for r in writer.rows.values())
                                          for s in ("complete", "pruned", "fail")}}
    if best is not None:
        stage_space = {k: parse_param(v) for k, v in study.user_attrs["spaces"][str(best["stage"])].items()}
        params = {k: _decode_row(best, k, stage_space) for k in cfg.space}
        toml = {**{k: v for k, v in cfg.base.items() if v is not None}, **params, "epochs": best["epochs"]}
        atomic_write(cfg.out / "best.toml", tomli_w.dumps(toml).encode())
        summary.update(best_val_accuracy=best["val_accuracy"], best_params=params, best_plan=best["plan"],
                       best_epochs=best["epochs"])
        for msg in edge_warnings(cfg.space, params):
            log(f"warning: {msg}")
            summary.setdefault("warnings", []).append(msg)
    summary["figures"] = [str(p) for p in plot_results(list(writer.rows.values()), cfg.space, cfg.out)]
    write_json(cfg.out / "summary.json", summary)
    return summary


def run_worker(storage_url: str, study_name: str, out: Path, pruner: str = "median",
               parent: int | None = None) -> int:
    """Run queued trials of the study until none is left; returns how many ran."""
    import optuna
    from optuna.trial import TrialState

    from fcnet import backend

    backend.set_num_threads(1)
    study = open_study(storage_url, study_name, pruner)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures are recorded in the results table
    heartbeat = uses_heartbeat(storage_url)
    ran = 0
    while True:
        if parent and os.getppid() != parent:
            return ran  # the local search that started us is gone
        if heartbeat:
            optuna.storages.fail_stale_trials(study)
        states = [t.state for t in study.get_trials(deepcopy=False)]
        if TrialState.WAITING not in states:
            if heartbeat and TrialState.RUNNING in states:
                time.sleep(1.0)  # a running trial may still die and be queued again
                continue
            return ran
        study.optimize(lambda t: objective(t, out, parent), n_trials=1, catch=(Exception,),
                       gc_after_trial=False)
        ran += 1
