"""A search that survives its database and its operators: storage outages retried, a real
PostgreSQL restart mid-search, one planner per study, the study as the source of truth on
--resume, no password anywhere, operator errors refused with one clear line."""

from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from fcnet.errors import ConfigError
from tests.conftest import fcnet_cmd

pytest.importorskip("optuna")

SMALL = ["--data", "digits", "--subset", "400", "--hidden", "16", "--pruner", "none"]


def search(args, cwd, timeout=300, env=None):
    return subprocess.run([*fcnet_cmd(), "search", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=env)


def rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(autouse=True)
def _fresh_outage_state():
    from fcnet.search import storage

    reset = getattr(storage, "_reset_outage", lambda: None)
    reset()
    yield
    reset()


# --- passwords -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("url", "password", "shown"), [
    ("postgresql://u:p@ss@db:5432/fc", "p@ss", "postgresql://u:***@db:5432/fc"),
    ("postgresql://u:a:b@c@db/fc?sslmode=require", "a:b@c", "postgresql://u:***@db/fc?sslmode=require"),
    ("postgresql://u:p%40x%3Ay@db/fc", "p@x:y", "postgresql://u:***@db/fc"),
    ("u:s3cret@db:5432/fc", "s3cret", "u:***@db:5432/fc"),  # no scheme: still masked
    ("postgresql+psycopg://us%20er:pw@[::1]:5/d", "pw", "postgresql+psycopg://us%20er:***@[::1]:5/d"),
])
def test_urls_are_parsed_for_real_and_masked(url, password, shown):
    from fcnet.search.storage import mask_url, parse_url, scrub, split_password

    assert parse_url(url).password == password
    assert mask_url(url) == shown and password not in mask_url(url)
    bare, pw = split_password(url)
    assert pw == password and password not in bare and "***" not in bare
    msg = scrub(f"cannot connect to {url}: password {password} refused for a happy user", url)
    assert password not in msg and "happy user" in msg  # masked, and nothing else eaten


def test_a_short_password_does_not_eat_the_message():
    from fcnet.search.storage import scrub

    msg = scrub("connection to server failed: password p is wrong", "postgresql://u:p@db/fc")
    assert msg == "connection to server failed: password *** is wrong"


def test_traceback_file_has_no_password(monkeypatch):
    from fcnet.cli.main import write_traceback

    url = "postgresql://u:tOp:s@cret@db.example/fc"
    monkeypatch.setattr(sys, "argv", ["fcnet", "search", "--storage", url, "--study", "s", "--storage=" + url])
    try:
        raise RuntimeError(f"boom while talking to {url}")
    except RuntimeError as exc:
        path = write_traceback(exc)
    text = path.read_text()
    path.unlink()
    assert "tOp" not in text and "cret" not in text and "postgresql://u:***@db.example/fc" in text


def test_suggested_worker_command_reads_the_password_from_the_environment():
    from fcnet.search.watch import _worker_command

    cmd = _worker_command("postgresql://u:s3cret@db:5432/fc", "s")
    assert "s3cret" not in cmd and "***" not in cmd
    assert cmd.startswith("fcnet search worker --storage postgresql://u@db:5432/fc --study s")
    assert "FCNET_STORAGE_PASSWORD" in cmd and ".pgpass" in cmd


def test_dashboard_takes_port_and_the_same_credentials(tmp_path):
    fake = tmp_path / "bin" / "optuna-dashboard"
    fake.parent.mkdir()
    fake.write_text(f"#!{sys.executable}\nimport os, sys, json\n"
                    f"open({str(tmp_path / 'seen.json')!r}, 'w').write(json.dumps([sys.argv[1:], "
                    "os.environ.get('PGPASSWORD')]))\n")
    fake.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake.parent}:{os.environ['PATH']}", "FCNET_STORAGE_PASSWORD": "fr0m-env"}
    res = search(["dashboard", "--storage", "postgresql://u@db:5432/fc", "--port", "8765"], cwd=tmp_path, env=env,
                 timeout=60)
    assert res.returncode == 0, res.stderr
    argv, password = json.loads((tmp_path / "seen.json").read_text())
    assert argv == ["postgresql://u@db:5432/fc", "--port", "8765", "--host", "127.0.0.1"] and password == "fr0m-env"
    res = search(["dashboard", "--storage", "postgresql://u:in-url@db:5432/fc"], cwd=tmp_path, env=env, timeout=60)
    argv, password = json.loads((tmp_path / "seen.json").read_text())
    assert "in-url" not in " ".join(argv) and password == "in-url" and argv[2] == "8080"


# --- storage faults --------------------------------------------------------------------------------

def _refused() -> Exception:
    import sqlalchemy.exc

    return sqlalchemy.exc.OperationalError("SELECT 1", {}, ConnectionRefusedError("connection refused"))


def test_a_lost_connection_is_retried_with_backoff(capsys, monkeypatch):
    from fcnet.search import storage
    from fcnet.search.storage import call_with_retry, outage_seconds

    calls, slept = [], []
    monkeypatch.setattr(storage, "_sleep", lambda s: (slept.append(s), time.sleep(s)))

    def flaky():
        calls.append(time.monotonic())
        if len(calls) < 5:
            raise _refused()
        return "ok"

    assert call_with_retry(flaky, "postgresql://u:pw-123456@db/fc") == "ok"
    assert len(calls) == 5 and len(slept) == 4
    # exponential backoff from 0.2 s (with +-25 % jitter): each wait about double the last
    for k, s in enumerate(slept):
        assert 0.75 * 0.2 * 2**k <= s <= 1.25 * 0.2 * 2**k
    assert outage_seconds() >= sum(slept)
    err = capsys.readouterr().err
    assert "unreachable" in err and "reachable again" in err and "pw-123456" not in err


def test_a_bad_request_is_not_retried():
    from fcnet.search.storage import call_with_retry

    calls = []

    def bad():
        calls.append(1)
        raise KeyError("no such study")

    with pytest.raises(KeyError):
        call_with_retry(bad, "postgresql://u@db/fc")
    assert calls == [1]


def test_an_outage_longer_than_the_tolerance_stops_with_exit_code_2(monkeypatch):
    from fcnet.search.storage import StorageUnavailable, call_with_retry

    monkeypatch.setenv("FCNET_STORAGE_OUTAGE", "1")

    def down():
        raise _refused()

    t0 = time.monotonic()
    with pytest.raises(StorageUnavailable) as exc:
        call_with_retry(down, "postgresql://u:pw-123456@db/fc")
    assert 1 <= time.monotonic() - t0 < 8 and exc.value.exit_code == 2
    assert "FCNET_STORAGE_OUTAGE=1" in str(exc.value) and "pw-123456" not in str(exc.value)
    t0 = time.monotonic()
    with pytest.raises(StorageUnavailable):  # once given up, every later call stops at once
        call_with_retry(lambda: 1, "postgresql://u@db/fc")
    assert time.monotonic() - t0 < 0.5
    monkeypatch.setenv("FCNET_STORAGE_OUTAGE", "soon")
    with pytest.raises(ConfigError, match="FCNET_STORAGE_OUTAGE='soon': give seconds"):
        call_with_retry(down, "postgresql://u@db/fc")


def test_a_server_that_accepts_and_never_answers_times_out(tmp_path):
    pytest.importorskip("psycopg")
    from fcnet.search.storage import make_storage

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    held = []
    threading.Thread(target=lambda: held.append(silent.accept()), daemon=True).start()
    port = silent.getsockname()[1]
    t0 = time.monotonic()
    with pytest.raises(ConfigError, match="cannot open storage"):
        make_storage(f"postgresql://u:pw@127.0.0.1:{port}/db?connect_timeout=2")
    assert time.monotonic() - t0 < 15
    silent.close()


def test_default_timeouts_are_added_and_the_url_overrides_them():
    from fcnet.search.storage import connect_args

    _, opts = connect_args("postgresql://u@db/fc")
    assert opts["connect_timeout"] == "10" and "statement_timeout=60000" in opts["options"]
    _, opts = connect_args("postgresql://u@db/fc?connect_timeout=3&statement_timeout=2.5&keepalives_idle=30")
    assert opts["connect_timeout"] == "3" and "statement_timeout=2500" in opts["options"]
    assert opts["keepalives_idle"] == "30" and "statement_timeout" not in opts


def _wait(cond, timeout, what):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _all_files_text(*dirs: Path) -> str:
    out = []
    for d in dirs:
        for p in d.rglob("*"):
            if p.is_file() and p.suffix in (".csv", ".jsonl", ".json", ".toml", ".txt", ".log", ".lock", ""):
                out.append(p.read_text(errors="replace"))
    return "\n".join(out)


@pytest.mark.slow
def test_postgres_restart_mid_search_loses_and_duplicates_nothing(pg_server, tmp_path):
    """A real server stopped and started again mid-search (3 s down): the planner and its two
    workers carry on; every plan completes exactly once; best.toml, results.csv and results.jsonl
    are complete.  Then: a changed flag on --resume is refused, a --resume on another --out reads
    everything from the study, a second live planner is refused naming the first, and an outage
    longer than the tolerance stops the planner with exit code 2.  No password anywhere."""
    import optuna

    from tests.search.conftest import AUTH_PASSWORD, AUTH_USER

    url = f"postgresql://{AUTH_USER}:{AUTH_PASSWORD}@127.0.0.1:{pg_server.port}/fcauth"
    n = 8
    # 150 epochs: each trial lasts long enough (~1 s) that the server goes down with plans still to run
    args = [*SMALL, "--strategy", "grid", "--trials", str(n), "--epochs", "150", "--storage", url, "--study", "r",
            "--space", "lr=choice:" + "|".join(f"0.0{i + 1}" for i in range(n))]
    plan = subprocess.Popen([*fcnet_cmd(), "search", *args, "--workers", "2", "--out", "o"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    jsonl = tmp_path / "o" / "results.jsonl"
    try:
        _wait(lambda: jsonl.exists() and len(jsonl.read_text().splitlines()) >= 2, 300, "two finished trials")
        pg_server.stop()
        done_before = len(jsonl.read_text().splitlines())
        time.sleep(3)
        pg_server.start()
        out, err = plan.communicate(timeout=600)
    finally:
        plan.kill()
    assert plan.returncode == 0, err
    assert done_before < n and "unreachable" in err and "reachable again" in err
    storage = optuna.storages.RDBStorage(url)
    trials = optuna.load_study(study_name="r", storage=storage).get_trials()
    complete = sorted(t.user_attrs["plan"] for t in trials if t.state.name == "COMPLETE")
    assert complete == list(range(n))  # every plan complete, exactly once
    assert sorted(int(r["plan"]) for r in rows(tmp_path / "o" / "results.csv")) == list(range(n))
    assert sorted(json.loads(x)["plan"] for x in jsonl.read_text().splitlines()) == list(range(n))
    assert "hidden = [\n    16,\n]" in (tmp_path / "o" / "best.toml").read_text()

    changed = search([*args, "--resume", "--out", "o", "--hidden", "32", "--epochs", "4"], cwd=tmp_path, timeout=60)
    assert changed.returncode == 2, changed.stderr
    assert "--hidden [32] (the study: [16])" in changed.stderr and "--epochs 4 (the study: 150)" in changed.stderr
    elsewhere = search(["--resume", "--storage", url, "--study", "r", "--out", "other", "--quiet"], cwd=tmp_path,
                       timeout=120)
    assert elsewhere.returncode == 0, elsewhere.stderr
    assert (tmp_path / "other" / "best.toml").read_text() == (tmp_path / "o" / "best.toml").read_text()

    env = {**os.environ, "FCNET_STORAGE_OUTAGE": "4"}
    waiting = subprocess.Popen([*fcnet_cmd(), "search", *args, "--study", "w", "--workers", "0", "--out", "w"],
                               cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        _wait(lambda: "planned" in optuna.load_study(study_name="w", storage=storage).user_attrs
              if "w" in [s.study_name for s in optuna.get_all_study_summaries(storage)] else False, 240, "a plan")
        second = search([*args, "--study", "w", "--workers", "0", "--out", "w2", "--resume"], cwd=tmp_path,
                         timeout=60)
        assert second.returncode == 2, second.stderr
        assert f"is being planned by host {socket.gethostname()} pid {waiting.pid}" in second.stderr
        assert not (tmp_path / "w2" / "results.csv").exists()
        storage.engine.dispose()
        pg_server.stop()
        t0 = time.monotonic()
        w_out, w_err = waiting.communicate(timeout=60)
        assert waiting.returncode == 2 and time.monotonic() - t0 < 40, w_err
        assert "unreachable for" in w_err and "FCNET_STORAGE_OUTAGE=4" in w_err and "--resume" in w_err
    finally:
        waiting.kill()
    text = out + err + changed.stdout + changed.stderr + elsewhere.stdout + elsewhere.stderr + second.stderr
    text += w_out + w_err + _all_files_text(tmp_path)
    assert AUTH_PASSWORD not in text


# --- the study is the source of truth; operator errors ------------------------------------------------

def test_resume_reads_the_study_and_refuses_a_disagreeing_command_line(tmp_path):
    args = [*SMALL, "--epochs", "1", "--trials", "2", "--space", "lr=loguniform:1e-3:1e-1", "--out", "s", "--quiet"]
    first = search([*args, "--workers", "64"], cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    cores = len(os.sched_getaffinity(0))
    if cores < 64:
        assert f"--workers 64 capped at {cores}" in first.stderr
    best = (tmp_path / "s" / "best.toml").read_text()
    res = search([*args, "--resume", "--hidden", "128", "--space", "dropout=uniform:0:0.5", "--trials", "3"],
                 cwd=tmp_path, timeout=60)
    assert res.returncode == 2 and "Traceback" not in res.stderr and len(res.stderr.strip().splitlines()) == 1
    for says in ("--hidden [128] (the study: [16])", "--space (the study: lr=loguniform:0.001:0.1)",
                 "--trials 3 (the study: 2)"):
        assert says in res.stderr, res.stderr
    same = search(["--resume", "--out", "s", "--quiet"], cwd=tmp_path, timeout=120)  # no flags: the study's
    assert same.returncode == 0, same.stderr
    assert (tmp_path / "s" / "best.toml").read_text() == best


def test_a_second_planner_on_a_journal_is_refused_naming_the_first(tmp_path):
    args = [*SMALL, "--epochs", "1", "--trials", "2", "--space", "lr=loguniform:1e-3:1e-1", "--out", "j",
            "--workers", "0", "--quiet"]
    first = subprocess.Popen([*fcnet_cmd(), "search", *args], cwd=tmp_path, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    try:
        _wait(lambda: (tmp_path / "j" / "journal.log.planner.lock").exists()
              and (tmp_path / "j" / "journal.log.planner.lock").read_text().strip(), 60, "the planner's lock")
        second = search([*args, "--resume"], cwd=tmp_path, timeout=60)
    finally:
        first.kill()
        first.wait()
    assert second.returncode == 2, second.stderr
    assert f"is being planned by host {socket.gethostname()} pid {first.pid}" in second.stderr


def test_duplicate_space_and_unsearchable_options_are_refused():
    from fcnet.search import parse_space
    from fcnet.search.runners import check_searchable

    with pytest.raises(ConfigError, match="--space lr is given twice"):
        parse_space(["lr=uniform:0.1:0.2", "lr=loguniform:1e-3:1e-1"])
    for name, spec in [("epochs", "int:2:5"), ("seed", "int:0:9"), ("threads", "int:1:2")]:
        with pytest.raises(ConfigError, match=f"--space {name}: cannot search {name}"):
            check_searchable(parse_space([f"{name}={spec}"]))


def test_epochs_in_the_space_is_refused_on_the_command_line(tmp_path):
    res = search([*SMALL, "--space", "epochs=int:2:5", "--out", "e"], cwd=tmp_path, timeout=60)
    assert res.returncode == 2 and "cannot search epochs" in res.stderr and "Traceback" not in res.stderr
    assert not (tmp_path / "e" / "trials").exists()


def test_worker_checks_the_data_file_of_the_study(tmp_path):
    import numpy as np

    from fcnet.search.runners import check_data, data_identity

    f = tmp_path / "d.npz"
    np.savez(f, x=np.zeros((4, 2)), y=np.zeros(4, dtype=int))
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        ident = data_identity("d.npz")  # relative on the planner, absolute in the study
    finally:
        os.chdir(cwd)
    assert ident["data"] == str(f.resolve()) and len(ident["sha256"]) == 64
    check_data(ident)
    np.savez(f, x=np.ones((4, 2)), y=np.zeros(4, dtype=int))
    with pytest.raises(ConfigError, match="differs on this machine"):
        check_data(ident)
    f.unlink()
    with pytest.raises(ConfigError, match=r"d.npz is not on this machine .*: copy it to that path"):
        check_data(ident)


def test_a_worker_whose_every_trial_failed_exits_non_zero(tmp_path, monkeypatch):
    import optuna

    from fcnet.errors import DataError
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
        trial.set_user_attr("error", "DataError: data file x.csv does not exist")
        trial.set_user_attr("user_error", True)
        raise DataError("data file x.csv does not exist")

    monkeypatch.setattr(worker, "objective", objective)
    with pytest.raises(worker.WorkerFailed, match=r"every trial this worker ran failed \(2 of 2\); the first "
                                                  "error: DataError: data file x.csv") as exc:
        worker.run_worker(url, "s", tmp_path / "w")
    assert exc.value.exit_code == 2


# --- scale -------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_eight_workers_on_48_plans_complete_each_plan_once(postgres, tmp_path):
    """8 workers (separate processes, as on 8 machines) share one PostgreSQL study of 48 plans:
    exactly one COMPLETE trial per plan, no unplanned trial; the planner's own cost per trial
    is measured and written to summary.json (see benchmarks/RESULTS.md)."""
    import optuna

    n = 48
    plan = subprocess.Popen([*fcnet_cmd(), "search", *SMALL, "--subset", "200", "--hidden", "8", "--epochs", "1",
                             "--trials", str(n), "--space", "lr=loguniform:1e-3:1e-1", "--workers", "0",
                             "--storage", postgres, "--study", "scale", "--out", "p", "--quiet"], cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    def planned() -> bool:
        import sqlalchemy.exc

        try:
            return ("scale" in [s.study_name for s in optuna.get_all_study_summaries(postgres)]
                    and "planned" in optuna.load_study(study_name="scale", storage=postgres).user_attrs)
        except sqlalchemy.exc.IntegrityError:  # this poll and the planner both creating the schema of a new database
            return False

    _wait(planned, 300, "the plan")
    workers = [subprocess.Popen([*fcnet_cmd(), "search", "worker", "--storage", postgres, "--study", "scale",
                                 "--out", f"w{i}"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True) for i in range(8)]
    try:
        _out, err = plan.communicate(timeout=900)
        ran = []
        for w in workers:
            w_out, w_err = w.communicate(timeout=120)
            assert w.returncode == 0, w_err
            ran.append(int(w_out.split()[2]))
    finally:
        for p in (plan, *workers):
            p.kill()
    assert plan.returncode == 0, err
    trials = optuna.load_study(study_name="scale", storage=postgres).get_trials()
    complete = sorted(t.user_attrs["plan"] for t in trials if t.state.name == "COMPLETE")
    assert complete == list(range(n)) and all("plan" in t.user_attrs for t in trials)
    assert sum(ran) >= n and sum(r > 0 for r in ran) >= 2  # the work was shared
    assert len(rows(tmp_path / "p" / "results.csv")) == n
    cost = json.loads((tmp_path / "p" / "summary.json").read_text())["planner"]
    assert cost["cpu_seconds_per_trial"] > 0 and cost["polls"] > 0
    print(f"\nplanner cost, 8 workers x {n} plans: {cost}; trials per worker {ran}")


def test_a_postgres_storage_gets_the_default_timeouts_and_retries(postgres):
    from fcnet.search.storage import make_storage

    storage = make_storage(postgres)
    assert type(storage).__name__ == "ResilientStorage"
    query = storage._inner._backend.engine.url.query
    assert query["connect_timeout"] == "10" and "statement_timeout=60000" in query["options"]
    with storage._inner._backend.engine.connect() as conn:
        import sqlalchemy

        assert conn.execute(sqlalchemy.text("SHOW statement_timeout")).scalar() == "1min"
