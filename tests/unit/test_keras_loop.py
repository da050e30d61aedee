"""A Keras user's loop, unchanged: fit(validation_split, verbose, callbacks), save, load any model,
evaluate/predict equal after the load; progress=False / verbose=0 print nothing, verbose=2 a line per epoch."""

from __future__ import annotations

import json

import numpy as np
import pytest

from fcnet import nn, optim
from fcnet.errors import ModelFileError
from fcnet.train.callbacks import EarlyStopping, ModelCheckpoint, ReduceLROnPlateau
from fcnet.train.io import load_model, save_model
from fcnet.train.trainer import Trainer


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 6)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1).astype(np.int64)


def _sequential(dtype=np.float32):
    return nn.Sequential(nn.Linear(6, 16, dtype=dtype, rng=0), nn.BatchNorm1d(16, dtype=dtype), nn.LeakyReLU(0.1),
                         nn.Dropout(0.2, rng=1),
                         nn.Sequential(nn.Linear(16, 8, dtype=dtype, rng=2), nn.Tanh()),
                         nn.Identity(), nn.Linear(8, 3, bias=False, dtype=dtype, rng=3))


class TwoBranch(nn.Module):
    """A model no config describes: rebuilt in code, then given the saved weights."""

    def __init__(self) -> None:
        super().__init__()
        self.a, self.b = nn.Linear(6, 3, rng=0), nn.Linear(6, 3, rng=1)

    def forward(self, x):
        return self.a(x) + self.b(x).tanh()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_keras_loop_with_a_plain_sequential(tmp_path, capsys, dtype):
    x, y = _data()
    model = _sequential(dtype)
    t = Trainer(model, optim.Adam(model.parameters(), lr=0.01), seed=0, progress=False)
    h = t.fit(x, y, epochs=4, batch_size=16, validation_split=0.2, verbose=0,
              callbacks=[ReduceLROnPlateau(monitor="val_loss", patience=1),
                         ModelCheckpoint(tmp_path / "best", monitor="val_loss", save_best_only=True)])
    assert len(h) == 4 and "val_loss" in h.columns
    save_model(tmp_path / "m", t.model)
    assert capsys.readouterr() == ("", "")
    for where in ("m", "best"):
        loaded, pre, meta = load_model(tmp_path / where)
        assert type(loaded) is nn.Sequential and meta["architecture"] == "Sequential" and not loaded.training
        assert pre.mean is None and meta["classes"] is None
        assert repr(loaded) == repr(model) and loaded.parameters()[0].dtype == dtype
    loaded, _, _ = load_model(tmp_path / "m")
    again = Trainer(loaded, optim.Adam(loaded.parameters()), progress=False)
    assert again.evaluate(x, y) == t.evaluate(x, y)
    assert np.array_equal(again.predict(x), t.predict(x))
    assert np.array_equal(again.predict_proba(x), t.predict_proba(x))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_fully_connected_net_saved_without_classes_loads(tmp_path, dtype):
    # save_model(dir, net) and ModelCheckpoint write no class names: the net loads, its classes named by index
    x, y = _data()
    net = nn.FullyConnectedNet(6, [8, 5], 3, activation="tanh", batchnorm=True, dropout=0.1, dtype=dtype, rng=0)
    t = Trainer(net, optim.Adam(net.parameters(), lr=0.01), seed=0, progress=False)
    t.fit(x, y, epochs=3, batch_size=16, validation_split=0.2,
          callbacks=[ModelCheckpoint(tmp_path / "best", monitor="val_loss", save_best_only=True)])
    save_model(tmp_path / "m", net)
    loaded, pre, meta = load_model(tmp_path / "m")
    assert type(loaded) is nn.FullyConnectedNet and meta["classes"] == ["0", "1", "2"] and pre.mean is None
    assert loaded.parameters()[0].dtype == dtype
    again = Trainer(loaded, optim.Adam(loaded.parameters()), progress=False)
    assert again.evaluate(x, y) == t.evaluate(x, y)
    assert np.array_equal(again.predict_proba(x), t.predict_proba(x))
    best, _, _ = load_model(tmp_path / "best")
    assert type(best) is nn.FullyConnectedNet
    # a model.json without the field at all is still refused
    meta_path = tmp_path / "m" / "model.json"
    doc = json.loads(meta_path.read_text())
    del doc["classes"]
    meta_path.write_text(json.dumps(doc))
    with pytest.raises(ModelFileError, match="lists no class names"):
        load_model(tmp_path / "m")


def test_any_model_loads_into_the_model_built_in_code(tmp_path):
    x, y = _data()
    model = TwoBranch()
    t = Trainer(model, optim.SGD(model.parameters(), lr=0.1), seed=0, progress=False)
    t.fit(x, y, epochs=2, batch_size=32)
    save_model(tmp_path / "m", model)
    with pytest.raises(ModelFileError, match=r"a TwoBranch is rebuilt in code.*load_model\(directory, model=\.\.\.\)"):
        load_model(tmp_path / "m")
    fresh = TwoBranch()
    loaded, _, _ = load_model(tmp_path / "m", model=fresh)
    assert loaded is fresh
    assert np.array_equal(Trainer(loaded, optim.SGD(loaded.parameters(), lr=0.1)).predict_proba(x), t.predict_proba(x))
    with pytest.raises(ModelFileError, match="does not fit the model"):
        load_model(tmp_path / "m", model=nn.Sequential(nn.Linear(6, 3)))


def test_progress_false_prints_nothing_and_verbose_2_one_line_per_epoch(capsys):
    x, y = _data()
    net = nn.FullyConnectedNet(6, [8], 3, rng=0)
    t = Trainer(net, optim.SGD(net.parameters(), lr=0.1), seed=0, progress=False,
                callbacks=[EarlyStopping(monitor="val_loss", patience=0)])
    t.fit(x, y, epochs=3, batch_size=16, validation_split=0.25)
    assert capsys.readouterr() == ("", "")
    t2 = Trainer(net, optim.SGD(net.parameters(), lr=0.1), seed=0, progress=False)
    t2.fit(x, y, epochs=3, batch_size=16, verbose=2)
    out, err = capsys.readouterr()
    assert out == "" and [line.split(":")[0] for line in err.splitlines()] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    t2.fit(x, y, epochs=1, batch_size=16)  # the trainer's own setting again: silent
    assert capsys.readouterr() == ("", "")
