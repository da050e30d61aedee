"""history.csv grows by one flushed line per epoch, and progress lines reach a file at once."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import textwrap

import numpy as np

from fcnet import nn, optim
from fcnet.train.callbacks import Callback
from fcnet.train.trainer import Trainer


def _rows(path):
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def _data(n=64, d=8, c=3, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)).astype(np.float32), rng.integers(0, c, n)


def _trainer(callbacks, log=None):
    net = nn.FullyConnectedNet(8, [16], 3, rng=0)
    return Trainer(net, optim.SGD(net.parameters(), lr=0.1), callbacks=callbacks, progress=False,
                   log=log or (lambda _: None))


class _Probe(Callback):
    """Reads what is on disk at the end of every epoch."""

    def __init__(self, read):
        self.read, self.seen = read, []

    def on_epoch_end(self, trainer, epoch, logs):
        self.seen.append(self.read())


def test_recipe_writes_history_csv_during_training(tmp_path):
    from fcnet.train.options import resolve
    from fcnet.train.recipe import run

    path = tmp_path / "run" / "history.csv"
    probe = _Probe(lambda: [r["epoch"] for r in _rows(path)] if path.is_file() else None)
    opts = resolve({"data": "digits", "subset": 200, "hidden": [16], "epochs": 3, "batch_size": 64})
    run(opts, tmp_path / "run", progress=False, log=lambda _: None, plots=False,
        on_trainer=lambda t: t.callbacks.append(probe))
    assert probe.seen == [["1"], ["1", "2"], ["1", "2", "3"]]


def test_a_new_metric_rewrites_the_header_and_a_resume_continues_the_file(tmp_path):
    from fcnet.train.callbacks import CSVLogger

    class Extra(Callback):
        def on_epoch_end(self, trainer, epoch, logs):
            if epoch >= 2:
                logs["extra"] = float(epoch)

    x, y = _data()
    path = tmp_path / "history.csv"
    first = _trainer([Extra(), CSVLogger(path)])
    first.fit(x, y, epochs=3, batch_size=16)
    rows = _rows(path)
    assert [r["epoch"] for r in rows] == ["1", "2", "3"]
    assert [r["extra"] for r in rows] == ["", "2", "3"]
    arrays, state = first.state_dict()
    path.write_text("stale\n")  # whatever was there, the resume rewrites the restored epochs first
    second = _trainer([Extra(), CSVLogger(path)])
    second.load_state_dict(arrays, state)
    second.fit(x, y, epochs=5, batch_size=16, initial_epoch=second.epoch)  # Keras: resume at epoch 3 of 5
    assert [r["epoch"] for r in _rows(path)] == ["1", "2", "3", "4", "5"]
    assert _rows(path)[:3] == rows


def test_a_crash_mid_run_leaves_a_valid_csv_of_the_finished_epochs(tmp_path):
    script = textwrap.dedent(f"""
        import os
        import numpy as np
        from fcnet import nn, optim
        from fcnet.train.callbacks import Callback, CSVLogger
        from fcnet.train.trainer import Trainer

        class Die(Callback):
            def on_epoch_end(self, trainer, epoch, logs):
                if epoch == 2:
                    os._exit(9)  # no cleanup, no finally: as a kill -9 would

        rng = np.random.default_rng(0)
        x, y = rng.standard_normal((64, 8)).astype(np.float32), rng.integers(0, 3, 64)
        net = nn.FullyConnectedNet(8, [16], 3, rng=0)
        t = Trainer(net, optim.SGD(net.parameters(), lr=0.1), progress=False,
                    callbacks=[CSVLogger({str(tmp_path / "history.csv")!r}), Die()])
        t.fit(x, y, epochs=5, batch_size=16)
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 9, proc.stderr
    rows = _rows(tmp_path / "history.csv")
    assert [r["epoch"] for r in rows] == ["1", "2"]
    assert all(np.isfinite(float(r["loss"])) for r in rows)


def test_epoch_lines_reach_a_block_buffered_file_before_training_ends(tmp_path, monkeypatch):
    path = tmp_path / "out.log"
    raw = open(path, "wb", buffering=0)
    stdout = io.TextIOWrapper(io.BufferedWriter(raw, buffer_size=1 << 16), line_buffering=False)
    monkeypatch.setattr(sys, "stdout", stdout)
    probe = _Probe(lambda: path.read_text())
    x, y = _data()
    try:
        _trainer([probe], log=print).fit(x, y, epochs=3, batch_size=16)
    finally:
        monkeypatch.undo()
        stdout.close()
    # at the end of epoch 2, epoch 1's line (printed after epoch 1's callbacks) is already in the file
    assert "epoch 1/3" in probe.seen[1] and "epoch 2/3" in probe.seen[2]
