"""The planner's watch: results as trials finish, dead trials queued again, stalls reported.

Liveness comes from the heartbeats workers write into the study, timed by the planner's own
clock (machines' clocks may disagree).  The planner is the only process that queues a trial
again: one whose worker died (failed without an error of its own, or RUNNING with no live
worker claiming it for the grace period), at most ``MAX_RETRY`` times.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from typing import TYPE_CHECKING, Any

from fcnet.errors import FcnetError
from fcnet.search.results import ResultsWriter
from fcnet.search.storage import (
    HEARTBEAT_INTERVAL,
    PASSWORD_ENV,
    grace_period,
    outage_seconds,
    parse_url,
    split_password,
)
from fcnet.search.study import WORKER_PREFIX, _attempts, _died, _finished, _latest

if TYPE_CHECKING:
    from fcnet.search.runners import SearchConfig

__all__ = ["MAX_RESPAWN", "SearchError"]

MAX_RESPAWN = 3  # local workers that crash are restarted at most this often in all, then the search stops


class SearchError(FcnetError):
    """A search that could not finish: no trial completed, or its local workers kept crashing.

    Exit code 2 when every failure was the user's (a configuration or data error, a divergence),
    else 1.
    """

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


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
        self.last_live = clock()
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


def clock() -> float:
    """Monotonic seconds, less the time this process waited for an unreachable storage: nobody could beat then."""
    return time.monotonic() - outage_seconds()


def _worker_command(url: str, name: str) -> str:
    """The command that starts a worker elsewhere: never with the password (it comes from the environment)."""
    bare, password = split_password(url)
    cmd = f"fcnet search worker --storage {bare} --study {name}"
    if password is None or url.startswith("journal:"):
        return cmd
    user = parse_url(url).user or ""
    return (f"{cmd} (the password from {PASSWORD_ENV}, PGPASSWORD or ~/.pgpass, e.g. "
            f"read -rs {PASSWORD_ENV} && export {PASSWORD_ENV}; or a line *:*:*:{user}:PASSWORD in ~/.pgpass)")


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
                 report: bool, lock: Any = None) -> None:
        self.cfg, self.study, self.bar, self.writer, self.log, self.report = cfg, study, bar, writer, log, report
        self.lock = lock
        self.busy = 0.0  # seconds of the planner's own work (polls, bookkeeping), sleep excluded
        self.cpu0 = time.process_time()
        self.rounds = 0
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
            t0 = time.perf_counter()
            if self.lock is not None:
                self.lock.check()
            now = clock()
            if now >= self.next_beat:
                self.beat += 1
                self.study.set_user_attr("planner_beat", self.beat)
                self.next_beat = now + HEARTBEAT_INTERVAL
            trials = self.study.get_trials(deepcopy=False)
            live = self.beats.update(self.study.user_attrs, now)
            storage = self.study._storage
            dead = self.beats.dead_running(trials, live, now)
            for t in dead:
                try:  # whoever moves it to FAIL first owns the retry; a late heartbeat loses
                    if storage.set_trial_state_values(t._trial_id, state=TrialState.FAIL):
                        self.log(f"trial {t.user_attrs.get('plan')}: RUNNING with no live worker for "
                                 f"{self.beats.grace:g} s: marked failed")
                except UpdateFinishedTrialError:
                    pass
            if dead:  # states changed: read them again
                trials = self.study.get_trials(deepcopy=False)
            attempts = _attempts(self.study, trials)  # one read of the trials per poll
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
            self.busy += time.perf_counter() - t0
            self.rounds += 1
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

    def cost(self) -> dict[str, float]:
        """The planner's overhead: its busy wall time and CPU time, in all and per trial."""
        cpu = time.process_time() - self.cpu0
        n = max(1, self.cfg.trials)
        return {"busy_seconds": round(self.busy, 3), "cpu_seconds": round(cpu, 3),
                "busy_seconds_per_trial": round(self.busy / n, 4), "cpu_seconds_per_trial": round(cpu / n, 4),
                "polls": self.rounds}

    def stop(self, ok: bool) -> None:
        """Tell workers the search is over; after an error, end the local ones now."""
        try:
            self.study.set_user_attr("finished", True)
        finally:
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
