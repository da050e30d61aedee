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

import json
import math
import os
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from fcnet.errors import ConfigError, FcnetError
from fcnet.search.space import Param, parse_param
from fcnet.search.storage import (
    HEARTBEAT_INTERVAL,
    MAX_RETRY,
    PASSWORD_ENV,
    grace_period,
    make_storage,
    mask_url,
    split_password,
)
from fcnet.search.strategies import edge_warnings, grid_points, narrow_space, random_points
from fcnet.search.trial import encode, objective

__all__ = ["MAX_RESPAWN", "SearchConfig", "SearchError", "check_completed", "run_search", "run_worker"]

STRATEGIES = ("grid", "random", "coarse-to-fine")
PRUNERS = ("median", "halving", "none")
MAX_RESPAWN = 3  # local workers that crash are restarted at most this often in all, then the search stops
WORKER_PREFIX = "worker:"
PLAN_WAIT = 60  # seconds a worker waits for a study (and its plan) to appear before giving up


class SearchError(FcnetError):
    """A search that could not finish: no trial completed, or its local workers kept crashing.

    Exit code 2 when every failure was the user's (a configuration or data error, a divergence),
    else 1.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


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
    pruner: str | None = None  # None: median for a new search, the study's on --resume
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


def _attempts(study: Any) -> dict[int, list[Any]]:
    """Every attempt at each plan index, oldest first (a dead worker's trial is attempted again)."""
    out: dict[int, list[Any]] = {}
    for t in sorted(study.get_trials(deepcopy=False), key=lambda t: t.number):
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


def _requeue_dead(study: Any, attempts: dict[int, list[Any]], log: Any) -> int:
    """Queue again each plan whose latest attempt died, up to ``MAX_RETRY`` times (the planner alone does this)."""
    n = 0
    for p, tries in attempts.items():
        t = _latest(tries)
        if _died(t) and not _finished(t, tries):
            attempt = sum(map(_died, tries)) + 1
            study.enqueue_trial(t.params, user_attrs={**{k: v for k, v in t.user_attrs.items()
                                                         if k in ("plan", "stage", "epochs")}, "attempt": attempt})
            log(f"trial {p}: its worker died; queued again (attempt {attempt})")
            n += 1
    return n


class _Beats:
    """What the planner knows of its workers, from the heartbeats they write into the study.

    A worker counts as live while its heartbeat changes within the grace period, timed by the
    planner's own clock (machines' clocks may disagree).
    """

    def __init__(self, grace: float) -> None:
        self.grace = grace
        self.seen: dict[str, tuple[Any, float]] = {}
        self.running_since: dict[int, float] = {}
        self.last_live = time.monotonic()
        self.stalled = False

    def update(self, user_attrs: dict[str, Any], now: float) -> dict[str, dict[str, Any]]:
        """The live workers' latest heartbeats (a key seen for the first time counts as a beat)."""
        live = {}
        for k, v in user_attrs.items():
            if not k.startswith(WORKER_PREFIX) or not isinstance(v, dict):
                continue
            old = self.seen.get(k)
            if old is None or old[0] != v.get("beat"):
                self.seen[k] = (v.get("beat"), now)
            if not v.get("gone") and now - self.seen[k][1] <= self.grace:
                live[k] = v
        if live:
            self.last_live = now
        return live

    def dead_running(self, trials: list[Any], live: dict[str, dict[str, Any]], now: float) -> list[Any]:
        """RUNNING trials that no live worker has claimed for the grace period."""
        claimed = {v.get("trial") for v in live.values()}
        dead = []
        running = {t.number for t in trials if t.state.name == "RUNNING"}
        for n in list(self.running_since):
            if n not in running:
                del self.running_since[n]
        for t in trials:
            if t.state.name != "RUNNING":
                continue
            since = self.running_since.setdefault(t.number, now)
            if t.number in claimed:
                self.running_since[t.number] = now
            elif now - since > self.grace:
                dead.append(t)
        return dead


def _worker_command(url: str, name: str) -> str:
    return f"fcnet search worker --storage {mask_url(url)} --study {name}"


def _spawn_worker(cfg: SearchConfig, url: str, name: str) -> subprocess.Popen:
    bare, password = split_password(url)  # a password never appears on a command line (`ps` shows those)
    cmd = [sys.executable, "-m", "fcnet", "search", "worker", "--storage", bare, "--study", name,
           "--out", str(cfg.out), "--parent", str(os.getpid())]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    if password is not None:
        env[PASSWORD_ENV] = password
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)


class _Watch:
    """The planner's loop: results as trials finish, dead trials queued again, stalls reported."""

    def __init__(self, cfg: SearchConfig, study: Any, bar: Any, writer: ResultsWriter, log: Any,
                 report: bool) -> None:
        self.cfg, self.study, self.bar, self.writer, self.log, self.report = cfg, study, bar, writer, log, report
        self.beats = _Beats(grace_period())
        self.workers = [_spawn_worker(cfg, cfg.storage or "", study.study_name) for _ in range(cfg.workers)]
        self.respawns = 0
        self.beat = 0
        self.next_beat = 0.0

    def wait(self, upto: int) -> None:
        """Until the plans below ``upto`` are all final."""
        from optuna.exceptions import UpdateFinishedTrialError
        from optuna.trial import TrialState

        while True:
            now = time.monotonic()
            if now >= self.next_beat:
                self.beat += 1
                self.study.set_user_attr("planner_beat", self.beat)
                self.next_beat = now + HEARTBEAT_INTERVAL
            trials = self.study.get_trials(deepcopy=False)
            live = self.beats.update(self.study.user_attrs, now)
            storage = self.study._storage
            for t in self.beats.dead_running(trials, live, now):
                try:  # whoever moves it to FAIL first owns the retry; a late heartbeat loses
                    if storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                        self.log(f"trial {t.user_attrs.get('plan')}: RUNNING with no live worker for "
                                 f"{self.beats.grace:g} s: marked failed")
                except UpdateFinishedTrialError:
                    pass
            attempts = _attempts(self.study)
            if _requeue_dead(self.study, attempts, self.log):
                attempts = _attempts(self.study)
            by_plan = {p: _latest(a) for p, a in attempts.items()}
            final = {p for p, t in by_plan.items() if _finished(t, attempts[p])}
            if self.report:
                known = len(self.writer.rows)
                for i, p in enumerate(sorted(final - set(self.writer.rows))):
                    t = by_plan[p]
                    score = f" val_accuracy {t.value:.4f}" if t.value is not None else ""
                    self.log(f"trial {p} {t.state.name.lower()}{score} ({known + i + 1}/{self.cfg.trials} done)")
            self.writer.update(by_plan, attempts)
            self.bar.n = len(final)
            best = self.writer.best_value()
            if best is not None:
                self.bar.set_postfix(best=f"{best:.4f}", refresh=False)
            self.bar.refresh()
            if len([p for p in final if p < upto]) >= upto:
                return
            self._local_workers(len(final))
            self._stall(live, now, upto - len([p for p in final if p < upto]))
            time.sleep(0.3)

    def _local_workers(self, done: int) -> None:
        """Restart a local worker that exited while work is left, at most ``MAX_RESPAWN`` times in all."""
        for i, w in enumerate(self.workers):
            code = w.poll()
            if code is None:
                continue
            if self.respawns >= MAX_RESPAWN:
                raise SearchError(f"local search workers exited {self.respawns + 1} times with trials left "
                                  f"(last exit code {code}; their errors are above): stopping after {done} of "
                                  f"{self.cfg.trials} trials; `--resume` continues", exit_code=1)
            self.respawns += 1
            self.log(f"a local worker exited with code {code}: restarting it "
                     f"({self.respawns} of at most {MAX_RESPAWN} restarts)")
            self.workers[i] = _spawn_worker(self.cfg, self.cfg.storage or "", self.study.study_name)

    def _stall(self, live: dict[str, Any], now: float, left: int) -> None:
        """Say once when no worker has beaten for the grace period, and again when one joins."""
        if not live and now - self.beats.last_live > self.beats.grace and not self.beats.stalled:
            self.beats.stalled = True
            self.log(f"no worker has sent a heartbeat for {self.beats.grace:g} s; {left} trials wait. Start one "
                     f"with: {_worker_command(self.cfg.storage or '', self.study.study_name)}")
        elif live and self.beats.stalled:
            self.beats.stalled = False
            self.log(f"a worker joined ({len(live)} live): the search goes on")

    def stop(self, ok: bool) -> None:
        """Tell workers the search is over; after an error, end the local ones now."""
        self.study.set_user_attr("finished", True)
        if not ok:
            self.join(0)

    def join(self, timeout: float) -> None:
        """Wait up to ``timeout`` seconds for the local workers to exit, then end them."""
        end = time.monotonic() + timeout
        for w in self.workers:
            try:
                w.wait(timeout=max(0.0, end - time.monotonic()))
            except subprocess.TimeoutExpired:
                w.terminate()
                w.wait()


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

    @staticmethod
    def row(t: Any) -> dict[str, Any]:
        """One finished trial as a flat record."""
        return {"plan": t.user_attrs["plan"], "stage": t.user_attrs.get("stage", 0),
                "epochs": t.user_attrs.get("epochs"), "state": t.state.name.lower(),
                "val_accuracy": t.value, "test_accuracy": t.user_attrs.get("test_accuracy"),
                "error": t.user_attrs.get("error", "") or ("worker died" if _died(t) else ""),
                "user_error": t.user_attrs.get("user_error", False),
                "seconds": t.user_attrs.get("seconds"), "trial": t.number, **t.params}

    def update(self, by_plan: dict[int, Any], attempts: dict[int, list[Any]]) -> None:
        """Append newly finished trials, rewrite the CSV."""
        from fcnet.train.io import atomic_write

        new = False
        for p, t in sorted(by_plan.items()):
            if not _finished(t, attempts.get(p)):
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


def run_search(cfg: SearchConfig, log: Any = print, progress: bool = True, report: bool = False) -> dict[str, Any]:
    """Plan, run (with local workers unless ``workers`` is 0) and summarise a search.

    ``progress`` shows a progress bar, ``report`` a line per finished trial instead.
    """
    from tqdm.auto import tqdm

    if cfg.strategy not in STRATEGIES:
        raise ConfigError(f"unknown strategy {cfg.strategy!r}: choose {', '.join(STRATEGIES)}")
    if cfg.pruner is not None and cfg.pruner not in PRUNERS:
        raise ConfigError(f"unknown pruner {cfg.pruner!r}: choose {', '.join(PRUNERS)}")
    if cfg.trials < 1 or cfg.workers < 0:
        raise ConfigError(f"a search needs --trials 1 or more and --workers 0 or more, got {cfg.trials} and "
                          f"{cfg.workers}")
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
        cfg.pruner = cfg.pruner or "median"
        # everything a worker needs travels with the study
        for k, v in {"base": cfg.base, "strategy": cfg.strategy, "pruner": cfg.pruner, "epochs": cfg.epochs,
                     "coarse_epochs": e1, "trials": cfg.trials, "seed": cfg.seed, "finished": False}.items():
            study.set_user_attr(k, v)
        _plan_stage(cfg, study, 0, cfg.space, n1, e1, rng, 0)
    else:
        if not cfg.resume:
            raise ConfigError(f"study {name!r} in {mask_url(url)} already holds a search: pass --resume to "
                              "continue it, or another --study")
        stored = study.user_attrs.get("pruner", "median")
        if cfg.pruner is not None and cfg.pruner != stored:
            raise ConfigError(f"--pruner {cfg.pruner} conflicts with the pruner {stored} of the search being "
                              "resumed: drop --pruner")
        cfg.pruner = stored
        study.set_user_attr("finished", False)
        by_plan = _trials_by_plan(study)
        left = sum(not _finished(t) for t in by_plan.values())
        log(f"resuming study {name!r}: {len(by_plan)} planned trials seen, {left} not finished")
        if cfg.strategy != "grid":
            random_points(cfg.space, n1, rng)  # replay stage 0's draws so a later stage draws the same
    names = list(cfg.space)
    writer = ResultsWriter(cfg.out, names)
    bar = tqdm(total=cfg.trials, desc="trials", unit="trial", disable=not progress, file=sys.stderr)
    watch = _Watch(cfg, study, bar, writer, log, report)
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
    summary = _summarise(cfg, study, writer, log)  # while the local workers see "finished" and exit
    watch.join(60)
    return summary


def _decode_row(r: dict[str, Any], k: str, space: dict[str, Param]) -> Any:
    from fcnet.search.trial import decode

    return decode(r[k], space[k])


def _summarise(cfg: SearchConfig, study: Any, writer: ResultsWriter, log: Any) -> dict[str, Any]:
    import tomli_w

    from fcnet.search.plots import plot_results
    from fcnet.train.io import atomic_write, write_json

    best = writer.best()
    rows = list(writer.rows.values())
    summary: dict[str, Any] = {"trials": len(rows), "strategy": cfg.strategy, "pruner": cfg.pruner,
                               "storage": mask_url(cfg.storage or ""), "study": study.study_name,
                               "states": {s: sum(r["state"] == s for r in rows)
                                          for s in ("complete", "pruned", "fail")}}
    failed = [r for r in rows if r["state"] == "fail"]
    if failed:
        summary["first_error"] = min(failed, key=lambda r: r["plan"])["error"]
        summary["user_errors_only"] = all(r["user_error"] for r in failed)
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


class _Heartbeat(threading.Thread):
    """A worker's heartbeat: its key in the study's user attributes, rewritten every few seconds."""

    def __init__(self, study: Any) -> None:
        super().__init__(daemon=True)
        self.study = study
        self.key = f"{WORKER_PREFIX}{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"
        self.trial: int | None = None
        self.n = 0
        self.done = threading.Event()
        self.lock = threading.Lock()

    def send(self, gone: bool = False) -> None:
        with self.lock:
            self.n += 1
            self.study.set_user_attr(self.key, {"beat": self.n, "trial": self.trial, "gone": gone,
                                                "host": socket.gethostname(), "pid": os.getpid()})

    def run(self) -> None:
        while not self.done.wait(HEARTBEAT_INTERVAL):
            try:
                self.send()
            except Exception:
                pass


def _claim(study: Any) -> Any:
    """Take one queued trial (WAITING → RUNNING, atomic in the storage), or None: never create one."""
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage = study._storage
    for t in storage.get_all_trials(study._study_id, deepcopy=False, states=(TrialState.WAITING,)):
        try:
            if storage.set_trial_state_values(t._trial_id, state=TrialState.RUNNING):
                return t
        except UpdateFinishedTrialError:  # another process finished it meanwhile
            continue
    return None


def _fail(study: Any, trial_id: int) -> None:
    from optuna.trial import TrialState

    try:
        study._storage.set_trial_state_values(trial_id, state=TrialState.FAIL)
    except Exception:
        pass


def _planned_study(study: Any) -> Any:
    """``study`` whose ``ask`` hands out the trial claimed by ``_claim`` instead of creating one.

    ``Study.ask`` would create a new, unplanned trial when another worker took the last queued
    one first; overriding it keeps ``Study.optimize`` (with its trial heartbeats and bookkeeping).
    """
    import optuna

    class PlannedStudy(optuna.Study):
        claimed: int | None = None

        def ask(self, fixed_distributions: Any = None) -> Any:
            if self.claimed is None:
                raise RuntimeError("no claimed trial to run")
            trial_id, self.claimed = self.claimed, None
            self._thread_local.cached_all_trials = None  # as Study.ask: see other workers' latest reports
            return optuna.trial.Trial(self, trial_id)

    s = PlannedStudy(study_name=study.study_name, storage=study._storage, pruner=study.pruner)
    return s


def run_worker(storage_url: str, study_name: str, out: Path, pruner: str | None = None,
               parent: int | None = None, threads: int = 1, device: str | None = None) -> int:
    """Run queued trials of the study until the planner has finished; returns how many ran.

    Every training setting comes from the study; ``threads``, ``device`` and ``out`` only say
    how this machine runs them.  ``pruner``, if given, must match the study's.
    """
    import optuna

    from fcnet import backend

    grace = grace_period()
    deadline = time.monotonic() + max(PLAN_WAIT, grace)
    while True:  # a worker started with (or before) its planner waits for the plan, up to PLAN_WAIT seconds
        try:
            study = open_study(storage_url, study_name)
            if "planned" in study.user_attrs:
                break
            missing = ConfigError(f"study {study_name!r} in {mask_url(storage_url)} holds no plan yet")
        except ConfigError as exc:
            if not str(exc).startswith("no study"):
                raise
            missing = exc
        if time.monotonic() > deadline:
            raise missing
        time.sleep(0.5)
    stored = study.user_attrs.get("pruner", "median")
    if pruner is not None and pruner != stored:
        raise ConfigError(f"--pruner {pruner} conflicts with the study's pruner {stored} (set by the planner): "
                          "drop --pruner; a worker runs the study's settings")
    backend.set_num_threads(threads)
    study = _planned_study(study)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failures are recorded in the results table
    beat = _Heartbeat(study)
    beat.send()
    beat.start()
    planner = (study.user_attrs.get("planner_beat"), time.monotonic())
    ran = 0
    try:
        while not (parent and os.getppid() != parent):  # a local worker stops with the search that started it
            attrs = study.user_attrs
            t = _claim(study)
            if t is None:
                if attrs.get("finished"):
                    break
                if attrs.get("planner_beat") != planner[0]:
                    planner = (attrs.get("planner_beat"), time.monotonic())
                elif time.monotonic() - planner[1] > grace:
                    break  # the planner is gone: nobody will queue more
                time.sleep(1.0)
                continue
            beat.trial = t.number
            beat.send()
            study.claimed = t._trial_id
            try:
                study.optimize(lambda tr: objective(tr, out, parent, threads=threads, device=device), n_trials=1,
                               catch=(Exception,), gc_after_trial=False)
            except BaseException:  # stopped mid-trial (the search is gone, Ctrl-C): the trial died with us
                _fail(study, t._trial_id)
                raise
            beat.trial = None
            ran += 1
    finally:
        beat.done.set()
        try:
            beat.send(gone=True)
        except Exception:
            pass
    return ran
