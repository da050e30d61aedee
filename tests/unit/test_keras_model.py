"""Keras's Model API on every Module: compile, fit, evaluate, predict, save and load, delegating to one Trainer."""

from __future__ import annotations

import re
import subprocess
import sys

import numpy as np
import pytest

import fcnet
from fcnet import nn, optim
from fcnet.train import EarlyStopping, Trainer, load_model
from fcnet.train.history import History
from tests.conftest import ROOT


def _data(n=120, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype(np.float32)
    return x, np.digitize(x[:, 0] + x[:, 1], [-0.5, 0.5]).astype(np.int64)


def _model(dtype=np.float32, out=3):
    return nn.Sequential(nn.Linear(6, 8, dtype=dtype, rng=0), nn.ReLU(), nn.Linear(8, out, dtype=dtype, rng=1))


def _same_weights(a, b):
    return all(np.array_equal(p.data, q.data) for p, q in zip(a.parameters(), b.parameters(), strict=True))


def test_a_keras_users_loop_runs_unchanged(tmp_path):
    x, y = _data()
    x_test, y_test = _data(40, seed=1)
    model = _model()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=32, epochs=5, validation_split=0.1,
                        callbacks=[EarlyStopping(monitor="val_loss", patience=10)], verbose=0)
    loss, acc = model.evaluate(x_test, y_test, verbose=0)
    scores = model.predict(x_test, verbose=0)
    model.save(tmp_path / "model.keras")
    assert {"loss", "accuracy", "val_loss", "val_accuracy"} <= set(history.history)
    assert len(history.history["val_loss"]) == 5 and history.epoch == [0, 1, 2, 3, 4]
    assert history.history["loss"][-1] < history.history["loss"][0]
    with fcnet.no_grad():
        model.eval()
        assert np.array_equal(scores, model(fcnet.tensor(x_test)).data)  # the outputs as they are
    assert scores.shape == (40, 3) and not np.allclose(scores.sum(axis=1), 1.0)  # scores, not probabilities
    assert acc == np.mean(scores.argmax(axis=1) == y_test)
    loaded = nn.Sequential.load(tmp_path / "model.keras")  # compiled again from the names it was saved with
    assert loaded is not model and _same_weights(loaded, model)
    assert loaded.evaluate(x_test, y_test, verbose=0) == [loss, acc]
    assert np.array_equal(loaded.predict(x_test, verbose=0), scores)
    assert np.array_equal(load_model(tmp_path / "model.keras")[0].predict(x_test, verbose=0), scores)


@pytest.mark.parametrize(("name", "make"), [("adam", lambda p: optim.Adam(p, lr=0.001, eps=1e-7, eps_inside=False)),
                                            ("sgd", lambda p: optim.SGD(p, lr=0.01)),
                                            ("rmsprop", lambda p: optim.RMSProp(p, lr=0.001, rho=0.9, eps=1e-7))])
def test_fit_is_the_trainer_path_bit_for_bit_and_a_second_fit_continues(name, make):
    x, y = _data()
    w = np.random.default_rng(2).uniform(0.5, 2.0, len(y))
    keras_model, plain = _model(), _model()
    keras_model.compile(optimizer=name, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    first = keras_model.fit(x, y, 16, 3, 0, validation_split=0.2, sample_weight=w)
    second = keras_model.fit(x, y, 16, 2, 0, validation_split=0.2, sample_weight=w)
    trainer = Trainer(plain, make(plain.parameters()), nn.CrossEntropyLoss(), seed=0)
    full = trainer.fit(x, y, 16, 5, 0, validation_split=0.2, sample_weight=w)
    assert _same_weights(keras_model, plain)
    assert first["loss"] + second["loss"] == full["loss"]  # each call's History holds its own epochs, as Keras
    assert first["epoch"] == [1, 2, 3] and second["epoch"] == [4, 5]
    assert keras_model.evaluate(x, y, verbose=0, return_dict=True) == trainer.evaluate(x, y, 32)


def test_compile_with_an_fcnet_optimizer_and_loss_uses_them():
    x, y = _data()
    a, b = _model(), _model()
    opt = optim.Momentum(a.parameters(), lr=0.05, form="pytorch")
    a.compile(opt, nn.MulticlassHingeLoss(margin=0.5))
    a.fit(x, y, 16, 2, verbose=0)
    Trainer(b, optim.Momentum(b.parameters(), lr=0.05, form="pytorch"), nn.MulticlassHingeLoss(margin=0.5)).fit(
        x, y, 16, 2, verbose=0)
    assert _same_weights(a, b) and a._compiled.trainer.optimizer is opt
    with pytest.raises(ValueError, match="other parameters than this model's"):
        a.compile(optim.Adam(b.parameters()), "sparse_categorical_crossentropy")


KERAS_DEFAULT_LR = {"sgd": 0.01, "momentum": 0.01, "rmsprop": 0.001, "adagrad": 0.001, "adam": 0.001,
                    "adamw": 0.001}  # Keras 3's SGD, RMSprop, Adagrad, Adam, AdamW


@pytest.mark.parametrize("name", sorted(KERAS_DEFAULT_LR))
def test_a_string_optimizer_gets_keras_default_learning_rate(name):
    from fcnet.train.recipe import OPTIMIZERS

    assert set(OPTIMIZERS) == set(KERAS_DEFAULT_LR)  # every name of the options table
    model = _model()
    model.compile(name.upper() if name == "adam" else name, "sparse_categorical_crossentropy")
    opt = model._compiled.trainer.optimizer
    assert opt.lr == KERAS_DEFAULT_LR[name]
    expected = type(OPTIMIZERS[name](model.parameters(), _options(name)))
    assert type(opt) is expected and opt.params == model.parameters()


def _options(name):
    from fcnet.train.options import validate

    return validate({"optimizer": name})


def test_compile_defaults_to_keras_rmsprop():
    model = _model()
    model.compile(loss="mse")
    assert type(model._compiled.trainer.optimizer) is optim.RMSProp and model._compiled.trainer.optimizer.lr == 0.001


def test_evaluate_returns_keras_forms():
    x, y = _data()
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy")
    reference = Trainer(model, optim.Adam(model.parameters())).evaluate(x, y, 32)
    plain = model.evaluate(x, y, verbose=0)
    assert isinstance(plain, float) and plain == reference["loss"]
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": reference["loss"]}
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    assert model.evaluate(x, y, verbose=0) == [reference["loss"], reference["accuracy"]]
    assert model.evaluate(x, y, verbose=0, return_dict=True) == reference
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["acc"])
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {"loss": reference["loss"],
                                                                  "acc": reference["accuracy"]}
    h = model.fit(x, y, 32, 2, verbose=0, validation_split=0.25)
    trainer = model._compiled.trainer.history
    assert h.history["acc"] == trainer["accuracy"][-2:] and h.history["val_acc"] == trainer["val_accuracy"][-2:]


def test_evaluate_prints_one_line_unless_verbose_0(capsys):
    x, y = _data()
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    model.evaluate(x, y, verbose=0)
    assert capsys.readouterr().err == ""
    loss, acc = model.evaluate(x, y)
    assert capsys.readouterr().err == f"loss: {loss:.4f} - accuracy: {acc:.4f}\n"


def _torch_loss(name, scores, y):
    import torch

    s = torch.from_numpy(np.asarray(scores, np.float64))
    t = torch.from_numpy(np.asarray(y))
    if name == "sparse_categorical_crossentropy":
        return torch.nn.CrossEntropyLoss()(s, t).item()
    if name == "categorical_crossentropy":  # probability targets
        return torch.nn.CrossEntropyLoss()(s, t.double()).item()
    if name == "binary_crossentropy":
        return torch.nn.BCEWithLogitsLoss()(s, t.double().reshape(s.shape)).item()
    return torch.nn.MSELoss()(s, t.double().reshape(s.shape)).item()


@pytest.mark.parametrize("name", ["sparse_categorical_crossentropy", "categorical_crossentropy",
                                  "binary_crossentropy", "mse"])
def test_keras_loss_names_on_fcnet_logits_equal_torch(name):
    x, y = _data()
    x = x.astype(np.float64)
    model = _model(np.float64, out=1 if name in ("binary_crossentropy", "mse") else 3)
    if name == "categorical_crossentropy":
        y = np.eye(3)[y]
    elif name == "binary_crossentropy":
        y = (y > 0).astype(np.float64)
    elif name == "mse":
        y = x[:, 0] - 2 * x[:, 1]
    model.compile("sgd", name)
    scores = model.predict(x, verbose=0)
    got = model.evaluate(x, y, batch_size=len(x), verbose=0)
    assert got == pytest.approx(_torch_loss(name, scores, y), rel=1e-12)


def test_categorical_crossentropy_trains_as_the_sparse_one():
    x, y = _data()
    a, b = _model(), _model()
    a.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    b.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    ha = a.fit(x, np.eye(3)[y], 16, 2, 0, validation_data=(x, np.eye(3)[y]))
    hb = b.fit(x, y, 16, 2, 0, validation_data=(x, y))
    assert _same_weights(a, b)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert ha.history[key] == hb.history[key]
    with pytest.raises(ValueError, match="one-hot rows"):
        a.fit(x, np.full((len(y), 3), 1 / 3), verbose=0)


def test_a_regression_loop_with_targets_of_shape_n():
    x, _ = _data()
    y = (x[:, 0] - x[:, 1]).astype(np.float32)
    model = _model(out=1)
    model.compile(optimizer="adam", loss="mean_squared_error")
    h = model.fit(x, y, 16, 20, verbose=0)
    assert h["loss"][-1] < h["loss"][0] / 2
    assert model.evaluate(x, y, verbose=0) == pytest.approx(float(np.mean((model.predict(x)[:, 0] - y) ** 2)),
                                                            rel=1e-5)


def test_fit_and_evaluate_before_compile_say_call_compile_first():
    x, y = _data()
    model = _model()
    for call in (lambda: model.fit(x, y), lambda: model.evaluate(x, y)):
        with pytest.raises(RuntimeError, match=r"call model\.compile\(optimizer=\.\.\., loss=\.\.\.\) first"):
            call()
    assert model.predict(x[:3], verbose=0).shape == (3, 3)  # predict needs no compile, as in Keras


class Softmax(nn.Module):
    def forward(self, s):
        return fcnet.functional.softmax(s, axis=1)


@pytest.mark.parametrize(("args", "kw", "error", "match"), [
    (("adamax", "mse"), {}, ValueError, "unknown optimizer 'adamax': use one of sgd, momentum, rmsprop, adagrad, "
                                        "adam, adamw"),
    (("adam", "huber"), {}, ValueError, "unknown loss 'huber': use one of sparse_categorical_crossentropy, "
                                        "categorical_crossentropy, mean_squared_error, binary_crossentropy"),
    (("adam", "sparse_categorical_crossentropy"), {"metrics": ["auc"]}, ValueError,
     "unknown metric 'auc': use one of accuracy, acc"),
    (("adam", "categorical_hinge"), {}, ValueError, "different loss: pass loss=fcnet.nn.MulticlassHingeLoss()"),
    (("adam",), {}, ValueError, "compile needs a loss"),
    (("adam", "mse"), {"metrics": ["accuracy"]}, ValueError, "mean_squared_error does not give here"),
    ((3, "mse"), {}, TypeError, "optimizer must be a name"),
    (("adam", "mse"), {"loss_weights": [1.0]}, ValueError, "leave them None"),
])
def test_bad_compile_arguments_are_one_line_errors(args, kw, error, match):
    with pytest.raises(error, match=re.escape(match)) as info:
        _model().compile(*args, **kw)
    assert "\n" not in str(info.value)


def test_a_model_ending_in_softmax_or_sigmoid_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"ends in Softmax.*remove the last Softmax layer"):
        nn.Sequential(_model(), Softmax()).compile("adam", "sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"ends in Sigmoid.*remove the last Sigmoid layer"):
        nn.Sequential(_model(out=1), nn.Sigmoid()).compile("adam", "binary_crossentropy")
    with pytest.raises(ValueError, match=r"ends in Softmax.*remove the last Softmax layer"):
        nn.Sequential(_model(), Softmax()).compile("adam", nn.CrossEntropyLoss())
    nn.Sequential(_model(out=1), nn.Sigmoid()).compile("adam", "mse")  # a bounded regression output is fine


def test_recompiling_starts_a_new_optimizer_and_epoch_count_weights_stay():
    x, y = _data()
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, 16, 2, verbose=0)
    kept = model.state_dict()
    model.compile("sgd", "sparse_categorical_crossentropy")
    assert all(np.array_equal(v, model.state_dict()[k]) for k, v in kept.items())
    h = model.fit(x, y, 16, 1, verbose=0)
    assert isinstance(h, History) and h["epoch"] == [1] and model._compiled.trainer.optimizer.lr == 0.01


def test_load_refuses_another_kind_and_an_uncompiled_save_loads_uncompiled(tmp_path):
    x, y = _data()
    net = nn.FullyConnectedNet(6, [8], 3, rng=0)
    net.save(tmp_path / "fc")
    assert isinstance(nn.Module.load(tmp_path / "fc"), nn.FullyConnectedNet)
    _model().save(tmp_path / "seq")
    with pytest.raises(TypeError, match="holds a Sequential, not a FullyConnectedNet"):
        nn.FullyConnectedNet.load(tmp_path / "seq")
    with pytest.raises(RuntimeError, match="compile"):
        nn.FullyConnectedNet.load(tmp_path / "fc").evaluate(x, y)
    assert not (tmp_path / "fc" / "model.pkl").exists() and sorted(p.name for p in (tmp_path / "fc").iterdir()) == [
        "model.json", "model.safetensors"]


def test_nn_does_not_import_train():
    code = "import sys, fcnet.nn; print('fcnet.train' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT / "src")})
    assert out.stdout.strip() == "False"


def test_keras_class_names_are_aliases_and_y_is_required():
    x, _ = _data()
    model = _model(out=1)
    model.compile("RMSprop", "MeanSquaredError")
    assert type(model._compiled.trainer.loss_fn) is nn.MSELoss
    assert type(model._compiled.trainer.optimizer) is optim.RMSProp
    with pytest.raises(ValueError, match="y is None"):
        model.fit(x, verbose=0)


def test_sparse_labels_of_shape_n_1_are_taken_as_keras_takes_them():
    # keras.datasets (CIFAR-10) give labels of shape (N, 1); Keras's sparse cross-entropy takes them
    x, y = _data()
    a, b = _model(), _model()
    a.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    b.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    ha = a.fit(x, y[:, None], 16, 2, 0, validation_data=(x, y[:, None]))
    hb = b.fit(x, y, 16, 2, 0, validation_data=(x, y))
    assert _same_weights(a, b)
    for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert ha.history[key] == hb.history[key]
    assert a.evaluate(x, y[:, None], verbose=0) == b.evaluate(x, y, verbose=0)


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "binary_crossentropy", "mse"])
@pytest.mark.parametrize("as_list", [False, True])
def test_string_targets_or_features_are_one_line_errors_naming_the_fix(loss, as_list):
    x, y = _data()
    model = _model(out=3 if loss.startswith("sparse") else 1)
    model.compile("adam", loss)
    words = np.array(["no", "maybe", "yes"])[y]
    for call in (lambda: model.fit(x, list(words) if as_list else words, verbose=0),
                 lambda: model.evaluate(x, words, verbose=0),
                 lambda: model.fit(x, y, verbose=0, validation_data=(x, words))):
        with pytest.raises(ValueError, match=r"y holds strings.*np\.unique\(y, return_inverse=True\)") as info:
            call()
        assert "\n" not in str(info.value)
    text = np.where(x > 0, "a", "b")
    for call in (lambda: model.fit(text.tolist() if as_list else text, y, verbose=0),
                 lambda: model.evaluate(text, y, verbose=0), lambda: model.predict(text, verbose=0)):
        with pytest.raises(ValueError, match=r"x holds strings.*encode") as info:
            call()
        assert "\n" not in str(info.value)


def test_a_model_checkpoint_of_a_compiled_model_loads_compiled(tmp_path):
    from fcnet.train import ModelCheckpoint

    x, y = _data()
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x, y, 16, 6, 0, validation_split=0.25,
                  callbacks=[ModelCheckpoint(tmp_path / "best.keras", save_best_only=True)])
    best = nn.Module.load(tmp_path / "best.keras")  # Keras: load_model("best.keras").evaluate(...)
    loss, acc = best.evaluate(x[90:], y[90:], verbose=0)
    k = int(np.argmin(h.history["val_loss"]))
    assert loss == pytest.approx(h.history["val_loss"][k], rel=1e-6) and acc == h.history["val_accuracy"][k]
    uncompiled = _model()
    Trainer(uncompiled, optim.Adam(uncompiled.parameters())).fit(
        x, y, 16, 1, 0, callbacks=[ModelCheckpoint(tmp_path / "plain", monitor="loss")])
    with pytest.raises(RuntimeError, match="compile"):
        nn.Module.load(tmp_path / "plain").evaluate(x, y)  # a Trainer's run has no compile names to restore


def test_save_over_a_file_or_with_overwrite_false_is_a_one_line_error(tmp_path):
    x, y = _data()
    model = _model()
    (tmp_path / "old.keras").write_bytes(b"a zip Keras wrote")
    with pytest.raises(FileExistsError, match=r"is a file.*writes a directory.*another path") as info:
        model.save(tmp_path / "old.keras")
    assert "\n" not in str(info.value) and (tmp_path / "old.keras").read_bytes() == b"a zip Keras wrote"
    model.save(tmp_path / "m.keras", overwrite=True)  # Keras's keyword and default: an earlier save is replaced
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, 16, 1, 0)
    model.save(tmp_path / "m.keras")
    assert _same_weights(nn.Module.load(tmp_path / "m.keras"), model)
    with pytest.raises(FileExistsError, match=r"exists: pass overwrite=True") as info:
        model.save(tmp_path / "m.keras", overwrite=False)
    assert "\n" not in str(info.value)


def test_loading_a_missing_path_or_a_file_names_what_save_writes(tmp_path):
    from fcnet.errors import ModelFileError

    (tmp_path / "model.keras").write_bytes(b"PK\x03\x04 a zip Keras wrote")
    for path, problem in ((tmp_path / "nowhere.keras", "does not exist"), (tmp_path / "model.keras", "is a file")):
        with pytest.raises(ModelFileError, match=rf"{problem}.*model\.save") as info:
            nn.Module.load(path)
        assert "\n" not in str(info.value) and "fcnet train" not in str(info.value)


@pytest.mark.parametrize(("loss", "metrics", "keys"), [
    ("sparse_categorical_crossentropy", ["accuracy"], ["loss", "accuracy", "val_loss", "val_accuracy"]),
    ("sparse_categorical_crossentropy", ["acc"], ["loss", "acc", "val_loss", "val_acc"]),
    ("sparse_categorical_crossentropy", None, ["loss", "val_loss"]),
    ("mse", None, ["loss", "val_loss"]),
])
def test_history_holds_keras_keys_only(loss, metrics, keys):
    # Keras's History.history: the loss and the compiled metrics, so pd.DataFrame(history.history).plot() and
    # `for k in history.history` see no timings, no learning rate and no NaN accuracy of a regression
    x, y = _data()
    model = _model(out=1 if loss == "mse" else 3)
    model.compile("adam", loss, metrics=metrics)
    h = model.fit(x, y.astype(np.float32) if loss == "mse" else y, 16, 2, 0, validation_split=0.25)
    assert sorted(h.history) == sorted(keys) and h.epoch == [0, 1]
    assert h.history["loss"] == model._compiled.trainer.history["loss"]
    assert not any(np.isnan(v).any() for v in h.history.values())


@pytest.mark.parametrize("where", ["x", "validation"])
def test_nan_features_in_fit_are_named_not_blamed_on_the_learning_rate(where):
    x, y = _data()
    bad = x.copy()
    bad[7, 2] = np.nan
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy")
    before = model.state_dict()
    args = (bad, y) if where == "x" else (x, y)
    with pytest.raises(ValueError, match=r"NaN or infinite values \(row 7\).*drop or impute") as info:
        model.fit(*args, verbose=0, validation_data=(bad, y) if where == "validation" else None)
    assert "\n" not in str(info.value) and "learning rate" not in str(info.value)
    assert all(np.array_equal(v, model.state_dict()[k]) for k, v in before.items())  # refused before training


@pytest.mark.parametrize("loss", ["sparse_categorical_crossentropy", "mse"])
def test_evaluate_with_fewer_labels_than_rows_is_a_one_line_error(loss):
    from fcnet.errors import DataError

    x, y = _data()
    model = _model(out=1 if loss == "mse" else 3)
    model.compile("adam", loss)
    with pytest.raises(DataError, match=r"x has 120 rows but y has 119 labels") as info:
        model.evaluate(x, y[:-1].astype(np.float32) if loss == "mse" else y[:-1], verbose=0)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("loss", "metric"), [("sparse_categorical_crossentropy", "sparse_categorical_accuracy"),
                                              ("categorical_crossentropy", "categorical_accuracy")])
def test_keras_accuracy_metric_names_of_the_guides(loss, metric, tmp_path):
    # "Training & evaluation with the built-in methods" compiles metrics=[SparseCategoricalAccuracy()], i.e.
    # "sparse_categorical_accuracy"; Keras names the logs after the metric
    x, y = _data()
    t = np.eye(3)[y] if loss.startswith("categorical") else y
    model, reference = _model(), _model()
    model.compile("adam", loss, metrics=[metric])
    reference.compile("adam", loss, metrics=["accuracy"])
    h = model.fit(x, t, 16, 2, 0, validation_split=0.25)
    r = reference.fit(x, t, 16, 2, 0, validation_split=0.25)
    assert sorted(h.history) == sorted(["loss", metric, "val_loss", f"val_{metric}"])
    assert h.history[metric] == r.history["accuracy"] and h.history[f"val_{metric}"] == r.history["val_accuracy"]
    assert model.evaluate(x, t, verbose=0, return_dict=True) == {
        "loss": reference.evaluate(x, t, verbose=0)[0],
        metric: reference.evaluate(x, t, verbose=0)[1]}
    model.save(tmp_path / "m")
    assert list(nn.Module.load(tmp_path / "m").evaluate(x, t, verbose=0, return_dict=True)) == ["loss", metric]
    other = "categorical_accuracy" if metric.startswith("sparse") else "sparse_categorical_accuracy"
    with pytest.raises(ValueError, match=rf"{other}.*{loss}.*metrics=\['{metric}'\]"):
        _model().compile("adam", loss, metrics=[other])


@pytest.mark.parametrize("features", [6, 64])
def test_predict_of_one_unbatched_sample_names_the_reshape(features):
    # one row as a 1-D array: (2,) scores for 6 features, a batch-size shape error for 64, before this
    model = nn.Sequential(nn.Linear(features, 4, rng=0), nn.ReLU(), nn.Linear(4, 2, rng=1))
    sample = np.ones(features, np.float32)
    for x in (sample, sample.tolist()):
        with pytest.raises(ValueError, match=rf"x has shape \({features},\).*x\.reshape\(1, -1\)") as info:
            model.predict(x, verbose=0)
        assert "\n" not in str(info.value)
    assert model.predict(sample[None], verbose=0).shape == (1, 2)
    assert model.predict([sample.tolist()], verbose=0).shape == (1, 2)


@pytest.mark.parametrize("column", [False, True])
def test_class_weight_with_binary_crossentropy_weighs_rows_by_their_class(column):
    # Keras's "Classification on imbalanced data": one sigmoid output, binary_crossentropy, class_weight
    x, y = _data()
    t = (y > 1).astype(np.int64)
    t = t[:, None] if column else t
    a, b = _model(out=1), _model(out=1)
    a.compile("adam", "binary_crossentropy")
    b.compile("adam", "binary_crossentropy")
    w = np.random.default_rng(3).uniform(0.5, 2.0, len(y))
    ha = a.fit(x, t, 16, 2, 0, validation_split=0.25, class_weight={0: 1.0, 1: 3.0}, sample_weight=w)
    factor = np.where(t.ravel() == 1, 3.0, 1.0)
    factor[-30:] = 1.0  # class_weight weighs training rows only: the split's last 30 rows validate
    hb = b.fit(x, t, 16, 2, 0, validation_split=0.25, sample_weight=w * factor)
    assert _same_weights(a, b) and ha.history == hb.history
    c = _model(out=1)
    c.compile("adam", "binary_crossentropy")
    hc = c.fit(x, t, 16, 2, 0, validation_split=0.25, sample_weight=w)
    assert hc.history["val_loss"] != ha.history["val_loss"] or hc.history["loss"] != ha.history["loss"]


@pytest.mark.parametrize("column", [False, True])
@pytest.mark.parametrize("metric", ["accuracy", "binary_accuracy", "acc"])
def test_accuracy_with_binary_crossentropy_is_keras_binary_accuracy(column, metric):
    # the Keras guides' binary loop: Dense(1) + binary_crossentropy + metrics=["accuracy"]; the share of rows
    # with [σ(s) > 0.5] = [t > 0.5], i.e. [s > 0] (Keras's binary_accuracy, threshold 0.5)
    x, y = _data()
    t = (y > 1).astype(np.int64)
    t = t[:, None] if column else t
    model = _model(out=1)
    model.compile("sgd", "binary_crossentropy", metrics=[metric])
    before = model.predict(x[:90], verbose=0)[:, 0]
    h = model.fit(x, t, batch_size=90, epochs=1, verbose=0, validation_split=0.25, shuffle=False)
    after = model.predict(x, verbose=0)[:, 0]
    truth = t.ravel() == 1
    assert sorted(h.history) == sorted(["loss", metric, "val_loss", f"val_{metric}"])
    assert h.history[metric] == [np.mean((before > 0) == truth[:90])]  # one batch: the weights before its step
    assert h.history[f"val_{metric}"] == [np.mean((after[90:] > 0) == truth[90:])]
    acc = model.evaluate(x, t, verbose=0)[1]
    assert acc == np.mean((after > 0) == truth) and 0 < acc < 1
    w = np.random.default_rng(1).uniform(0, 2, len(y))
    assert model.evaluate(x, t, verbose=0, sample_weight=w)[1] == pytest.approx(
        np.sum(w * ((after > 0) == truth)) / np.sum(w), rel=1e-12)
    with pytest.raises(ValueError, match=r"sparse_categorical_accuracy.*binary_crossentropy.*binary_accuracy"):
        _model(out=1).compile("adam", "binary_crossentropy", metrics=["sparse_categorical_accuracy"])
    with pytest.raises(ValueError, match=r"binary_accuracy.*sparse_categorical_crossentropy"):
        _model().compile("adam", "sparse_categorical_crossentropy", metrics=["binary_accuracy"])


def test_accuracy_with_binary_crossentropy_on_several_outputs_is_refused():
    x, y = _data()
    model = _model(out=2)
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    with pytest.raises(ValueError, match="one 0/1 output, and y has 2 columns"):
        model.fit(x, np.eye(2)[(y > 1).astype(int)], verbose=0)


KERAS_OPTIMIZERS = {  # Keras 3's defaults, as torch spells them (torch's δ is Keras's up to δ's bias correction)
    "sgd": lambda torch, p: torch.optim.SGD(p, lr=0.01),
    "rmsprop": lambda torch, p: torch.optim.RMSprop(p, lr=0.001, alpha=0.9, eps=1e-7),
    "adam": lambda torch, p: torch.optim.Adam(p, lr=0.001, betas=(0.9, 0.999), eps=1e-7),
    "adamw": lambda torch, p: torch.optim.AdamW(p, lr=0.001, betas=(0.9, 0.999), eps=1e-7, weight_decay=0.004),
}


@pytest.mark.parametrize("name", sorted(KERAS_OPTIMIZERS))
def test_a_string_optimizer_trains_as_keras_default_one(name):
    # compile's default "rmsprop" with the lecture's ρ = 0.999 took first steps √1000 ≈ 32 times Keras's
    torch = pytest.importorskip("torch")
    x, y = _data()
    x = x.astype(np.float64)
    model = _model(np.float64)
    reference = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        for q, p in zip(reference.parameters(), model.parameters(), strict=True):
            q.copy_(torch.from_numpy(p.data.copy()))
    model.compile(name, "sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=20, epochs=3, verbose=0, shuffle=False)
    opt = KERAS_OPTIMIZERS[name](torch, reference.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    for _ in range(3):
        for i in range(0, len(y), 20):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(reference(xt[i:i + 20]), yt[i:i + 20]).backward()
            opt.step()
    for q, p in zip(reference.parameters(), model.parameters(), strict=True):
        np.testing.assert_allclose(p.data, q.detach().numpy(), rtol=1e-6, atol=1e-9)


def test_the_sequential_guide_builds_with_add_layers_and_pop():
    # "The Sequential model": model = Sequential(); model.add(...); model.layers; model.pop()
    x, y = _data()
    model = nn.Sequential()
    model.add(nn.Linear(6, 8, rng=0))
    model.add(nn.ReLU())
    model.add(nn.Linear(8, 3, rng=1))
    model.add(nn.ReLU())
    assert len(model.layers) == 4 and model.layers[0] is model[0] and isinstance(model.pop(), nn.ReLU)
    assert [type(m).__name__ for m in model.layers] == ["Linear", "ReLU", "Linear"]
    reference = _model()
    model.compile("adam", "sparse_categorical_crossentropy")
    reference.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, 16, 2, 0)
    reference.fit(x, y, 16, 2, 0)
    assert _same_weights(model, reference) and list(model.state_dict()) == list(reference.state_dict())
    with pytest.raises(TypeError, match=r"Sequential\.add takes a Module, got int"):
        model.add(3)
    with pytest.raises(IndexError, match="pop from an empty Sequential"):
        nn.Sequential().pop()


@pytest.mark.parametrize("form", ["float64", "uint8", "list", "DataFrame"])
def test_inputs_are_cast_to_the_model_dtype_as_keras_casts_them(form):
    # pandas frames are float64 and image pixels uint8: Keras casts inputs to the layers' float32, and a float32
    # model fed float64 computed in float64 (slower, other numbers, float64 predictions)
    x, y = _data()
    if form == "uint8":
        x = np.round(np.abs(x) * 40).astype(np.float32)
    given = {"float64": lambda a: a.astype(np.float64), "uint8": lambda a: a.astype(np.uint8),
             "list": lambda a: a.astype(np.float64).tolist(),
             "DataFrame": lambda a: pytest.importorskip("pandas").DataFrame(a.astype(np.float64))}[form]
    a, b = _model(), _model()
    a.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    b.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    ha = a.fit(given(x), y, 16, 2, 0, validation_data=(given(x), y))
    hb = b.fit(x, y, 16, 2, 0, validation_data=(x, y))
    assert _same_weights(a, b) and ha.history == hb.history
    assert a.evaluate(given(x), y, verbose=0) == b.evaluate(x, y, verbose=0)
    out = a.predict(given(x), verbose=0)
    assert out.dtype == np.float32 and np.array_equal(out, b.predict(x, verbose=0))
    c = _model(np.float64)
    assert c.predict(x, verbose=0).dtype == np.float64  # a float64 model computes in float64


@pytest.mark.parametrize(("loss", "column"), [("mse", False), ("mse", True), ("binary_crossentropy", True)])
def test_value_targets_are_cast_to_the_model_dtype(loss, column):
    # Keras casts y_true to the outputs' dtype; float64 targets (a pandas Series) made a float32 model's loss float64
    x, y = _data()
    t = (x[:, 0] - x[:, 1]) if loss == "mse" else (y > 1).astype(np.float32)
    t = t[:, None] if column else t
    a, b = _model(out=1), _model(out=1)
    a.compile("adam", loss)
    b.compile("adam", loss)
    ha = a.fit(x, t.astype(np.float64), 16, 2, 0, validation_split=0.25)
    hb = b.fit(x, t.astype(np.float32), 16, 2, 0, validation_split=0.25)
    assert _same_weights(a, b) and ha.history == hb.history
    assert a.evaluate(x, t.astype(np.float64), verbose=0) == b.evaluate(x, t.astype(np.float32), verbose=0)


@pytest.mark.parametrize("labels", ["from_one", "too_many"])
def test_labels_outside_the_outputs_are_refused_before_training_with_the_fix(labels):
    x, y = _data()
    t = y + 1 if labels == "from_one" else np.where(np.arange(len(y)) == 100, 3, y)  # class 3 only in a late batch
    model = _model()
    model.compile("adam", "sparse_categorical_crossentropy")
    before = model.state_dict()
    for call in (lambda: model.fit(x, t, 16, 1, 0), lambda: model.evaluate(x, t, verbose=0),
                 lambda: model.fit(x, y, 16, 1, 0, validation_data=(x, t))):
        with pytest.raises(ValueError, match=r"labels run from \d to 3, and the model has 3 outputs \(classes 0 to 2\)"
                                             r".*number the classes from 0.*last layer") as info:
            call()
        assert "\n" not in str(info.value)
    assert all(np.array_equal(v, model.state_dict()[k]) for k, v in before.items())


def test_one_hot_rows_wider_than_the_outputs_are_refused_before_training():
    x, y = _data()
    model = _model()
    model.compile("adam", "categorical_crossentropy")
    with pytest.raises(ValueError, match=r"one-hot rows have 4 columns, and the model has 3 outputs") as info:
        model.fit(x, np.eye(4)[np.where(np.arange(len(y)) == 100, 3, y)], 16, 1, 0)
    assert "\n" not in str(info.value)


def test_fit_after_adding_a_layer_to_a_compiled_model_asks_to_compile_again():
    x, y = _data()
    model = nn.Sequential(nn.Linear(6, 8, rng=0), nn.ReLU())
    model.compile("adam", "sparse_categorical_crossentropy")
    model.add(nn.Linear(8, 3, rng=1))  # its weights are not in the optimizer built at compile
    with pytest.raises(RuntimeError, match=r"changed since compile.*call model\.compile\(\.\.\.\) again") as info:
        model.fit(x, y, 16, 1, 0)
    assert "\n" not in str(info.value)
    model.compile("adam", "sparse_categorical_crossentropy")
    before = model[2].weight.data.copy()
    model.fit(x, y, 16, 1, 0)
    assert not np.array_equal(before, model[2].weight.data)
