"""The CuPy backend against the NumPy one, and `--device cuda` without a GPU."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

import fcnet
from fcnet import backend, nn, optim
from fcnet.train import Trainer
from tests.conftest import CUDA, fcnet_cmd

gpu = pytest.mark.skipif(not CUDA, reason="no GPU with CuPy here")


def _train(device, dtype=np.float64):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((512, 20)).astype(dtype)
    y = rng.integers(0, 4, 512)
    fcnet.manual_seed(0)
    net = nn.FullyConnectedNet(20, [32, 16], 4, batchnorm=True, dtype=dtype, device=device)
    opt = optim.Adam(net.parameters(), lr=1e-2, weight_decay=1e-3)
    Trainer(net, opt, progress=False, seed=1).fit(x, y, epochs=3, batch_size=64)
    return {k: v for k, v in net.state_dict().items()}


@gpu
def test_cuda_training_matches_numpy_backend():
    cpu, gpu_ = _train("cpu"), _train("cuda")
    for k in cpu:
        np.testing.assert_allclose(gpu_[k], cpu[k], rtol=1e-7, atol=1e-9, err_msg=k)


@gpu
def test_cuda_tensors_stay_on_device():
    x = fcnet.tensor(np.ones((3, 4)), requires_grad=True, device="cuda")
    y = (x * 2).relu().sum()
    y.backward()
    assert x.device == "cuda" and y.device == "cuda"
    assert backend.device_of(x.grad) == "cuda"
    net = nn.FullyConnectedNet(4, [8], 2).to("cuda")
    assert all(p.device == "cuda" for p in net.parameters())


@pytest.mark.skipif(CUDA, reason="checks the error of a machine without a GPU")
def test_device_cuda_without_gpu_is_a_one_line_error(tmp_path):
    res = subprocess.run([*fcnet_cmd(), "train", "--data", "xor", "--device", "cuda", "--out", "r"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120, env={**os.environ, "FCNET_OFFLINE": "1"})
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.strip().startswith("fcnet: error:") and "CuPy" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
