"""`fcnet search`: spaces, strategies, failures, resume after SIGKILL, reproducibility, PostgreSQL workers."""

from __future__ import annotations

import csv
import json
import math
import os
import signal
import subprocess
import time

import numpy as np
import pytest

from fcnet.search import LogUniform, Uniform, grid_points, narrow_space, parse_space, random_points
from fcnet.search.space import Choice, Int
from tests.conftest import fcnet_cmd

pytest.importorskip("optuna")

SPACE = ["--space", "lr=loguniform:1e-4:1e-1", "--space", "hidden=choice:32|64,32|128"]


def search(args, cwd, timeout=600, **kw):
    return subprocess.run([*fcnet_cmd(), "search", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, **kw)


def rows(path):
    with open(path) as fh:
        return list(csv.DictReader(fh))


def test_loguniform_is_uniform_in_log_space():
    from scipy import stats

    p = LogUniform(1e-5, 1e-1)
    rng = np.random.default_rng(0)
    x = np.log10([p.sample(rng) for _ in range(10_000)])
    assert x.min() >= -5 and x.max() <= -1
    assert stats.kstest((x + 5) / 4, "uniform").pvalue > 0.01
    counts = np.histogram(x, bins=4, range=(-5, -1))[0]
    assert counts.min() > 2300  # each decade gets about a quarter
    lin = np.log10([Uniform(1e-5, 1e-1).sample(rng) for _ in range(10_000)])
    assert np.mean(lin > -2) > 0.85  # uniform sampling piles into the top decade


def test_grid_and_random_budget_of_nine():
    space = {"lr": LogUniform(1e-4, 1.0), "dropout": Uniform(0.0, 0.5)}
    grid = grid_points(space, 9)
    assert len(grid) == 9 and len({g["lr"] for g in grid}) == 3
    rand = random_points(space, 9, np.random.default_rng(0))
    assert len({r["lr"] for r in rand}) == 9


def test_parse_space_and_narrowing():
    space = parse_space(["lr=loguniform:1e-4:1e-1", "hidden=choice:64,128|256", "batch_size=int:16:256",
                         "dropout=uniform:0:0.5"])
    assert space["hidden"] == Choice(((64, 128), 256)) and space["batch_size"] == Int(16, 256)
    best = [{"lr": 1e-3, "hidden": 256, "batch_size": 64, "dropout": 0.1}]
    fine = narrow_space(space, best, 0.3)
    assert space["lr"].low <= fine["lr"].low <= 1e-3 <= fine["lr"].high <= space["lr"].high
    assert fine["lr"].high / fine["lr"].low < space["lr"].high / space["lr"].low
    assert fine["hidden"].values == (256,)
    with pytest.raises(ValueError, match="loguniform"):
        parse_space(["lr=loguniform:0:1"])
    with pytest.raises(ValueError, match="unknown search range kind"):
        parse_space(["lr=gaussian:0:1"])


@pytest.fixture(scope="module")
def random_search(tmp_path_factory):
    d = tmp_path_factory.mktemp("search")
    res = search(["--data", "digits", "--strategy", "random", "--trials", "12", "--workers", "2", "--epochs",
                  "3", *SPACE, "--out", "s", "--quiet", "--seed", "5"], cwd=d)
    assert res.returncode == 0, res.stderr
    return d, res


def test_random_search_writes_table_plots_and_best_toml(random_search):
    d, _res = random_search
    table = rows(d / "s" / "results.csv")
    assert sorted(int(r["plan"]) for r in table) == list(range(12))
    assert all(r["state"] in ("complete", "pruned") for r in table)  # the median pruner may stop some
    assert sum(r["state"] == "complete" for r in table) >= 6
    assert len({r["lr"] for r in table}) == 12
    for png in ["score_vs_params.png"]:
        assert (d / "s" / png).stat().st_size > 5000
    done = [r for r in table if r["state"] == "complete"]
    best = max(done, key=lambda r: (float(r["val_accuracy"]), -int(r["plan"])))
    # the best TOML retrains to the same validation score with the same seed
    out = subprocess.run([*fcnet_cmd(), "train", "--config", "s/best.toml", "--out", "re", "--quiet", "--threads",
                          "1"], cwd=d, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    summary = json.loads((d / "re" / "summary.json").read_text())
    assert summary["val_accuracy"] == pytest.approx(float(best["val_accuracy"]), abs=1e-9)


def test_same_seed_is_reproducible_trial_for_trial(random_search, tmp_path):
    d, _ = random_search
    res = search(["--data", "digits", "--strategy", "random", "--trials", "12", "--workers", "1", "--epochs", "3",
                  *SPACE, "--out", "s2", "--quiet", "--seed", "5"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    a = {r["plan"]: r for r in rows(d / "s" / "results.csv")}
    b = {r["plan"]: r for r in rows(tmp_path / "s2" / "results.csv")}
    assert a.keys() == b.keys()
    for k in a:  # the same configuration for every trial, and the same score wherever both completed
        assert (a[k]["lr"], a[k]["hidden"]) == (b[k]["lr"], b[k]["hidden"])
        if a[k]["state"] == b[k]["state"] == "complete":
            assert a[k]["val_accuracy"] == b[k]["val_accuracy"]


def test_failed_trials_are_recorded_and_search_goes_on(tmp_path):
    res = search(["--data", "digits", "--strategy", "grid", "--trials", "3", "--workers", "1", "--epochs", "2",
                  "--optimizer", "sgd", "--space", "lr=choice:100000|0.05|0.1", "--out", "f", "--quiet"],
                 cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    table = {r["lr"]: r for r in rows(tmp_path / "f" / "results.csv")}
    assert table["100000"]["state"] == "fail" and "diverged" in table["100000"]["error"]
    assert table["0.05"]["state"] == "complete" and table["0.1"]["state"] == "complete"


def test_coarse_to_fine(tmp_path):
    res = search(["--data", "digits", "--strategy", "coarse-to-fine", "--trials", "12", "--workers", "2",
                  "--epochs", "6", "--coarse-epochs", "2", "--space", "lr=loguniform:1e-5:1", "--space",
                  "dropout=uniform:0:0.6", "--out", "c", "--quiet", "--pruner", "none"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    table = rows(tmp_path / "c" / "results.csv")
    coarse = [r for r in table if r["stage"] == "0"]
    fine = [r for r in table if r["stage"] == "1"]
    assert len(coarse) == 6 and len(fine) == 6
    assert all(r["epochs"] == "2" for r in coarse) and all(r["epochs"] == "6" for r in fine)
    best_coarse = max(coarse, key=lambda r: float(r["val_accuracy"] or 0))
    lrs = [float(r["lr"]) for r in fine]
    assert 1e-5 <= min(lrs) and max(lrs) <= 1.0
    import optuna

    study = optuna.load_study(study_name="fcnet-search", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "c" / "journal.log"))))
    from fcnet.search import parse_param

    fine_space = {k: parse_param(v) for k, v in study.user_attrs["spaces"]["1"].items()}
    for k in ("lr", "dropout"):
        p = fine_space[k]
        coarse_p = parse_param(study.user_attrs["spaces"]["0"][k])
        assert coarse_p.low <= p.low <= float(best_coarse[k]) <= p.high <= coarse_p.high
    best_fine = max(float(r["val_accuracy"] or 0) for r in fine)
    assert best_fine >= float(best_coarse["val_accuracy"])


def test_sigkill_parent_then_resume(tmp_path):
    args = ["--data", "digits", "--strategy", "random", "--trials", "8", "--workers", "1", "--epochs", "4",
            "--hidden", "1024,1024", "--space", "lr=loguniform:1e-4:1e-2", "--out", "k", "--quiet",
            "--pruner", "none"]
    proc = subprocess.Popen([*fcnet_cmd(), "search", *args], cwd=tmp_path, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    jsonl = tmp_path / "k" / "results.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline:
        if jsonl.exists() and len(jsonl.read_text().splitlines()) >= 2:
            break
        time.sleep(0.2)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    done_before = {json.loads(x)["plan"] for x in jsonl.read_text().splitlines()}
    assert 2 <= len(done_before) < 8
    time.sleep(3)  # the orphaned worker notices and exits
    res = search([*args, "--resume"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    table = rows(tmp_path / "k" / "results.csv")
    assert sorted(int(r["plan"]) for r in table) == list(range(8))
    lines = [json.loads(x)["plan"] for x in jsonl.read_text().splitlines()]
    assert sorted(lines) == list(range(8))  # every trial once
    import optuna

    study = optuna.load_study(study_name="fcnet-search", storage=optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(str(tmp_path / "k" / "journal.log"))))
    complete = [t.user_attrs["plan"] for t in study.get_trials() if t.state.name == "COMPLETE"]
    assert sorted(complete) == list(range(8))  # no finished trial ran again


def test_postgres_workers_share_one_study_and_survive_sigkill(postgres, tmp_path):
    plan = subprocess.Popen([*fcnet_cmd(), "search", "--data", "digits", "--trials", "6", "--workers", "0",
                             "--epochs", "6", "--hidden", "1024,1024", "--space", "lr=loguniform:1e-4:1e-2",
                             "--storage", postgres, "--study", "pg1", "--out", "planner", "--quiet",
                             "--pruner", "none"], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    time.sleep(3)
    worker = [*fcnet_cmd(), "search", "worker", "--storage", postgres, "--study", "pg1"]  # the pruner: the study's
    w1 = subprocess.Popen([*worker, "--out", "w1"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    w2 = subprocess.Popen([*worker, "--out", "w2"], cwd=tmp_path, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while time.time() < deadline and not list((tmp_path / "w1" / "trials").glob("*/config.toml")):
        time.sleep(0.2)
    time.sleep(0.5)
    w1.kill()  # SIGKILL mid-trial: its heartbeat stops
    w1.wait()
    _out, err = plan.communicate(timeout=400)
    assert plan.returncode == 0, err
    w2.wait(timeout=120)
    table = rows(tmp_path / "planner" / "results.csv")
    assert sorted(int(r["plan"]) for r in table) == list(range(6))
    import optuna

    study = optuna.load_study(study_name="pg1", storage=postgres)
    # nothing pruned, though the workers were started without --pruner (the study's is none)
    assert not [t for t in study.get_trials() if t.state.name == "PRUNED"]
    stale = [t for t in study.get_trials() if t.state.name == "FAIL"]
    assert stale, "the killed worker's trial was never marked failed"
    # the stale trial was queued again and finished by the surviving worker: every trial once, complete
    assert all(r["state"] == "complete" for r in table)
    assert study.user_attrs["pruner"] == "none" and study.user_attrs["base"]["hidden"] == [1024, 1024]
    assert all("plan" in t.user_attrs for t in study.get_trials())  # no unplanned trial
    assert all(math.isfinite(float(r["val_accuracy"])) for r in table if r["state"] == "complete")
    from fcnet.search.runners import open_study

    assert isinstance(open_study(postgres, "pg1").pruner, optuna.pruners.NopPruner)
    clash = search(["worker", "--storage", postgres, "--study", "pg1", "--pruner", "median"], cwd=tmp_path,
                   timeout=60)
    assert clash.returncode == 2 and "--pruner median conflicts with the study's pruner none" in clash.stderr
    assert len(clash.stderr.strip().splitlines()) == 1 and not (tmp_path / "search").exists()


def test_space_from_toml_over_any_option(tmp_path):
    (tmp_path / "s.toml").write_text('data = "digits"\nepochs = 2\nhidden = [32]\n[space]\n'
                                     'lr = "loguniform:1e-3:1e-1"\noptimizer = ["sgd", "adam"]\n'
                                     'batchnorm = "choice:true|false"\n')
    res = search(["--config", "s.toml", "--trials", "4", "--workers", "1", "--out", "o", "--quiet"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    table = rows(tmp_path / "o" / "results.csv")
    assert len(table) == 4 and {r["optimizer"] for r in table} <= {"sgd", "adam"}
    assert {r["batchnorm"] for r in table} <= {"True", "False"}
    best = (tmp_path / "o" / "best.toml").read_text()
    assert "optimizer = " in best and "batchnorm = " in best


def test_unknown_searched_option_is_one_line(tmp_path):
    res = search(["--space", "learning_rate=loguniform:1e-4:1e-1", "--out", "u"], cwd=tmp_path)
    assert res.returncode == 2 and "not a training option" in res.stderr and "Traceback" not in res.stderr
