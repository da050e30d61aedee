"""End-to-end: `fcnet train` and friends through subprocess, as a user runs them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from safetensors.numpy import load_file

from tests.conftest import fcnet_cmd


def run(args, cwd, env=None, timeout=300):
    e = {**os.environ, "FCNET_OFFLINE": "1", **(env or {})}
    return subprocess.run(fcnet_cmd() + args, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=e)


def assert_one_line_error(res, code=2, match=None):
    assert res.returncode == code, res.stderr
    assert "Traceback" not in res.stderr
    err = [ln for ln in res.stderr.strip().splitlines() if ln.startswith("fcnet: error:")]
    assert len(err) == 1, res.stderr
    if match:
        assert match in err[0], err[0]


def not_blank(png: Path) -> bool:
    a = np.asarray(Image.open(png).convert("L"), dtype=np.float64)
    return a.std() > 5 and a.shape[0] > 50


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("run")
    res = run(["train", "--data", "digits", "--hidden", "64", "--epochs", "8", "--batch-size", "32",
               "--out", str(d / "r"), "--quiet"], cwd=d)
    assert res.returncode == 0, res.stderr
    return d / "r", res


def test_train_writes_run_directory(digits_run):
    run_dir, res = digits_run
    assert "test accuracy:" in res.stdout
    acc = json.loads((run_dir / "summary.json").read_text())["test_accuracy"]
    assert acc > 0.9
    for name in ["config.toml", "history.csv", "model.safetensors", "model.json", "summary.json",
                 "checkpoint/model.safetensors", "checkpoint/state.json"]:
        assert (run_dir / name).is_file(), name
    assert len((run_dir / "history.csv").read_text().strip().splitlines()) == 9
    for png in ["loss.png", "accuracy.png", "grad_norms.png", "confusion.png"]:
        assert not_blank(run_dir / png), png


def test_eval_and_predict(digits_run, tmp_path):
    run_dir, _ = digits_run
    res = run(["eval", str(run_dir)], cwd=tmp_path)
    assert res.returncode == 0 and "test accuracy" in res.stdout
    from sklearn.datasets import load_digits

    d = load_digits()
    paths = []
    for i in range(1, 6):  # the last images, dark strokes on white as a user would draw
        img = (255 - d.images[-i] * 255 / 16).astype(np.uint8)
        p = tmp_path / f"digit{i}.png"
        Image.fromarray(img).resize((32, 32), Image.NEAREST).save(p)
        paths.append(str(p))
    res = run(["predict", str(run_dir), *paths, "--top", "1"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    got = [ln.split(": ")[1].split(" ")[0] for ln in res.stdout.strip().splitlines()]
    want = [str(d.target[-i]) for i in range(1, 6)]
    assert sum(g == w for g, w in zip(got, want, strict=True)) >= 4


def test_config_file_and_cli_precedence(tmp_path):
    cfg = tmp_path / "c.toml"
    cfg.write_text('data = "xor"\nhidden = [16]\nepochs = 2\nlr = 0.01\nbatch_size = 64\n')
    res = run(["train", "--config", str(cfg), "--epochs", "3", "--out", "r", "--quiet"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    written = (tmp_path / "r" / "config.toml").read_text()
    assert 'data = "xor"' in written and "epochs = 3" in written and "lr = 0.01" in written


def _weights(path):
    return {k: v.tobytes() for k, v in load_file(str(path)).items()}


# `fcnet ARGS` that presses Ctrl-C (a real SIGINT to itself) at the 10th mini-batch of epoch 3: mid-epoch
_CTRL_C_IN_EPOCH_3 = """
import os, signal, sys
from fcnet.train import callbacks
seen = {"epochs": 0, "batches": 0}
end = callbacks.CSVLogger.on_epoch_end
def on_epoch_end(self, trainer, epoch, logs):
    end(self, trainer, epoch, logs)
    seen["epochs"] += 1
    seen["batches"] = 0
def on_batch_end(self, trainer, step):
    seen["batches"] += 1
    if seen["epochs"] == 2 and seen["batches"] == 10:
        os.kill(os.getpid(), signal.SIGINT)
callbacks.CSVLogger.on_epoch_end, callbacks.CSVLogger.on_batch_end = on_epoch_end, on_batch_end
from fcnet.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def test_sigint_then_resume_is_bit_identical(tmp_path):
    # 90 mini-batches an epoch; the Ctrl-C lands at the 10th of epoch 3, so epoch 3 is cut and trained again
    common = ["train", "--data", "digits", "--hidden", "64,64", "--batch-size", "16", "--epochs", "4",
              "--dropout", "0.2", "--batchnorm", "--seed", "3", "--schedule", "cosine"]  # no --quiet: epoch lines
    full = run([*common, "--out", "full"], cwd=tmp_path)
    assert full.returncode == 0, full.stderr
    cut = subprocess.run([sys.executable, "-c", _CTRL_C_IN_EPOCH_3, *common, "--out", "cut"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=300, env={**os.environ, "FCNET_OFFLINE": "1"})
    assert cut.returncode == 130, cut.stderr
    assert "epoch 2/4" in cut.stderr and "epoch 3/4" not in cut.stderr  # stopped inside epoch 3
    assert "fcnet train --resume cut" in cut.stderr
    assert json.loads((tmp_path / "cut" / "checkpoint" / "state.json").read_text())["epoch"] == 2
    assert not (tmp_path / "cut" / "model.safetensors").exists()
    resumed = run(["train", "--resume", "cut", "--quiet"], cwd=tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    assert _weights(tmp_path / "cut" / "model.safetensors") == _weights(tmp_path / "full" / "model.safetensors")
    assert (tmp_path / "cut" / "history.csv").read_text().count("\n") == 5  # header + 4 epochs


def test_sigint_between_sparse_checkpoints_saves_the_last_epoch(tmp_path):
    args = ["train", "--data", "digits", "--hidden", "2048,2048", "--batch-size", "16", "--epochs", "4",
            "--checkpoint-every", "3", "--out", "sp"]
    proc = subprocess.Popen([*fcnet_cmd(), *args], cwd=tmp_path, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "FCNET_OFFLINE": "1"})
    for line in proc.stderr:
        if line.startswith("epoch 1/4"):
            proc.send_signal(signal.SIGINT)
            break
    proc.stderr.read()
    assert proc.wait(timeout=120) == 130
    state = json.loads((tmp_path / "sp" / "checkpoint" / "state.json").read_text())
    assert state["epoch"] >= 1  # epoch 1 was saved on Ctrl-C although checkpoints come every 3 epochs


def test_divergence_stops_with_exit_3_and_keeps_checkpoint(tmp_path):
    res = run(["train", "--data", "digits", "--hidden", "256,256", "--optimizer", "sgd", "--lr", "1e4",
               "--epochs", "5", "--out", "d", "--quiet", "--monitor", "false"], cwd=tmp_path)
    assert res.returncode == 3, res.stderr
    assert "diverged in epoch" in res.stderr and "--clip-norm" in res.stderr and "lower learning rate" in res.stderr
    assert "Traceback" not in res.stderr


def test_divergence_after_a_good_epoch_names_the_checkpoint(tmp_path):
    # a learning rate that survives epoch 1 then blows up: the epoch-1 checkpoint must stay intact
    res = run(["train", "--data", "digits", "--hidden", "64", "--optimizer", "sgd", "--lr", "0.1",
               "--epochs", "1", "--out", "d", "--quiet"], cwd=tmp_path)
    assert res.returncode == 0
    before = _weights(tmp_path / "d" / "checkpoint" / "model.safetensors")
    res = run(["train", "--resume", "d", "--epochs", "3", "--lr", "1e6", "--quiet"], cwd=tmp_path)
    assert res.returncode == 3, res.stderr
    assert "epoch 1" in res.stderr and str(Path("d") / "checkpoint") in res.stderr
    assert _weights(tmp_path / "d" / "checkpoint" / "model.safetensors") == before


@pytest.mark.parametrize("args,match", [
    (["train", "--data", "imagenet"], "unknown data set 'imagenet'"),
    (["train", "--data", "mnist"], "train-images-idx3-ubyte.gz"),
    (["train", "--resume", "nowhere"], "not a run directory"),
    (["eval", "nowhere"], "model.json"),
    (["graph", "--expr", "x + "], "cannot parse"),
    (["graph", "--expr", "x * z", "--var", "x=1"], "--var z=VALUE"),
])
def test_bad_input_one_line_exit_2(tmp_path, args, match):
    assert_one_line_error(run(args, cwd=tmp_path, env={"XDG_CACHE_HOME": str(tmp_path)}), 2, match)


def test_unknown_config_key(tmp_path):
    (tmp_path / "c.toml").write_text("hiden = [3]\n")
    assert_one_line_error(run(["train", "--config", "c.toml"], cwd=tmp_path), 2, "unknown config key 'hiden'")


def test_nan_and_bad_labels_in_data_files(tmp_path):
    x = np.ones((20, 3))
    x[4, 2] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, y=np.zeros(20, int))
    assert_one_line_error(run(["train", "--data", "nan.npz"], cwd=tmp_path), 2, "NaN")
    np.savez(tmp_path / "lab.npz", x=np.ones((20, 3)), y=np.arange(20) - 3)
    assert_one_line_error(run(["train", "--data", "lab.npz"], cwd=tmp_path), 2, "out of range")


def test_corrupted_idx_file(tmp_path):
    from tests.unit.test_data import IDX_NAMES, make_idx_set

    d = make_idx_set(tmp_path / "fashion-mnist")
    raw = (d / IDX_NAMES[0]).read_bytes()
    (d / IDX_NAMES[0]).write_bytes(raw[: len(raw) // 2])
    assert_one_line_error(run(["train", "--data", "fashion-mnist", "--data-dir", str(tmp_path)], cwd=tmp_path), 2)


def test_corrupted_model_file(digits_run, tmp_path):
    import shutil

    run_dir, _ = digits_run
    bad = tmp_path / "bad"
    shutil.copytree(run_dir, bad)
    raw = (bad / "model.safetensors").read_bytes()
    (bad / "model.safetensors").write_bytes(raw[: len(raw) // 3])
    assert_one_line_error(run(["eval", str(bad)], cwd=tmp_path), 2, "truncated or corrupted")
    (bad / "model.safetensors").write_bytes(b"\x00" * 40)
    assert_one_line_error(run(["predict", str(bad), "x.png"], cwd=tmp_path), 2)


def test_predict_image_that_cannot_map(tmp_path):
    res = run(["train", "--data", "moons", "--hidden", "8", "--epochs", "1", "--out", "m", "--quiet"], cwd=tmp_path)
    assert res.returncode == 0
    Image.new("L", (10, 10), 255).save(tmp_path / "a.png")
    assert_one_line_error(run(["predict", "m", "a.png"], cwd=tmp_path), 2, "non-image data")


def test_predict_image_aspect_ratio(digits_run, tmp_path):
    run_dir, _ = digits_run
    Image.new("L", (200, 20), 255).save(tmp_path / "wide.png")
    assert_one_line_error(run(["predict", str(run_dir), "wide.png"], cwd=tmp_path), 2, "aspect ratio")


def test_graph_command(tmp_path):
    res = run(["graph", "square-sum"], cwd=tmp_path)
    assert res.returncode == 0 and "digraph" in res.stdout and "grad 6" in res.stdout
    res = run(["graph", "sigmoid-neuron", "--out", "g.svg"], cwd=tmp_path)
    if res.returncode == 2:
        assert "graphviz" in res.stderr.lower()
    else:
        assert (tmp_path / "g.svg").read_text().lstrip().startswith(("<?xml", "<svg"))


def test_graph_without_graphviz_is_one_line(tmp_path):
    res = run(["graph", "--out", "g.png"], cwd=tmp_path, env={"PATH": os.path.dirname(sys.executable)})
    assert_one_line_error(res, 2, "apt-get install graphviz")


def test_datasets_command(tmp_path):
    res = run(["datasets"], cwd=tmp_path)
    assert res.returncode == 0
    for name in ["digits", "fashion-mnist", "mnist", "cifar10", "spirals"]:
        assert name in res.stdout


def test_real_fashion_mnist_one_epoch_10k(tmp_path):
    if not Path("/usr/share/datasets/fashion-mnist").is_dir():
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    t = time.time()
    res = run(["train", "--data", "fashion-mnist", "--subset", "10000", "--hidden", "256", "--epochs", "1",
               "--out", "f", "--quiet"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    acc = json.loads((tmp_path / "f" / "summary.json").read_text())["test_accuracy"]
    assert acc > 0.80, acc
    assert time.time() - t < 120


def test_checksum_mismatch_on_download(tmp_path):
    from tests.unit.test_data import make_idx_set

    mirror = make_idx_set(tmp_path / "mirror")
    res = run(["train", "--data", "mnist"], cwd=tmp_path,
              env={"FCNET_OFFLINE": "0", "FCNET_MIRROR": mirror.as_uri(), "XDG_CACHE_HOME": str(tmp_path / "c")})
    assert_one_line_error(res, 2, "checksum mismatch")


def test_truncated_cifar_file(tmp_path):
    d = tmp_path / "cifar-10-batches-bin"
    d.mkdir()
    rng = np.random.default_rng(0)
    for b in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        rec = np.concatenate([rng.integers(0, 10, (4, 1)), rng.integers(0, 256, (4, 3072))], axis=1)
        (d / f"{b}.bin").write_bytes(rec.astype(np.uint8).tobytes()[:-7])
    assert_one_line_error(run(["train", "--data", "cifar10", "--data-dir", str(tmp_path)], cwd=tmp_path), 2,
                          "truncated")


def test_predict_rgb_images_with_a_cifar_model(tmp_path):
    from fcnet.data import cifar

    d = tmp_path / "cifar-10-batches-bin"
    d.mkdir()
    rng = np.random.default_rng(0)
    for b in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        cifar.write_binary_batch(d / f"{b}.bin", rng.integers(0, 256, (20, 3072)), rng.integers(0, 10, 20))
    res = run(["train", "--data", "cifar10", "--data-dir", str(tmp_path), "--hidden", "16", "--epochs", "1",
               "--out", "c", "--quiet"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8), "RGB").save(tmp_path / "photo.png")
    res = run(["predict", "c", "photo.png", "--top", "2"], cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    line = res.stdout.strip()
    assert line.startswith("photo.png: ") and line.count("%") == 2
    names = {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"}
    assert any(n in line for n in names)


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_shows_the_traceback(tmp_path, where):
    args = ["--debug", "train", "--data", "imagenet"] if where == "before" else ["train", "--data", "imagenet",
                                                                                 "--debug"]
    res = run(args, cwd=tmp_path)
    assert res.returncode != 0 and "Traceback" in res.stderr and "DataError" in res.stderr
