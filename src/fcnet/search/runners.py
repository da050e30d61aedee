"""Running a search: the planner (parent) and workers (local processes or other machines).

The planner draws every trial's configuration with fcnet's strategies from a seeded
generator and puts them in an Optuna study's queue (``enqueue_trial``), so a search is
reproducible trial for trial however many workers run it.  Everything a worker needs — the
fixed training options, each stage's space and epochs, the pruner — is written into the study
(its user attributes), and workers (``fcnet search worker``) read it from there; a worker's
own flags only say how its machine runs trials (threads, device, output directory).

Liveness: each worker writes a heartbeat into the study every ``HEARTBEAT_INTERVAL`` seconds
(with the trial it is running), and so does the planner.  The planner is the only process that
queues a trial again: one whose worker died (failed without an error of its own, or RUNNING
with no live worker claiming it for the grace period), at most ``MAX_RETRY`` times.  A worker
only takes trials from the queue — it never creates one — and when the queue is empty it waits
for the planner (a trial may be queued again, or a next stage planned) and exits once the
planner has finished or has been silent for the grace period.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fcnet.errors import ConfigError
from fcnet.search.results import ResultsWriter
from fcnet.search.space import Param, parse_param
from fcnet.search.storage import mask_url
from fcnet.search.strategies import edge_warnings, grid_points, narrow_space, random_points
from fcnet.search.study import PRUNERS, _attempts, _finished, _latest, _trials_by_plan, open_study
from fcnet.search.trial import decode, encode
from fcnet.search.watch import MAX_RESPAWN, SearchError, _Watch
from fcnet.search.worker import run_worker

__all__ = ["MAX_RESPAWN", "SearchConfig", "SearchError", "check_completed", "open_study", "run_search",
           "run_worker"]

STRATEGIES = ("grid", "random", "coarse-to-fine")


@dataclass
class SearchConfig:
    """What to search: the space, the strategy, the budget, and the fixed training options.

    ``given`` names what the command line set explicitly (option names, ``space``, ``strategy``,
    ``trials``, ``coarse_epochs``, ``pruner``); on ``resume`` those must agree with the study's
    stored configuration, and everything else is read from it.  None: compare everything.
    """

    space: dict[str, Param]
    base: dict[str, Any]
    strategy: str = "random"
    trials: int = 12
    epochs: int = 3
    coarse_epochs: int | None = None
    seed: int = 0
    workers: int = 1
    pruner: str | None = None  # None: median for a new search, the study's on --resume
    storage: str | None = None
    study: str | None = None
    out: Path = field(default_factory=lambda: Path("search"))
    resume: bool = False
    given: set[str] | None = None


CHANGEABLE = ("--workers", "--quiet", "--out")  # what --resume may change; the rest is the study's
UNSEARCHABLE = {"epochs": "a trial's epochs are the search's budget: set --epochs (and --coarse-epochs); the "
                          "pruner stops hopeless trials early",
                "threads": "threads are each worker's own (fcnet search worker --threads)",
                "device": "the device is each worker's own (fcnet search worker --device)",
                "monitor": "search trials run without the training monitor",
                "out": "each trial writes OUT/trials/NNNN", "name": "each trial writes OUT/trials/NNNN",
                "seed": "the search's --seed draws the plan and seeds every trial"}


def check_searchable(space: dict[str, Param]) -> None:
    """Refuse searching an option a trial would not honour."""
    for name in space:
        if name in UNSEARCHABLE:
            raise ConfigError(f"--space {name}: cannot search {name}: {UNSEARCHABLE[name]}")


def data_identity(data: str) -> dict[str, Any]:
    """A data set name as is; a file as its absolute path, size and SHA-256 (workers check theirs)."""
    import hashlib

    from fcnet.data import DATASETS

    if data in DATASETS:
        return {"data": data}
    path = Path(data).expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"--data {data}: no such file ({path}): give a data set name (fcnet datasets) or an "
                          "existing .npz/.csv file")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"data": str(path), "size": path.stat().st_size, "sha256": digest.hexdigest()}


def check_data(stored: dict[str, Any] | None) -> None:
    """On a worker: the study's data file is on this machine, at the same path, with the same content."""
    if not stored or "sha256" not in stored:
        return
    import socket

    try:
        here = data_identity(stored["data"])
    except ConfigError:
        raise ConfigError(f"the study's --data {stored['data']} is not on this machine ({socket.gethostname()}): "
                          "copy it to that path (workers read the file the planner named)") from None
    if here["sha256"] != stored["sha256"]:
        raise ConfigError(f"the study's --data {stored['data']} differs on this machine ({socket.gethostname()}) "
                          "from the planner's file (another SHA-256): copy the planner's file there")


def _plain(v: Any) -> Any:
    import json

    return json.loads(json.dumps(v, default=str))


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def stored_config(study: Any) -> dict[str, Any] | None:
    """The configuration a search was planned with (None for a study not planned yet)."""
    attrs = study.user_attrs
    if "config" in attrs:
        return dict(attrs["config"])
    if "planned" not in attrs:
        return None
    return {"space": attrs.get("spaces", {}).get("0", {}), "base": attrs.get("base", {}),  # planned before 0.x
            "strategy": attrs.get("strategy", "random"), "trials": attrs.get("trials"), "coarse_epochs": None,
            "pruner": attrs.get("pruner", "median")}


def _adopt(cfg: SearchConfig, stored: dict[str, Any]) -> None:
    """Refuse a command line that disagrees with the stored configuration; then take the stored one."""
    given = cfg.given
    diffs = []

    def was_given(name: str) -> bool:
        return given is None or name in given

    for k in ("strategy", "trials", "coarse_epochs", "pruner"):
        mine, theirs = getattr(cfg, k), stored.get(k)
        if k == "pruner" and mine is None:
            continue
        if was_given(k) and theirs is not None and mine is not None and _plain(mine) != _plain(theirs):
            diffs.append(f"{_flag(k)} {mine} (the study: {theirs})")
    space = {k: p.to_text() for k, p in cfg.space.items()}
    if was_given("space") and space and space != stored["space"]:
        show = " ".join(f"{k}={v}" for k, v in stored["space"].items())
        diffs.append(f"--space (the study: {show})")
    for k, theirs in stored["base"].items():
        if k == "data" and k in cfg.base and Path(str(cfg.base[k])).is_file():
            cfg.base[k] = str(Path(str(cfg.base[k])).resolve())  # a file: compared by its absolute path
        if k in cfg.base and was_given(k) and _plain(cfg.base[k]) != _plain(theirs):
            diffs.append(f"{_flag(k)} {_plain(cfg.base[k])} (the study: {theirs})")
    if diffs:
        raise ConfigError(f"--resume: {'; '.join(diffs)} differ from the search being resumed, whose settings are "
                          f"stored in its study: drop them (--resume may change only {', '.join(CHANGEABLE)})")
    cfg.space = {k: parse_param(v) for k, v in stored["space"].items()}
    cfg.base = dict(stored["base"])
    cfg.strategy = stored.get("strategy") or cfg.strategy
    cfg.trials = stored.get("trials") or cfg.trials
    cfg.coarse_epochs = stored.get("coarse_epochs")
    cfg.pruner = stored.get("pruner") or "median"
    cfg.epochs, cfg.seed = cfg.base.get("epochs", cfg.epochs), cfg.base.get("seed", cfg.seed)


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


def run_search(cfg: SearchConfig, log: Any = print, progress: bool = True, report: bool = False) -> dict[str, Any]:
    """Plan, run (with local workers unless ``workers`` is 0) and summarise a search.

    ``progress`` shows a progress bar, ``report`` a line per finished trial instead.
    """
    from tqdm.auto import tqdm

    from fcnet.search.lock import PlannerLock

    if cfg.strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {cfg.strategy!r}: choose {', '.join(STRATEGIES)}")
    if cfg.pruner is not None and cfg.pruner not in PRUNERS:
        raise ConfigError(f"unknown pruner {cfg.pruner!r}: choose {', '.join(PRUNERS)}")
    if cfg.trials < 1 or cfg.workers < 0:
        raise ConfigError(f"a search needs --trials 1 or more and --workers 0 or more, got {cfg.trials} and "
                          f"{cfg.workers}")
    if not cfg.space and not cfg.resume:
        raise ConfigError("nothing to search: give at least one --space NAME=KIND:...")
    check_searchable(cfg.space)
    cfg.out.mkdir(parents=True, exist_ok=True)
    url = cfg.storage or f"journal:{(cfg.out / 'journal.log').resolve()}"
    cfg.storage = url
    name = cfg.study or "fcnet-search"
    if not cfg.resume and cfg.storage.startswith("journal:") and (cfg.out / "journal.log").exists():
        raise ConfigError(f"{cfg.out} already holds a search: pass --resume to continue it, or another --out")
    study = open_study(url, name, cfg.pruner, create=True)
    lock = PlannerLock(url, name)
    lock.acquire(study)  # one live planner per study: a second is refused here, before it changes anything
    try:
        return _run_locked(cfg, study, lock, name, log, progress, report, tqdm)
    finally:
        lock.release()


def _run_locked(cfg: SearchConfig, study: Any, lock: Any, name: str, log: Any, progress: bool, report: bool,
                tqdm: Any) -> dict[str, Any]:
    url = cfg.storage or ""
    stored = stored_config(study)
    if stored is None:
        if not cfg.space:
            raise ConfigError(f"--resume: study {name!r} in {mask_url(url)} holds no search yet: drop --resume "
                              "and give at least one --space NAME=KIND:...")
        if not cfg.base.get("val_split"):
            raise ConfigError("a search scores trials on a validation split: set --val-split above 0")
        ident = data_identity(str(cfg.base.get("data", "")))
        cfg.base["data"] = ident["data"]  # a file by its absolute path: workers elsewhere find the same one
    else:
        if not cfg.resume:
            raise ConfigError(f"study {name!r} in {mask_url(url)} already holds a search: pass --resume to "
                              "continue it, or another --study")
        _adopt(cfg, stored)
        ident = stored.get("data") or {"data": cfg.base.get("data")}
    rng = np.random.default_rng(cfg.seed)
    coarse = cfg.strategy == "coarse-to-fine"
    n1 = math.ceil(cfg.trials / 2) if coarse else cfg.trials
    e1 = (cfg.coarse_epochs or max(1, cfg.epochs // 3)) if coarse else cfg.epochs
    if "planned" not in study.user_attrs:
        cfg.pruner = cfg.pruner or "median"
        config = {"space": {k: p.to_text() for k, p in cfg.space.items()}, "base": _plain(cfg.base),
                  "strategy": cfg.strategy, "trials": cfg.trials, "coarse_epochs": cfg.coarse_epochs,
                  "pruner": cfg.pruner, "data": ident}
        # everything a worker (or a --resume) needs travels with the study
        for k, v in {"config": config, "base": config["base"], "strategy": cfg.strategy, "pruner": cfg.pruner,
                     "epochs": cfg.epochs, "coarse_epochs": e1, "trials": cfg.trials, "seed": cfg.seed,
                     "finished": False}.items():
            study.set_user_attr(k, v)
        _plan_stage(cfg, study, 0, cfg.space, n1, e1, rng, 0)
    else:
        study.set_user_attr("finished", False)
        by_plan = _trials_by_plan(study)
        left = sum(not _finished(t) for t in by_plan.values())
        log(f"resuming study {name!r}: {len(by_plan)} planned trials seen, {left} not finished")
        if cfg.strategy != "grid":
            random_points(cfg.space, n1, rng)  # replay stage 0's draws so a later stage draws the same
    names = list(cfg.space)
    writer = ResultsWriter(cfg.out, names)
    bar = tqdm(total=cfg.trials, desc="trials", unit="trial", disable=not progress, file=sys.stderr)
    watch = _Watch(cfg, study, bar, writer, log, report, lock)
    ok = False
    try:
        watch.wait(n1 if coarse else study.user_attrs["planned"])
        if coarse:
            stage0 = [r for r in writer.rows.values() if r["stage"] == 0 and r["state"] == "complete"]
            top = sorted(stage0, key=lambda r: -r["val_accuracy"])[:3]
            if str(1) not in study.user_attrs.get("spaces", {}):
                fine = (narrow_space(cfg.space, [{k: _decode_row(r, k, cfg.space) for k in names} for r in top],
                                     factor=0.3) if top else cfg.space)
                _plan_stage(cfg, study, 1, fine, cfg.trials - n1, cfg.epochs, rng, n1)
            watch.wait(cfg.trials)
        ok = True
    finally:
        watch.stop(ok)
        bar.close()
    attempts = _attempts(study)
    writer.update({p: _latest(a) for p, a in attempts.items()}, attempts)
    summary = _summarise(cfg, study, writer, log, planner=watch.cost())  # while local workers see "finished"
    watch.join(60)
    return summary


def _decode_row(r: dict[str, Any], k: str, space: dict[str, Param]) -> Any:
    from fcnet.search.trial import decode

    return decode(r[k], space[k])


def _summarise(cfg: SearchConfig, study: Any, writer: ResultsWriter, log: Any,
               planner: dict[str, Any] | None = None) -> dict[str, Any]:
    import tomli_w

    from fcnet.search.plots import plot_results
    from fcnet.train.io import atomic_write, write_json

    best = writer.best()
    rows = list(writer.rows.values())
    summary: dict[str, Any] = {"trials": len(rows), "strategy": cfg.strategy, "pruner": cfg.pruner,
                               "storage": mask_url(cfg.storage or ""), "study": study.study_name,
                               "states": {s: sum(r["state"] == s for r in rows)
                                          for s in ("complete", "pruned", "fail")},
                               "planner": planner or {}}
    failed = [r for r in rows if r["state"] == "fail"]
    if failed:
        summary["first_error"] = min(failed, key=lambda r: r["plan"])["error"]
        summary["user_errors_only"] = all(r["user_error"] for r in failed)
    if best is not None:
        # from the stored trial and the study's own settings, never from this command line
        trial = study._storage.get_trial(best["trial_id"])
        stage_space = {k: parse_param(v) for k, v in study.user_attrs["spaces"][str(trial.user_attrs["stage"])].items()}
        params = {k: decode(trial.params[k], p) for k, p in stage_space.items()}
        base = stored_config(study)["base"]  # type: ignore[index]
        toml = {**{k: v for k, v in base.items() if v is not None}, **params, "epochs": trial.user_attrs["epochs"]}
        atomic_write(cfg.out / "best.toml", tomli_w.dumps(toml).encode())
        summary.update(best_val_accuracy=best["val_accuracy"], best_params=params, best_plan=best["plan"],
                       best_epochs=best["epochs"])
        for msg in edge_warnings(cfg.space, params):
            log(f"warning: {msg}")
            summary.setdefault("warnings", []).append(msg)
    summary["figures"] = [str(p) for p in plot_results(rows, cfg.space, cfg.out)]
    write_json(cfg.out / "summary.json", summary)
    return summary


def check_completed(summary: dict[str, Any]) -> None:
    """A search in which no trial completed is an error: exit 2 if every failure was the user's, else 1."""
    if summary["states"]["complete"]:
        return
    s = summary["states"]
    cause = f"; the first error: {summary['first_error']}" if summary.get("first_error") else ""
    raise SearchError(f"no trial completed ({s['fail']} failed, {s['pruned']} pruned){cause}",
                      exit_code=2 if summary.get("user_errors_only") else 1)
