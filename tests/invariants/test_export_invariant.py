"""Invariant (b): the ONNX and PyTorch exports equal fcnet to 1e-5 for every architecture the options build.

The architecture (widths, activation and leaky slope, batch norm, dropout, init) is drawn from
OPTIONS, the dtype from float32/float64; batch-norm statistics, the standardisation and inputs are
random, wide enough that every activation sees both signs.
"""

from __future__ import annotations

import importlib.util
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fcnet.data.dataset import Preprocess
from fcnet.export import export_onnx, export_torch, prediction_path
from fcnet.nn import FullyConnectedNet
from fcnet.nn.layers import BatchNorm1d
from fcnet.train.trainer import predict_proba
from tests.invariants.options_space import configs, count, examples

ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")


def _model(cfg: dict, dtype: str, seed: int) -> tuple[FullyConnectedNet, Preprocess]:
    rng = np.random.default_rng(seed)
    model = FullyConnectedNet(5, cfg["hidden"], 3, activation=cfg["activation"], batchnorm=cfg["batchnorm"],
                              dropout=cfg["dropout"], init=cfg["init"], std=cfg.get("init_std"),
                              negative_slope=cfg["negative_slope"], dtype=dtype, rng=seed)
    for m in model.modules():
        if isinstance(m, BatchNorm1d):
            m.running_mean[...] = rng.normal(size=m.num_features)
            m.running_var[...] = rng.uniform(0.2, 3.0, size=m.num_features)
            m.weight.data[...] = rng.normal(size=m.num_features)
            m.bias.data[...] = rng.normal(size=m.num_features)
    for p in model.parameters():  # zero-init weights would hide every activation: make them random
        if not p.data.any():
            p.data[...] = rng.normal(size=p.data.shape)
    model.eval()
    pre = Preprocess(scale=float(rng.uniform(0.5, 16.0)))
    pre.mean = rng.normal(size=5).astype(np.float32)
    pre.std = rng.uniform(0.5, 2.0, size=5).astype(np.float32)
    return model, pre


def check_exports(model: FullyConnectedNet, pre: Preprocess, x: np.ndarray) -> None:
    want = predict_proba(model, pre.apply(x))
    steps = prediction_path(model, pre)
    with tempfile.TemporaryDirectory() as d:
        export_onnx(steps, Path(d) / "m.onnx")
        sess = ort.InferenceSession(str(Path(d) / "m.onnx"), providers=["CPUExecutionProvider"])
        np.testing.assert_allclose(sess.run(["probabilities"], {"x": x})[0], want, atol=1e-5, rtol=0)
        export_torch(steps, Path(d) / "t")
        spec = importlib.util.spec_from_file_location(f"exported_{id(model)}", Path(d) / "t" / "model.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        with torch.no_grad():
            got = mod.load().float()(torch.from_numpy(x)).numpy()
        np.testing.assert_allclose(got, want, atol=1e-5, rtol=0)


@pytest.mark.parametrize("activation,slope", [("leaky_relu", 0.3), ("leaky_relu", 2.0), ("sigmoid", 0.01),
                                              ("tanh", 0.01), ("relu", 0.01)])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_every_activation_and_slope_exports(activation, slope, batchnorm):
    cfg = {"hidden": [6, 4], "activation": activation, "batchnorm": batchnorm, "dropout": 0.2, "init": "he",
           "negative_slope": slope}
    model, pre = _model(cfg, "float32", 0)
    x = np.random.default_rng(1).normal(0, 20, size=(64, 5)).astype(np.float32)
    check_exports(model, pre, x)


@settings(max_examples=examples(12, 400), suppress_health_check=list(HealthCheck))
@given(cfg=configs(), dtype=st.sampled_from(["float32", "float64"]), seed=st.integers(0, 2**16))
def test_exports_equal_fcnet_for_every_architecture(cfg, dtype, seed):
    count("(b) ONNX and torch exports equal fcnet")
    model, pre = _model(cfg, dtype, seed)
    x = np.random.default_rng(seed).normal(0, 10, size=(32, 5)).astype(np.float32)
    check_exports(model, pre, x)
