"""``fcnet train --tensorboard DIR`` and the ``TensorBoard`` callback: the event file read back."""

from __future__ import annotations

import struct
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from fcnet.cli.main import main
from fcnet.errors import ConfigError

pytest.importorskip("tensorboardX")


def read_events(log_dir: Path) -> tuple[dict[str, list[tuple[int, float]]], dict[str, list[int]]]:
    """Scalars {tag: [(step, value)]} and histograms {tag: [step]} of every event file in ``log_dir``.

    An event file is a sequence of TFRecords (u64 length, u32 CRC, payload, u32 CRC) of Event
    protos; tensorboardX ships the proto but no reader, and TensorBoard's own reader would pull
    in its server's dependencies, so the dozen lines are here.
    """
    from tensorboardX.proto.event_pb2 import Event

    scalars: dict[str, list[tuple[int, float]]] = defaultdict(list)
    hists: dict[str, list[int]] = defaultdict(list)
    files = sorted(log_dir.glob("events.out.tfevents.*"))
    assert files, f"no event file in {log_dir}"
    for path in files:
        buf = path.read_bytes()
        pos = 0
        while pos < len(buf):
            (n,) = struct.unpack("<Q", buf[pos:pos + 8])
            event = Event.FromString(buf[pos + 12:pos + 12 + n])
            pos += 12 + n + 4
            for v in event.summary.value:
                if v.HasField("histo"):
                    hists[v.tag].append(event.step)
                else:
                    scalars[v.tag].append((event.step, v.simple_value))
    return scalars, hists


def test_train_tensorboard_writes_curves_lr_gradients_and_histograms(tmp_path):
    tb = tmp_path / "tb"
    args = ["train", "--data", "digits", "--hidden", "32,16", "--epochs", "3", "--quiet", "--seed", "0",
            "--schedule", "step", "--step-size", "1", "--gamma", "0.5", "--out", str(tmp_path / "run"),
            "--tensorboard", str(tb)]
    assert main(args) == 0
    scalars, hists = read_events(tb)
    history = np.genfromtxt(tmp_path / "run" / "history.csv", delimiter=",", names=True)
    for tag, column in [("loss/train", "loss"), ("loss/val", "val_loss"), ("accuracy/train", "accuracy"),
                        ("accuracy/val", "val_accuracy"), ("lr", "lr")]:
        steps, values = zip(*scalars[tag], strict=True)
        assert steps == (1, 2, 3), tag
        np.testing.assert_allclose(values, history[column], rtol=1e-6, atol=1e-6, err_msg=tag)  # CSV: 6 decimals
    np.testing.assert_allclose([v for _, v in scalars["lr"]], [1e-3, 5e-4, 2.5e-4], rtol=1e-6)
    grad_tags = sorted(t for t in scalars if t.startswith("grad_norm/"))
    assert grad_tags == ["grad_norm/0", "grad_norm/2", "grad_norm/4"]  # the three Linear layers
    assert all(v > 0 for t in grad_tags for _, v in scalars[t])
    assert sorted(hists) == [f"weights/{i}.{p}" for i in (0, 2, 4) for p in ("bias", "weight")]
    assert all(steps == [1, 2, 3] for steps in hists.values())


def test_tensorboard_callback_in_the_api(tmp_path):
    from fcnet import nn, optim
    from fcnet.train import TensorBoard, Trainer

    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 5)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.FullyConnectedNet(5, [8], 2, rng=0)
    cb = TensorBoard(tmp_path / "tb", histograms=False)
    Trainer(model, optim.SGD(model.parameters(), lr=0.1), callbacks=[cb], progress=False).fit(x, y, 16, 2)
    cb.close()
    scalars, hists = read_events(tmp_path / "tb")
    assert [s for s, _ in scalars["loss/train"]] == [1, 2]
    assert "loss/val" not in scalars and not hists


def test_missing_tensorboardx_is_one_line_error(monkeypatch, tmp_path):
    from fcnet.train import TensorBoard

    monkeypatch.setitem(sys.modules, "tensorboardX", None)
    with pytest.raises(ConfigError, match=r"pip install 'fcnet\[tensorboard\]'"):
        TensorBoard(tmp_path)
