"""``--augment``: random horizontal flips and pixel shifts of the training images.

Each transform is checked against an independent construction (NumPy slicing, ``np.roll``) on
every shift, the draws against their seed, the training loop against a resume, and fcnet's
arithmetic against the PyTorch version the time-to-accuracy benchmark trains with.
"""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest

from fcnet.data import ImageAugment
from fcnet.errors import ConfigError
from fcnet.train import options
from fcnet.train.callbacks import Callback
from fcnet.train.recipe import make_augment, prepare_data, run
from fcnet.train.trainer import Trainer
from tests.conftest import ROOT


def _images(n: int, shape: tuple[int, int, int], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.1, 1.0, (n, int(np.prod(shape)))).astype(np.float32)


def _shifted(img: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """``img`` (H, W, C) moved dy rows down and dx columns right, black moved in: by ``np.roll``."""
    out = np.roll(img, (dy, dx), axis=(0, 1))
    if dy > 0:
        out[:dy] = 0
    elif dy < 0:
        out[dy:] = 0
    if dx > 0:
        out[:, :dx] = 0
    elif dx < 0:
        out[:, dx:] = 0
    return out


@pytest.mark.parametrize("layout", ["hwc", "chw"])
def test_every_flip_and_shift_is_exact(layout):
    shape = (5, 7, 3)
    h, w, c = shape
    s = 2
    aug = ImageAugment(shape, layout, shift=s)
    x = _images(1, shape)
    as_hwc = (lambda v: v.reshape(h, w, c)) if layout == "hwc" else (lambda v: v.reshape(c, h, w).transpose(1, 2, 0))
    img = as_hwc(x[0])
    for f in (False, True):
        for dy in range(-s, s + 1):
            for dx in range(-s, s + 1):
                out = aug.apply(x, np.array([f]), np.array([[dy, dx]]))
                want = _shifted(img[:, ::-1] if f else img, dy, dx)
                np.testing.assert_array_equal(as_hwc(out[0]), want, err_msg=f"flip {f}, shift ({dy}, {dx})")


def test_a_shift_past_the_edge_leaves_a_black_image():
    x = _images(1, (3, 3, 1))
    out = ImageAugment((3, 3, 1), shift=4).apply(x, np.array([False]), np.array([[3, 0]]))
    np.testing.assert_array_equal(out, np.zeros_like(x))


def test_standardised_pixels_move_as_pixel_values():
    """x = (u − μ) / σ in, x' = (u' − μ) / σ out, with u' the moved pixel values and black moved in."""
    shape = (6, 6, 1)
    rng = np.random.default_rng(3)
    u = _images(4, shape)
    mean, std = rng.uniform(0, 0.5, 36).astype(np.float32), rng.uniform(0.2, 2, 36).astype(np.float32)
    x = (u - mean) / std
    aug = ImageAugment(shape, shift=2, mean=mean, std=std)
    flips, shifts = np.array([True, False, True, False]), np.array([[1, -2], [0, 0], [-1, 1], [2, 2]])
    out = aug.apply(x, flips, shifts)
    for i in range(4):
        img = u[i].reshape(6, 6, 1)
        want = (_shifted(img[:, ::-1] if flips[i] else img, *shifts[i]).reshape(-1) - mean) / std
        np.testing.assert_allclose(out[i], want, rtol=1e-5, atol=1e-5)


def test_shapes_draws_and_determinism():
    shape = (28, 28, 1)
    x = _images(64, shape)
    before = x.copy()
    aug = ImageAugment(shape, shift=2)
    a = aug(x, np.random.default_rng(7))
    assert a.shape == x.shape and a.dtype == x.dtype
    np.testing.assert_array_equal(x, before)  # a new array: the data set itself is never changed
    a = a.copy()  # the result lives in the augmenter's buffers until its next call
    np.testing.assert_array_equal(a, aug(x, np.random.default_rng(7)))  # the same seed, the same images
    assert not np.array_equal(a, aug(x, np.random.default_rng(8)))
    flips, shifts = aug.draw(np.random.default_rng(0), 4000)
    assert 0.45 < flips.mean() < 0.55 and set(np.unique(shifts)) == {-2, -1, 0, 1, 2}
    none_f, none_s = ImageAugment(shape, flip=False, shift=0).draw(np.random.default_rng(0), 10)
    assert not none_f.any() and not none_s.any()
    with pytest.raises(ValueError, match="flattened to"):
        aug.apply(x[:, :100], flips[:64], shifts[:64])
    with pytest.raises(ValueError, match="shifts must lie in"):
        aug.apply(x[:1], np.array([False]), np.array([[3, 0]]))


def test_the_trainer_augments_training_batches_only():
    from fcnet import nn, optim

    seen: list[int] = []

    def spy(xb, rng):
        seen.append(len(xb))
        return xb

    model = nn.FullyConnectedNet(4, [3], 2, rng=np.random.default_rng(0))
    trainer = Trainer(model, optim.SGD(model.parameters(), lr=0.1), progress=False, log=lambda m: None,
                      augment=spy)
    x = _images(10, (2, 2, 1))
    y = np.arange(10) % 2
    trainer.fit(x, y, batch_size=4, epochs=2, validation_data=(x, y))
    trainer.evaluate(x, y)
    trainer.predict(x)
    assert seen == [4, 4, 2] * 2  # every training batch, nothing else


def test_option_is_in_the_table_and_refused_on_non_image_data(tmp_path, capsys, monkeypatch):
    assert options.default("augment") is False and options.default("augment_shift") == 2
    assert options.parse_config({"augment": True, "augment-shift": 1}, "x.toml") == {"augment": True,
                                                                                     "augment_shift": 1}
    with pytest.raises(ConfigError, match="--augment-shift"):
        options.coerce("augment_shift", 9)
    cfg = options.validate({"data": "digits", "augment": True, "augment_shift": 1})
    aug = make_augment(cfg, prepare_data(cfg))
    assert aug is not None and aug.image_shape == (8, 8, 1) and aug.shift == 1 and aug.mean is not None
    plain = tmp_path / "plain.csv"
    plain.write_text("a,b,label\n" + "".join(f"{i},{i % 3},{i % 2}\n" for i in range(40)))
    from fcnet.cli.main import main

    monkeypatch.chdir(tmp_path)
    code = main(["train", "--data", str(plain), "--augment", "--quiet", "--monitor", "false"])
    err = capsys.readouterr().err
    assert code == 2 and "--augment" in err and "no image shape" in err


DIGITS = {"data": "digits", "hidden": [16], "epochs": 2, "batch_size": 64, "dropout": 0.1, "monitor": False,
          "augment": True, "augment_shift": 1, "schedule": "cosine"}


def _weights(out):
    from fcnet.train.callbacks import Checkpoint

    return Checkpoint.load(out / "checkpoint")[0]


class _StopAfterFirstEpoch(Callback):
    def on_epoch_end(self, trainer, epoch, logs):
        if epoch == 1:
            raise KeyboardInterrupt


def test_augmented_run_resumes_bit_exact_and_differs_from_plain(tmp_path):
    quiet = {"progress": False, "log": lambda m: None, "plots": False}
    run(DIGITS, tmp_path / "whole", **quiet)
    with pytest.raises(KeyboardInterrupt):  # Ctrl-C at the end of epoch 1 ...
        run(DIGITS, tmp_path / "half", on_trainer=lambda t: t.callbacks.append(_StopAfterFirstEpoch()), **quiet)
    run(DIGITS, tmp_path / "half", resume=True, **quiet)  # ... and resumed to epoch 2
    a, b = _weights(tmp_path / "whole"), _weights(tmp_path / "half")
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    run({**DIGITS, "augment": False}, tmp_path / "plain", **quiet)
    assert not np.array_equal(a["model.0.weight"], _weights(tmp_path / "plain")["model.0.weight"])
    assert json.loads((tmp_path / "half" / "summary.json").read_text())["epochs"] == 2


def _benchmark():
    spec = importlib.util.spec_from_file_location("time_to_accuracy", ROOT / "benchmarks" / "time_to_accuracy.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("layout,shape", [("hwc", (28, 28, 1)), ("chw", (6, 5, 3))])
def test_pytorch_augmentation_of_the_benchmark_matches(layout, shape):
    torch = pytest.importorskip("torch")
    bench = _benchmark()
    d = int(np.prod(shape))
    rng = np.random.default_rng(5)
    mean, std = rng.uniform(0, 0.5, d).astype(np.float32), rng.uniform(0.2, 2, d).astype(np.float32)
    x = ((_images(32, shape) - mean) / std).astype(np.float32)
    aug = ImageAugment(shape, layout, shift=2, mean=mean, std=std)
    flips, shifts = aug.draw(np.random.default_rng(11), 32)
    ours = aug.apply(x, flips, shifts)
    theirs = bench.torch_augment(torch.from_numpy(x), torch.from_numpy(flips), torch.from_numpy(shifts),
                                 torch.from_numpy(mean), torch.from_numpy(std), shape, layout)
    np.testing.assert_array_equal(theirs.numpy(), ours)  # the same float32 operations: the same bits


def test_the_benchmark_without_torch_stops_before_training(monkeypatch, capsys):
    bench = _benchmark()
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    monkeypatch.setattr(bench, "run_fcnet", lambda *a: pytest.fail("fcnet trained although PyTorch is missing"))
    assert bench.main(["--budgets", "1"]) == 2
    assert "fcnet[torch]" in capsys.readouterr().err
