"""`fcnet lr-find` suggests a learning rate that trains well."""

from __future__ import annotations

import subprocess

import numpy as np

import fcnet
from fcnet import nn, optim
from fcnet.lab.common import image_data
from fcnet.train.lr_find import lr_find
from tests.conftest import fcnet_cmd


def test_range_test_suggests_a_working_sgd_rate():
    ds = image_data("digits")
    fcnet.manual_seed(0)
    net = nn.FullyConnectedNet(64, [64], 10)
    res = lr_find(net, optim.SGD(net.parameters(), lr=1.0), nn.CrossEntropyLoss(), ds.xs_train, ds.y_train)
    assert 1e-3 < res.suggestion < 1.0
    assert res.suggestion <= res.min_loss_lr
    assert np.all(np.diff(res.lrs) > 0)


def test_lr_find_command(tmp_path):
    res = subprocess.run([*fcnet_cmd(), "lr-find", "--data", "digits", "--optimizer", "sgd", "--out", "o"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "suggested learning rate" in res.stdout
    lines = (tmp_path / "o" / "lr_find.csv").read_text().splitlines()
    assert lines[0] == "lr,smoothed_loss" and len(lines) > 20
    assert (tmp_path / "o" / "lr_find.png").stat().st_size > 5000


def _one_line(res, code=2):
    lines = res.stderr.strip().splitlines()
    assert res.returncode == code, res.stderr
    assert len(lines) == 1 and lines[0].startswith("fcnet: error:"), res.stderr
    return lines[0]


def test_lr_find_refuses_a_range_that_does_not_grow(tmp_path):
    res = subprocess.run([*fcnet_cmd(), "lr-find", "--data", "digits", "--start", "1", "--end", "0.1"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert "0 < start < end" in _one_line(res)
    res = subprocess.run([*fcnet_cmd(), "lr-find", "--data", "digits", "--steps", "0"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert "--steps" in _one_line(res)
