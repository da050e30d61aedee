"""``--time-budget`` / ``max_time``: schedules on the fraction of the budget, the stop, the record, resume.

Time is simulated (``Trainer.clock``): each optimizer step advances a fake clock by a fixed
amount, so every assertion here is exact and no test depends on the machine's speed.
"""

from __future__ import annotations

import json
import math
import os
import subprocess

import numpy as np
import pytest

import fcnet
from fcnet import nn, optim
from fcnet.errors import ConfigError
from fcnet.train import options
from fcnet.train.callbacks import Callback, Checkpoint, LRScheduler
from fcnet.train.recipe import build
from fcnet.train.trainer import Trainer
from tests.conftest import fcnet_cmd

TICK = 0.25  # simulated seconds per optimizer step


class FakeClock(Callback):
    """A clock that moves ``TICK`` seconds per step (installed on the trainer)."""

    def __init__(self, trainer: Trainer) -> None:
        self.now = 0.0
        trainer.clock = lambda: self.now
        trainer.callbacks.insert(0, self)  # first: the schedule after it sees the new time

    def on_batch_end(self, trainer: Trainer, step: int) -> None:
        self.now += TICK


def _data(n=96, d=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, d)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64)


def _trainer(budget, *, schedule="cosine", warmup=1.0, epochs=4, steps=6, checkpoint=None):
    opts = options.resolve({"hidden": [8], "schedule": schedule, "warmup": warmup, "epochs": epochs,
                            "time_budget": budget, "monitor": False, "lr": 0.01})
    fcnet.manual_seed(0)
    model, opt, loss, callbacks = build(opts, 6, 2, steps)
    if checkpoint is not None:
        callbacks.append(checkpoint)
    trainer = Trainer(model, opt, loss, callbacks=callbacks, progress=False, time_budget=budget, log=lambda m: None)
    return trainer, FakeClock(trainer)


def test_budget_stops_training_after_the_step_that_uses_it_up():
    trainer, _ = _trainer(3.0)
    x, y = _data()
    trainer.fit(x, y, batch_size=16, epochs=None)  # 6 steps per epoch; the budget is 12 steps of 0.25 s
    assert trainer.step_count == 12 and trainer.time_used == pytest.approx(3.0)
    assert trainer.epoch == 2 and len(trainer.history.rows) == 2
    assert trainer.history.rows[-1]["time_used"] == pytest.approx(3.0)
    trainer.fit(x, y, batch_size=16, epochs=None)  # the budget is spent: nothing more happens
    assert trainer.step_count == 12


def test_budget_ends_an_epoch_early_and_epochs_still_cap_the_run():
    trainer, _ = _trainer(2.0)
    x, y = _data()
    trainer.fit(x, y, batch_size=16, epochs=None)
    assert trainer.step_count == 8 and trainer.epoch == 2  # the second epoch stopped after 2 of 6 steps
    capped, _ = _trainer(100.0)
    capped.fit(x, y, batch_size=16, epochs=1)
    assert capped.step_count == 6 and capped.time_used == pytest.approx(1.5)


def test_schedule_runs_on_the_fraction_of_the_budget_and_ends_decayed():
    trainer, clock = _trainer(3.0, epochs=4, steps=6)  # laid out over 24 steps: 6 of warm-up, then cosine
    sched = next(cb.schedule for cb in trainer.callbacks if isinstance(cb, LRScheduler))
    assert isinstance(sched, optim.TimeBudgetLR)
    seen = []
    trainer.callbacks.append(type("Rec", (Callback,), {"on_batch_end": lambda s, t, k: seen.append(
        (clock.now, t.optimizer.lr))})())
    trainer.fit(*_data(), batch_size=16, epochs=None)
    inner = sched.schedule
    for now, lr in seen:
        assert lr == pytest.approx(inner.lr_at(24 * now / 3.0), rel=1e-12)
    # the warm-up took the first quarter of the budget (6 of 24 steps = 1 epoch of 4), not 6 steps
    peak = max(range(len(seen)), key=lambda i: seen[i][1])
    assert seen[peak][0] == pytest.approx(0.75) and seen[peak][1] == pytest.approx(0.01)
    assert seen[-1][0] == pytest.approx(3.0) and seen[-1][1] == pytest.approx(0.0, abs=1e-15)  # fully decayed
    # the same schedule by steps would still be warming up after 12 steps
    by_steps = optim.WarmupLR(optim.SGD([fcnet.Tensor(np.zeros(1), requires_grad=True)], lr=0.01), 6,
                              after=None)
    assert by_steps.lr_at(3) < 0.01


def test_step_schedule_decays_on_the_budget_too():
    opts = options.resolve({"hidden": [8], "schedule": "step", "step_size": 1, "gamma": 0.5, "epochs": 2,
                            "time_budget": 2.0, "monitor": False, "lr": 0.01})
    model, opt, loss, callbacks = build(opts, 6, 2, 6)
    trainer = Trainer(model, opt, loss, callbacks=callbacks, progress=False, time_budget=2.0, log=lambda m: None)
    clock = FakeClock(trainer)
    lrs = []
    trainer.callbacks.append(type("Rec", (Callback,), {"on_batch_end": lambda s, t, k: lrs.append(t.optimizer.lr)})())
    trainer.fit(*_data(), batch_size=16, epochs=None)
    assert clock.now == pytest.approx(2.0)
    assert lrs[2] == pytest.approx(0.01) and lrs[4] == pytest.approx(0.005)  # halved at half the budget


def test_resume_continues_the_budget(tmp_path):
    x, y = _data()
    whole, _ = _trainer(3.0)
    whole.fit(x, y, batch_size=16, epochs=None)
    first, _ = _trainer(3.0, checkpoint=Checkpoint(tmp_path / "ckpt"))
    first.fit(x, y, batch_size=16, epochs=1)  # stopped after one epoch (as by Ctrl-C at its end): 1.5 s used
    arrays, state = Checkpoint.load(tmp_path / "ckpt")
    assert state["time_used"] == pytest.approx(1.5)
    resumed, _ = _trainer(3.0)
    resumed.load_state_dict(arrays, state)
    assert resumed.time_used == pytest.approx(1.5)
    resumed.fit(x, y, batch_size=16, epochs=None)
    assert resumed.step_count == whole.step_count == 12 and resumed.time_used == pytest.approx(3.0)
    for (k, a), b in zip(whole.model.state_dict().items(), resumed.model.state_dict().values(), strict=True):
        np.testing.assert_array_equal(a, b, err_msg=k)  # simulated time: the same steps, the same bits


def test_time_budget_option_is_checked_everywhere():
    assert options.coerce("time_budget", "60") == 60.0 and options.default("time_budget") is None
    for bad in ("0", "-5", "nan", "soon"):
        with pytest.raises(ConfigError, match="--time-budget"):
            options.coerce("time_budget", bad)
    assert options.parse_config({"time_budget": 90}, "x.toml") == {"time_budget": 90.0}
    with pytest.raises(ValueError, match="time_budget must be positive"):
        Trainer(nn.FullyConnectedNet(2, [], 2), optim.SGD(nn.FullyConnectedNet(2, [], 2).parameters(), lr=0.1),
                time_budget=0)
    model = nn.FullyConnectedNet(2, [], 2)
    with pytest.raises(ValueError, match="epochs=None trains until the time budget"):
        Trainer(model, optim.SGD(model.parameters(), lr=0.1), progress=False).fit(*_data(d=2), epochs=None)
    sched = optim.TimeBudgetLR(optim.CosineLR(optim.SGD(model.parameters(), lr=0.1), 10), 5.0, 10)
    with pytest.raises(TypeError, match="seek"):
        sched.step()
    with pytest.raises(ValueError, match="time budget must be positive"):
        optim.TimeBudgetLR(sched.schedule, 0.0, 10)


def test_estimator_max_time_trains_until_the_budget(monkeypatch):
    from fcnet.sklearn import FCNetClassifier

    x, y = _data(200)
    made = []
    real = Trainer.__init__

    def spy(self, *a, **kw):
        real(self, *a, **kw)
        made.append(self)
        FakeClock(self)

    monkeypatch.setattr(Trainer, "__init__", spy)
    clf = FCNetClassifier(hidden=(8,), epochs=3, schedule="cosine", batch_size=20, max_time=7.5,
                          random_state=0).fit(x, y)
    assert made[-1].time_budget == 7.5 and made[-1].step_count == 30  # 7.5 s / 0.25 s; 3 epochs of 10 steps
    assert clf.n_iter_ == 3
    longer = FCNetClassifier(hidden=(8,), epochs=3, batch_size=20, max_time=10.0, random_state=0).fit(x, y)
    assert longer.n_iter_ == 4 and made[-1].step_count == 40  # more than `epochs` when the budget allows
    assert FCNetClassifier(hidden=(8,), epochs=2, batch_size=20, random_state=0).fit(x, y).n_iter_ == 2
    with pytest.raises(ConfigError, match="max_time"):
        FCNetClassifier(max_time=-1).fit(x, y)


def test_cli_time_budget_records_the_time_used(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('data = "digits"\nhidden = [16]\nschedule = "cosine"\nwarmup = 1\nepochs = 5\ntime_budget = 0.5\n')
    res = subprocess.run([*fcnet_cmd(), "train", "--config", str(cfg), "--out", "run", "--monitor",
                          "false"], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                         env={**os.environ, "FCNET_KERNELS": "numpy"})
    assert res.returncode == 0, res.stderr
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    state = json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())
    assert summary["time_budget"] == 0.5 and summary["time_used"] >= 0.5
    # the checkpoint holds the time used when its epoch ended (what a resume continues from)
    assert 0 < state["time_used"] <= summary["time_used"] and math.isfinite(summary["test_accuracy"])
    assert "of 0.5 s used" in res.stderr


def test_cli_refuses_a_budget_that_is_not_positive(tmp_path, capsys, monkeypatch):
    from fcnet.cli.main import main

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["train", "--data", "digits", "--time-budget", "0"])
    assert exc.value.code == 2 and "--time-budget" in capsys.readouterr().err
