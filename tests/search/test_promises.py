"""What a search promises: checked spaces and budgets, settings that travel with the study, no
password in any message, a planner that reports stalls, bounded restarts, honest exit codes."""

from __future__ import annotations

import csv
import os
import queue
import subprocess
import sys
import threading
import time

import pytest

from fcnet.errors import ConfigError
from fcnet.search import parse_space
from tests.conftest import fcnet_cmd

pytest.importorskip("optuna")


def search(args, cwd, timeout=300, env=None):
    return subprocess.run([*fcnet_cmd(), "search", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def one_line(err: str) -> str:
    lines = [x for x in err.splitlines() if x.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    return lines[0]


@pytest.mark.parametrize(("item", "says"), [
    ("lr=uniform:1e-3:1e-2:7", "takes LOW:HIGH, got 3 fields"),
    ("lr=uniform:1e-2:1e-3", "low 1e-2 is above high 1e-3"),
    ("lr=loguniform:1e-1:1e-4", "low 1e-1 is above high 1e-4"),
    ("lr=loguniform:-1:1", "needs low > 0"),
    ("lr=uniform:a:1", "low 'a' of a uniform range is not a number"),
    ("lr=uniform:nan:1", "must be finite"),
    ("batch_size=int:64:16", "low 64 is above high 16"),
    ("batch_size=int:16:64:lgo", "takes LOW:HIGH or LOW:HIGH:log, got 3 fields"),
    ("batch_size=int:1.5:8", "not an integer"),
    ("activation=choice:relu|swish", "swish"),
    ("hidden=choice:", "a choice needs values"),
    ("learning_rate=uniform:0:1", "not a training option"),
])
def test_malformed_space_says_what_is_wrong(item, says):
    with pytest.raises(ConfigError) as exc:
        parse_space([item])
    msg = str(exc.value)
    assert says in msg and msg.startswith(f"--space {item.split('=')[0]}") and "\n" not in msg


def test_range_ends_and_choices_are_checked_through_the_option_table(monkeypatch):
    import fcnet.train.options as options

    seen = []
    real = options.coerce

    def coerce(name, value):
        seen.append((name, value))
        if name == "dropout" and not 0 <= float(value) < 1:
            raise ConfigError(f"--dropout must be in [0, 1), got {value}")
        return real(name, value)

    monkeypatch.setattr(options, "coerce", coerce)
    with pytest.raises(ConfigError, match=r"--space dropout=uniform:0:2: --dropout must be in \[0, 1\), got 2"):
        parse_space(["dropout=uniform:0:2"])
    assert ("dropout", 0.0) in seen and ("dropout", 2.0) in seen
    seen.clear()
    parse_space(["hidden=choice:64,32|128", "lr=loguniform:1e-4:1e-1"])
    assert seen == [("hidden", [64, 32]), ("hidden", 128), ("lr", 1e-4), ("lr", 1e-1)]


def test_bad_space_budget_or_workers_is_refused_before_any_trial(tmp_path):
    for args, says in [(["--space", "lr=uniform:1e-3:1e-2:7"], "got 3 fields"),
                       (["--space", "activation=choice:relu|swish"], "swish"),
                       (["--space", "lr=uniform:1e-3:1e-2", "--trials", "0"], "--trials must be at least 1"),
                       (["--space", "lr=uniform:1e-3:1e-2", "--workers", "-1"], "--workers must be at least 0"),
                       (["--space", "lr=uniform:1e-3:1e-2", "--strategy", "coarse-to-fine", "--trials", "1"],
                        "--trials 2 or more")]:
        res = search(["--data", "digits", "--epochs", "1", "--out", "x", *args], cwd=tmp_path, timeout=60)
        assert res.returncode == 2, (args, res.stderr)
        assert says in res.stderr and "Traceback" not in res.stderr, res.stderr
        assert not (tmp_path / "x" / "trials").exists()


def test_search_whose_every_trial_fails_exits_2(tmp_path):
    res = search(["--data", "digits", "--strategy", "grid", "--trials", "2", "--epochs", "1", "--optimizer", "sgd",
                  "--hidden", "16", "--space", "lr=choice:100000|1000000", "--out", "f", "--quiet"], cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert "no trial completed (2 failed, 0 pruned)" in res.stderr and "diverged" in res.stderr, res.stderr
    assert {r["state"] for r in rows(tmp_path / "f" / "results.csv")} == {"fail"}


def test_crashing_local_workers_are_restarted_a_bounded_number_of_times(tmp_path, monkeypatch):
    from fcnet.search import runners, watch
    from fcnet.search.space import parse_space as ps
    from fcnet.train.options import resolve

    spawned = []

    def crashing(cfg, url, name):
        spawned.append(1)
        return subprocess.Popen([sys.executable, "-c", "raise SystemExit(7)"])

    monkeypatch.setattr(watch, "_spawn_worker", crashing)
    cfg = runners.SearchConfig(space=ps(["lr=loguniform:1e-3:1e-2"]), base=resolve({"epochs": 1}), trials=2,
                               epochs=1, workers=2, out=tmp_path / "c")
    logged = []
    t0 = time.monotonic()
    with pytest.raises(runners.SearchError, match="exited 4 times with trials left \\(last exit code 7") as exc:
        runners.run_search(cfg, log=logged.append, progress=False)
    assert exc.value.exit_code == 1 and time.monotonic() - t0 < 30
    assert len(spawned) == 2 + runners.MAX_RESPAWN
    assert sum("restarting it" in m for m in logged) == runners.MAX_RESPAWN


def test_masked_urls_and_password_from_environment(monkeypatch):
    from fcnet.search.storage import _with_env_password, mask_url, scrub, split_password

    url = "postgresql://u:s3cret@db.example:5432/fcnet"
    assert mask_url(url) == "postgresql://u:***@db.example:5432/fcnet"
    assert split_password(url) == ("postgresql://u@db.example:5432/fcnet", "s3cret")
    assert "s3cret" not in scrub(f"cannot reach {url}: password s3cret refused", url)
    monkeypatch.setenv("FCNET_STORAGE_PASSWORD", "fr0m-env")
    assert _with_env_password("postgresql://u@db:5432/fcnet") == "postgresql://u:fr0m-env@db:5432/fcnet"
    assert _with_env_password(url) == url  # a password in the URL wins


def test_failing_storage_url_message_hides_the_password(tmp_path):
    pytest.importorskip("psycopg")
    url = "postgresql://u:s3cret@127.0.0.1:1/db"
    res = search(["--data", "digits", "--storage", url, "--study", "s", "--space", "lr=uniform:1e-3:1e-2",
                  "--out", "o"], cwd=tmp_path, timeout=60)
    line = one_line(res.stderr)
    assert res.returncode == 2 and "cannot open storage postgresql://u:***@127.0.0.1:1/db" in line, line
    assert "s3cret" not in res.stderr + res.stdout
    w = search(["worker", "--storage", url, "--study", "s"], cwd=tmp_path, timeout=60)
    assert w.returncode == 2 and "s3cret" not in w.stderr + w.stdout and "***" in one_line(w.stderr)


def test_worker_has_its_own_help_and_refuses_planner_flags(tmp_path):
    res = subprocess.run([*fcnet_cmd(), "search", "worker", "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0
    for flag in ("--storage", "--study", "--out", "--threads", "--device", "default ./search"):
        assert flag in res.stdout
    assert "--lr" not in res.stdout and "--space" not in res.stdout
    res = search(["--lr", "0.1", "worker", "--storage", "journal:j.log"], cwd=tmp_path, timeout=60)
    assert res.returncode == 2 and "--lr is a planner option" in one_line(res.stderr)


class _Lines:
    """A child's stderr, line by line, with the time each line arrived."""

    def __init__(self, proc: subprocess.Popen) -> None:
        self.q: queue.Queue = queue.Queue()
        self.all: list[str] = []
        threading.Thread(target=self._read, args=(proc,), daemon=True).start()

    def _read(self, proc):
        for line in proc.stderr:
            self.q.put((time.monotonic(), line))

    def wait_for(self, text: str, timeout: float) -> float:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            try:
                t, line = self.q.get(timeout=0.2)
            except queue.Empty:
                continue
            self.all.append(line)
            if text in line:
                return t
        raise AssertionError(f"no line with {text!r} in {timeout} s; got {self.all}")


def test_planner_reports_a_stall_recovers_and_fails_a_trial_nobody_runs(tmp_path):
    """--workers 0: the stall message comes within the grace period plus a few seconds; a trial
    taken from the queue by a worker that died before its first heartbeat is failed and re-run."""
    import optuna

    from fcnet.search.worker import _claim

    grace = 3
    env = {**os.environ, "FCNET_SEARCH_GRACE_PERIOD": str(grace)}
    t0 = time.monotonic()
    plan = subprocess.Popen([*fcnet_cmd(), "search", "--data", "digits", "--trials", "3", "--workers", "0",
                             "--epochs", "1", "--hidden", "16", "--space", "lr=loguniform:1e-3:1e-2", "--out", "p",
                             "--pruner", "none", "--quiet"], cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    lines = _Lines(plan)
    try:
        journal = tmp_path / "p" / "journal.log"
        while not journal.exists() and time.monotonic() - t0 < 30:
            time.sleep(0.1)
        storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(journal)))
        while True:  # a "worker" that takes a trial and dies before its first heartbeat
            study = optuna.load_study(study_name="fcnet-search", storage=storage)
            if study.user_attrs.get("planned"):
                break
            time.sleep(0.1)
        orphan = _claim(study)
        assert orphan is not None
        stalled = lines.wait_for("no worker has sent a heartbeat", timeout=grace + 10)
        assert stalled - t0 <= grace + 5  # process start included
        assert f"fcnet search worker --storage journal:{journal.resolve()} --study fcnet-search" in lines.all[-1]
        worker = subprocess.Popen([*fcnet_cmd(), "search", "worker", "--storage", f"journal:{journal}", "--out",
                                   "w"], cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  text=True)
        lines.wait_for("a worker joined", timeout=30)
        assert plan.wait(timeout=120) == 0, lines.all
        assert worker.wait(timeout=30) == 0, worker.stderr.read()
    finally:
        plan.kill()
    table = rows(tmp_path / "p" / "results.csv")
    assert sorted(int(r["plan"]) for r in table) == [0, 1, 2] and {r["state"] for r in table} == {"complete"}
    trials = optuna.load_study(study_name="fcnet-search", storage=storage).get_trials()
    dead = [t for t in trials if t.state.name == "FAIL"]
    assert [t.number for t in dead] == [orphan.number]  # marked failed, then run again and completed
    assert len(trials) == 4 and all("plan" in t.user_attrs for t in trials)  # no unplanned trial


def test_password_from_environment_or_pgpass_reaches_a_checking_server(postgres, tmp_path, monkeypatch):
    """The server checks fcauth's password: it may come from the URL, FCNET_STORAGE_PASSWORD,
    PGPASSWORD or a .pgpass file (the last two read by libpq itself); a wrong one is refused
    with a message that does not contain it."""
    from fcnet.search.storage import make_storage
    from tests.search.conftest import AUTH_PASSWORD, AUTH_USER

    port = postgres.rsplit(":", 1)[1].split("/")[0]
    bare = f"postgresql://{AUTH_USER}@127.0.0.1:{port}/fcauth"
    for var in ("PGPASSWORD", "PGPASSFILE", "FCNET_STORAGE_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.pgpass of the machine's
    with pytest.raises(ConfigError, match="cannot open storage"):
        make_storage(bare)
    wrong = f"postgresql://{AUTH_USER}:not-it-42@127.0.0.1:{port}/fcauth"
    with pytest.raises(ConfigError) as exc:
        make_storage(wrong)
    assert "not-it-42" not in str(exc.value) and "password authentication failed" in str(exc.value)
    make_storage(f"postgresql://{AUTH_USER}:{AUTH_PASSWORD}@127.0.0.1:{port}/fcauth")
    monkeypatch.setenv("FCNET_STORAGE_PASSWORD", AUTH_PASSWORD)
    make_storage(bare)
    monkeypatch.delenv("FCNET_STORAGE_PASSWORD")
    monkeypatch.setenv("PGPASSWORD", AUTH_PASSWORD)
    make_storage(bare)
    monkeypatch.delenv("PGPASSWORD")
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"127.0.0.1:{port}:fcauth:{AUTH_USER}:{AUTH_PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    make_storage(bare)


PRUNABLE = ["--data", "digits", "--strategy", "grid", "--trials", "6", "--epochs", "2", "--hidden", "16",
            "--space", "lr=choice:0.01|0.011|0.012|0.013|1e-7|2e-7", "--quiet"]  # 4 good trials, then 2 hopeless


def test_pruner_none_reaches_a_postgres_worker_started_without_it(postgres, tmp_path):
    """One worker runs the grid in order: under the median pruner the two hopeless trials after the
    four good ones are pruned (checked first); under the planner's --pruner none, with the worker
    given no --pruner, none is."""
    import optuna

    median = search([*PRUNABLE, "--workers", "1", "--pruner", "median", "--out", "m"], cwd=tmp_path)
    assert median.returncode == 0, median.stderr
    assert [r["state"] for r in rows(tmp_path / "m" / "results.csv")][4:] == ["pruned", "pruned"]
    plan = subprocess.Popen([*fcnet_cmd(), "search", *PRUNABLE, "--workers", "0", "--pruner", "none",
                             "--storage", postgres, "--study", "nopr", "--out", "p"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    worker = subprocess.run([*fcnet_cmd(), "search", "worker", "--storage", postgres, "--study", "nopr", "--out",
                             "w"], cwd=tmp_path, capture_output=True, text=True, timeout=240)
    _out, err = plan.communicate(timeout=120)
    assert plan.returncode == 0 and worker.returncode == 0, err + worker.stderr
    assert [r["state"] for r in rows(tmp_path / "p" / "results.csv")] == ["complete"] * 6
    study = optuna.load_study(study_name="nopr", storage=postgres)
    assert [t.state.name for t in study.get_trials()] == ["COMPLETE"] * 6


def test_worker_drops_a_trial_given_up_under_it_and_goes_on(tmp_path, monkeypatch, capsys):
    """The planner failed a trial whose worker was silent too long; the worker, still alive, drops
    its late result instead of crashing, runs the next queued trial, and exits once the planner is
    silent for the grace period (2 s here), creating no trial of its own."""
    import optuna
    from optuna.trial import TrialState

    from fcnet.search import worker
    from fcnet.search.storage import make_storage

    monkeypatch.setenv("FCNET_SEARCH_GRACE_PERIOD", "2")
    url = f"journal:{tmp_path / 'j.log'}"
    study = optuna.create_study(study_name="s", storage=make_storage(url))
    for k, v in {"planned": 2, "finished": False, "pruner": "none", "planner_beat": 1}.items():
        study.set_user_attr(k, v)
    for p in range(2):
        study.enqueue_trial({}, user_attrs={"plan": p, "stage": 0, "epochs": 1})

    def objective(trial, out, parent, threads, device):
        if trial.user_attrs["plan"] == 0:  # the planner gives this one up meanwhile
            trial.study._storage.set_trial_state_values(trial._trial_id, state=TrialState.FAIL)
        return 0.5

    monkeypatch.setattr(worker, "objective", objective)
    assert worker.run_worker(url, "s", tmp_path / "w") == 2
    assert "trial 0 was given up while this worker ran it" in capsys.readouterr().err
    states = [t.state.name for t in optuna.load_study(study_name="s", storage=make_storage(url)).trials]
    assert states == ["FAIL", "COMPLETE"]


def test_search_never_writes_into_a_training_run_or_a_file(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "model.json").write_text("{}")
    (run / "summary.json").write_text('{"mine": 1}')
    (tmp_path / "afile").write_text("mine")
    (tmp_path / "bad.toml").write_text("space = 3\n")
    for args, says in [(["--out", "run"], "is a training run"), (["--out", "afile"], "is a file"),
                       (["--out", "nope", "--resume"], "no search to continue"),
                       (["--out", "x", "--config", "bad.toml"], "[space] must be a table")]:
        res = search(["--data", "digits", "--epochs", "1", "--trials", "2", "--space", "lr=loguniform:1e-4:1e-1",
                      *args], cwd=tmp_path, timeout=60)
        assert res.returncode == 2 and says in one_line(res.stderr), (args, res.stderr)
    assert sorted(p.name for p in run.iterdir()) == ["model.json", "summary.json"]
    assert (run / "summary.json").read_text() == '{"mine": 1}' and (tmp_path / "afile").read_text() == "mine"
