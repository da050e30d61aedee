"""``fcnet export``: ONNX and PyTorch exports reproduce fcnet's probabilities on Fashion-MNIST's test set."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from fcnet import data
from fcnet.cli.main import main
from fcnet.data.registry import FASHION
from fcnet.data.sources import find_local
from fcnet.errors import ConfigError
from fcnet.train import io
from fcnet.train.trainer import predict_proba

CASES = {
    "relu": ["--hidden", "32"],
    "batchnorm": ["--hidden", "32,16", "--batchnorm", "--activation", "leaky_relu", "--dropout", "0.1"],
}


@pytest.fixture(scope="module")
def fashion_test():
    if find_local(FASHION) is None:
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    ds = data.load("fashion-mnist", download=False)
    return ds.x_test.astype(np.float32)  # raw pixels 0-255, what the exported models take


@pytest.fixture(scope="module", params=sorted(CASES))
def run(request, tmp_path_factory, fashion_test):
    out = tmp_path_factory.mktemp(f"run-{request.param}")
    args = ["train", "--data", "fashion-mnist", "--subset", "2000", "--epochs", "1", "--seed", "0",
            "--quiet", "--out", str(out), *CASES[request.param]]
    assert main(args) == 0
    model, pre, meta = io.load_model(out)
    # what `fcnet predict` computes: the saved standardisation, then the net's softmax in eval mode
    probs = predict_proba(model, pre.apply(fashion_test))
    return request.param, out, probs, meta["classes"]


def test_onnx_export_matches_fcnet_on_fashion_test_set(run, fashion_test, tmp_path):
    onnx = pytest.importorskip("onnx")
    ort = pytest.importorskip("onnxruntime")
    name, run_dir, probs, _ = run
    path = tmp_path / "model.onnx"
    assert main(["export", str(run_dir), "--format", "onnx", "--out", str(path)]) == 0
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    ops = [n.op_type for n in model.graph.node]
    assert ops[:3] == ["Mul", "Sub", "Div"] and ops[-2] == "Softmax"
    assert ("BatchNormalization" in ops) == (name == "batchnorm")
    assert "Dropout" not in ops
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    got = sess.run(["probabilities"], {"x": fashion_test})[0]
    assert got.shape == probs.shape == (10000, 10)
    np.testing.assert_allclose(got, probs, atol=1e-5, rtol=0)


def test_torch_export_matches_fcnet_on_fashion_test_set(run, fashion_test, tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file

    name, run_dir, probs, classes = run
    out = tmp_path / "torch"
    assert main(["export", str(run_dir), "--format", "torch", "--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["model.py", "model.safetensors"]
    spec = importlib.util.spec_from_file_location(f"exported_{name}", out / "model.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    net = mod.load()
    assert isinstance(net, torch.nn.Sequential) and not net.training
    assert set(load_file(str(out / "model.safetensors"))) == set(net.state_dict())
    assert any(isinstance(m, torch.nn.BatchNorm1d) for m in net) == (name == "batchnorm")
    assert mod.CLASSES == classes
    with torch.no_grad():
        got = net(torch.from_numpy(fashion_test)).numpy()
    np.testing.assert_allclose(got, probs, atol=1e-5, rtol=0)


def test_missing_onnx_is_one_line_error_naming_the_extra(monkeypatch, tmp_path, capsys):
    from fcnet.data.dataset import Preprocess
    from fcnet.export import export_onnx, prediction_path
    from fcnet.nn import FullyConnectedNet

    model = FullyConnectedNet(4, [3], 2, rng=0)
    io.save_model(tmp_path / "run", model, Preprocess(), ["a", "b"])
    monkeypatch.setitem(sys.modules, "onnx", None)  # import onnx now raises ImportError
    with pytest.raises(ConfigError, match=r"pip install 'fcnet\[export\]'"):
        export_onnx(prediction_path(model, None), tmp_path / "m.onnx")
    assert main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "m.onnx")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "pip install 'fcnet[export]'" in err
    assert not (tmp_path / "m.onnx").exists()


@pytest.fixture
def small_run(tmp_path):
    from fcnet.data.dataset import Preprocess
    from fcnet.nn import FullyConnectedNet

    run_dir = tmp_path / "run"
    io.save_model(run_dir, FullyConnectedNet(4, [3], 2, rng=0), Preprocess(), ["a", "b"])
    return run_dir


def _snapshot(d):
    return {p: p.read_bytes() for p in d.rglob("*") if p.is_file()}


@pytest.mark.parametrize("fmt", ["onnx", "torch"])
def test_export_never_writes_into_the_run_it_reads(small_run, capsys, fmt):
    before = _snapshot(small_run)
    out = small_run if fmt == "torch" else small_run / "model.onnx"
    assert main(["export", str(small_run), "--format", fmt, "--out", str(out), "--overwrite"]) == 2
    assert "inside a run directory" in capsys.readouterr().err
    assert _snapshot(small_run) == before


def test_a_torch_export_cut_off_between_its_two_files_refuses_to_load(small_run, tmp_path):
    pytest.importorskip("torch")
    from fcnet.data.dataset import Preprocess
    from fcnet.nn import FullyConnectedNet

    out = tmp_path / "torch"
    assert main(["export", str(small_run), "--format", "torch", "--out", str(out)]) == 0
    old_py = (out / "model.py").read_text()
    other = tmp_path / "other"
    io.save_model(other, FullyConnectedNet(4, [3], 2, rng=1), Preprocess(), ["a", "b"])
    assert main(["export", str(other), "--format", "torch", "--out", str(out), "--overwrite"]) == 0

    def load(tag):
        spec = importlib.util.spec_from_file_location(f"exported_cut_{tag}", out / "model.py")
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        return mod.load()

    load("whole")  # a complete export loads
    (out / "model.py").write_text(old_py)  # what a kill between the weights and model.py leaves
    with pytest.raises(RuntimeError, match="export the model again"):
        load("cut")


def test_export_refuses_to_replace_a_file_or_fill_a_directory_without_overwrite(small_run, tmp_path, capsys):
    keep = tmp_path / "keep.txt"
    keep.write_text("mine")
    assert main(["export", str(small_run), "--format", "onnx", "--out", str(keep)]) == 2
    assert "--overwrite" in capsys.readouterr().err and keep.read_text() == "mine"
    full = tmp_path / "full"
    full.mkdir()
    (full / "notes.txt").write_text("mine")
    assert main(["export", str(small_run), "--format", "torch", "--out", str(full)]) == 2
    assert "not empty" in capsys.readouterr().err and sorted(p.name for p in full.iterdir()) == ["notes.txt"]
    for out, msg in [(tmp_path, "is a directory"), (tmp_path / "missing" / "m.onnx", "does not exist"), ("", "empty")]:
        assert main(["export", str(small_run), "--format", "onnx", "--out", str(out)]) == 2
        assert msg in capsys.readouterr().err
