"""``fcnet search worker``: run planned trials of a study, taking every setting from the study.

A worker takes only queued trials — it never creates one — and sends a heartbeat (a counter
and the trial it runs) into the study every ``HEARTBEAT_INTERVAL`` seconds.  With the queue
empty it waits while the planner beats (a trial may be queued again, or a next stage
planned) and exits once the planner has finished or has been silent for the grace period.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Any

from fcnet.errors import ConfigError, FcnetError
from fcnet.search.storage import HEARTBEAT_INTERVAL, grace_period, mask_url
from fcnet.search.study import WORKER_PREFIX, open_study
from fcnet.search.trial import objective
from fcnet.search.watch import clock

__all__ = ["PLAN_WAIT", "WorkerFailed", "run_worker"]

PLAN_WAIT = 60  # seconds a worker waits for a study (and its plan) to appear before giving up


class WorkerFailed(FcnetError):
    """Every trial a worker ran failed with an error: exit code 2 if every error was the user's, else 1."""

    def __init__(self, message: str, ran: int, exit_code: int = 1) -> None:
        super().__init__(message)
        self.ran, self.exit_code = ran, exit_code


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
    from fcnet.search.runners import check_data

    check_data(study.user_attrs.get("config", {}).get("data"))  # the data file is here, the planner's own
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
    planner = (study.user_attrs.get("planner_beat"), clock())
    ran = failed = 0
    errors: list[tuple[str, bool]] = []
    try:
        while not (parent and os.getppid() != parent):  # a local worker stops with the search that started it
            attrs = study.user_attrs
            t = _claim(study)
            if t is None:
                if attrs.get("finished"):
                    break
                if attrs.get("planner_beat") != planner[0]:
                    planner = (attrs.get("planner_beat"), clock())
                elif clock() - planner[1] > grace:
                    break  # the planner is gone: nobody will queue more
                time.sleep(1.0)
                continue
            beat.trial = t.number
            beat.send()
            study.claimed = t._trial_id
            try:
                study.optimize(lambda tr: objective(tr, out, parent, threads=threads, device=device), n_trials=1,
                               catch=(Exception,), gc_after_trial=False)
            except Exception:
                if not study._storage.get_trial(t._trial_id).state.is_finished():
                    _fail(study, t._trial_id)
                    raise
                # the planner failed this trial (no heartbeat within the grace period) and queued it
                # again, so Optuna could not record this worker's late result: drop it, go on
                print(f"trial {t.number} was given up while this worker ran it (no heartbeat for the grace "
                      "period); its result is dropped", file=sys.stderr)
            except BaseException:  # stopped mid-trial (the search is gone, Ctrl-C): the trial died with us
                _fail(study, t._trial_id)
                raise
            beat.trial = None
            ran += 1
            done = study._storage.get_trial(t._trial_id).user_attrs
            if "error" in done:
                failed += 1
                errors.append((done["error"], bool(done.get("user_error"))))
    finally:
        beat.done.set()
        try:
            beat.send(gone=True)
        except Exception:
            pass
    if ran and failed == ran:
        raise WorkerFailed(f"every trial this worker ran failed ({failed} of {ran}); the first error: "
                           f"{errors[0][0]}", ran, exit_code=2 if all(u for _, u in errors) else 1)
    return ran
