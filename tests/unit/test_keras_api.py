"""Trainer.fit as a Keras user expects it: a second fit continues, initial_epoch, validation_split,
verbose, per-call callbacks; ReduceLROnPlateau, ModelCheckpoint(save_best_only), LambdaCallback;
summary() on any Module; save_model of any model."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

import fcnet
from fcnet import nn, optim
from fcnet.train.callbacks import EarlyStopping, LambdaCallback, ModelCheckpoint, ReduceLROnPlateau
from fcnet.train.history import History
from fcnet.train.io import load_arrays, save_model
from fcnet.train.trainer import Trainer


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((96, 6)).astype(np.float32)
    return x, (x[:, 0] + x[:, 1] > 0).astype(np.int64)


def _trainer(**kw):
    net = nn.FullyConnectedNet(6, [8], 2, rng=0)
    return Trainer(net, optim.Adam(net.parameters(), lr=0.01), seed=0, progress=False, log=lambda m: None, **kw)


def test_a_second_fit_continues_like_keras():
    x, y = _data()
    a = _trainer()
    first = a.fit(x, y, epochs=3, batch_size=16)
    assert isinstance(first, History) and len(first) == 3
    a.fit(x, y, epochs=2, batch_size=16)  # 2 more epochs: 4 and 5
    b = _trainer()
    b.fit(x, y, epochs=5, batch_size=16)
    assert a.epoch == b.epoch == 5 and a.history["epoch"] == [1, 2, 3, 4, 5]
    assert a.history["loss"] == b.history["loss"]
    for p, q in zip(a.model.parameters(), b.model.parameters(), strict=True):
        assert np.array_equal(p.data, q.data)


def test_history_has_keras_history_dict_and_epoch_indices():
    x, y = _data()
    t = _trainer()
    h = t.fit(x, y, epochs=3, batch_size=16, validation_split=0.25)
    assert h.history["loss"] == h["loss"] and h.history["val_accuracy"] == h["val_accuracy"]
    assert "epoch" not in h.history and len(h.history["val_loss"]) == 3
    assert h.epoch == [0, 1, 2]
    t.fit(x, y, epochs=2, batch_size=16)  # the second fit continues: epochs 4 and 5, indices 3 and 4
    assert t.history.epoch == [0, 1, 2, 3, 4] and len(t.history.history["loss"]) == 5


def test_initial_epoch_resumes_until_epochs():
    x, y = _data()
    a = _trainer()
    a.fit(x, y, epochs=2, batch_size=16)
    arrays, state = a.state_dict()
    b = _trainer()
    b.load_state_dict(arrays, state)
    b.fit(x, y, epochs=5, batch_size=16, initial_epoch=b.epoch)  # epochs 3, 4, 5
    a.fit(x, y, epochs=3, batch_size=16)
    assert b.epoch == 5 and b.history["loss"] == a.history["loss"]
    with pytest.raises(ValueError, match="initial_epoch"):
        b.fit(x, y, epochs=2, initial_epoch=3)


def test_initial_epoch_below_the_epochs_done_retrains_them_and_checkpoints_load(tmp_path):
    from fcnet.train.callbacks import Checkpoint

    x, y = _data()
    t = _trainer()
    t.fit(x, y, epochs=3, batch_size=16)
    t.fit(x, y, epochs=2, batch_size=16, initial_epoch=0)  # Keras's default initial_epoch: epochs 1-2 again
    assert t.epoch == 2 and t.history["epoch"] == [1, 2]
    Checkpoint(tmp_path / "c").save(t, t.epoch)
    _, state = Checkpoint.load(tmp_path / "c")  # refused before: 2 epochs with 5 rows of history
    assert state["epoch"] == 2 and len(state["history"]) == 2


def test_early_stopping_reused_in_a_second_fit_trains_again():
    x, y = _data()
    never = EarlyStopping(monitor="loss", patience=1, min_delta=10.0)  # no epoch improves by 10
    t = _trainer()
    t.fit(x, y, epochs=5, batch_size=16, callbacks=[never])
    assert t.epoch == 2  # epoch 1 sets the best, epoch 2 stops
    t.fit(x, y, epochs=5, batch_size=16, callbacks=[never])  # Keras: the next fit trains until it stops again
    assert t.epoch == 3


def test_verbose_auto_is_keras_default(capsys):
    x, y = _data()
    net = nn.FullyConnectedNet(6, [8], 2, rng=0)
    Trainer(net, optim.SGD(net.parameters(), lr=0.1), seed=0).fit(x, y, epochs=1, batch_size=16, verbose="auto")
    assert capsys.readouterr().err.startswith("epoch 1/1: loss ")


def test_validation_split_holds_out_the_last_rows():
    x, y = _data()
    t = _trainer()
    h = t.fit(x, y, epochs=2, batch_size=16, validation_split=0.25)
    assert "val_loss" in h.columns
    # the last epoch's val_loss is the loss on the last quarter, never trained on
    assert h["val_loss"][-1] == pytest.approx(t.evaluate(x[72:], y[72:])["loss"], rel=1e-6)
    with pytest.raises(ValueError, match="validation_split"):
        t.fit(x, y, epochs=1, validation_split=1.0)
    with pytest.raises(ValueError, match="validation_split"):
        t.fit(x[:1], y[:1], epochs=1, validation_split=0.5)  # Keras: ⌊1 · 0.5⌋ = 0 rows would train


def test_validation_split_counts_rows_as_keras():
    # Keras trains on the first ⌊N (1 − split)⌋ rows: 95 rows at 0.25 → 71 train, 24 validate (not 23)
    x, y = _data()
    x, y = x[:95], y[:95]
    t = _trainer()
    t.fit(x, y, epochs=1, batch_size=95, validation_split=0.25)
    assert t.history["val_loss"][-1] == pytest.approx(t.evaluate(x[71:], y[71:])["loss"], rel=1e-6)
    assert t.history["val_loss"][-1] != pytest.approx(t.evaluate(x[72:], y[72:])["loss"], rel=1e-6)
    # 2 rows at 0.1: Keras keeps ⌊1.8⌋ = 1 row to train and validates on the other
    h = _trainer().fit(x[:2], y[:2], epochs=1, validation_split=0.1)
    assert len(h["val_loss"]) == 1


def test_shuffle_and_batch_size_none_as_keras():
    x, y = _data()
    ordered = _trainer()
    ordered.shuffle = False
    ordered.fit(x, y, epochs=2, batch_size=16)
    t = _trainer()
    t.fit(x, y, epochs=2, batch_size=16, shuffle=False)  # Keras's keyword, for this call
    assert t.history["loss"] == ordered.history["loss"] and t.shuffle is True
    shuffled = _trainer()
    shuffled.fit(x, y, epochs=2, batch_size=16)
    assert shuffled.history["loss"] != t.history["loss"]
    steps = []
    count = LambdaCallback(on_batch_end=lambda tr, s: steps.append(s))
    _trainer().fit(x, y, epochs=1, batch_size=None, callbacks=[count])
    assert len(steps) == 3  # Keras's default batch of 32: 96 rows in 3 steps
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        _trainer().fit(x, y, epochs=1, batch_size=0)


def test_verbose_levels(capsys):
    x, y = _data()
    net = nn.FullyConnectedNet(6, [8], 2, rng=0)
    t = Trainer(net, optim.SGD(net.parameters(), lr=0.1), seed=0)  # progress bars and lines by default
    t.fit(x, y, epochs=2, batch_size=16, verbose=0)
    assert capsys.readouterr() == ("", "")
    t.fit(x, y, epochs=2, batch_size=16, verbose=2)
    err = capsys.readouterr().err.splitlines()
    assert [line.split(":")[0] for line in err] == ["epoch 3/4", "epoch 4/4"]
    with pytest.raises(ValueError, match="verbose"):
        t.fit(x, y, epochs=1, verbose=3)


def test_reduce_lr_on_plateau_lowers_the_rate_after_patience():
    x, y = _data()
    flat = LambdaCallback(on_epoch_end=lambda tr, e, logs: logs.update(metric=1.0))  # never improves
    seen = []
    cb = ReduceLROnPlateau(monitor="metric", factor=0.5, patience=2, min_lr=0.002)
    rec = LambdaCallback(on_epoch_end=lambda tr, e, logs: seen.append(tr.optimizer.lr))
    t = _trainer(callbacks=[flat, cb, rec])
    t.fit(x, y, epochs=8, batch_size=32)
    # epoch 1 sets the best; epochs 2, 3 fail → halve; 4, 5 fail → halve; 6, 7 → would be 0.00125: min_lr
    assert seen == pytest.approx([0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025, 0.002, 0.002])
    improving = LambdaCallback(on_epoch_end=lambda tr, e, logs: logs.update(metric=-float(e)))
    t2 = _trainer(callbacks=[improving, ReduceLROnPlateau(monitor="metric", patience=1)])
    t2.fit(x, y, epochs=4, batch_size=32)
    assert t2.optimizer.lr == 0.01
    with pytest.raises(ValueError, match="not among the metrics"):
        _trainer(callbacks=[ReduceLROnPlateau()]).fit(x, y, epochs=1)


def test_model_checkpoint_save_best_only_keeps_the_best_epoch(tmp_path):
    x, y = _data()
    values = {1: 3.0, 2: 1.0, 3: 2.0, 4: 1.5}
    weights = {}
    inject = LambdaCallback(on_epoch_end=lambda tr, e, logs: logs.update(m=values[e]))
    keep = LambdaCallback(on_epoch_end=lambda tr, e, logs: weights.update({e: tr.model.state_dict()}))
    ckpt = ModelCheckpoint(tmp_path / "best", monitor="m", save_best_only=True)
    _trainer(callbacks=[inject, keep, ckpt]).fit(x, y, epochs=4, batch_size=32)
    assert ckpt.best_epoch == 2 and ckpt.best == 1.0
    saved = load_arrays(tmp_path / "best" / "model.safetensors")
    for k, v in weights[2].items():
        assert np.array_equal(saved[k], v)
    assert json.loads((tmp_path / "best" / "model.json").read_text())["epoch"] == 2
    every = ModelCheckpoint(tmp_path / "e{epoch:02d}")
    _trainer().fit(x, y, epochs=2, batch_size=32, callbacks=[every])
    assert (tmp_path / "e01" / "model.json").is_file() and (tmp_path / "e02" / "model.json").is_file()


def test_early_stopping_restore_best_weights_as_keras():
    x, y = _data()
    values = {1: 3.0, 2: 1.0, 3: 2.0, 4: 1.5}
    weights = {}
    inject = LambdaCallback(on_epoch_end=lambda tr, e, logs: logs.update(m=values[e]))
    keep = LambdaCallback(on_epoch_end=lambda tr, e, logs: weights.update({e: tr.model.state_dict()}))
    # patience not used up: Keras (3) still puts the best epoch's weights back when fit ends
    stop = EarlyStopping(monitor="m", patience=10, restore_best_weights=True)
    t = _trainer(callbacks=[inject, keep, stop])
    t.fit(x, y, epochs=4, batch_size=32)
    assert t.epoch == 4 and stop.best_epoch == 2
    for k, v in t.model.state_dict().items():
        assert np.array_equal(v, weights[2][k])
    # mode='max' on a metric without "acc" in its name: epoch 1 (3.0) is the best
    up = EarlyStopping(monitor="m", patience=1, mode="max", restore_best_weights=False)
    t = _trainer(callbacks=[inject, up])
    t.fit(x, y, epochs=4, batch_size=32)
    assert up.best_epoch == 1 and t.epoch == 2 and up.best_state is None
    with pytest.raises(ValueError, match="mode"):
        EarlyStopping(mode="up")


def test_lambda_callback_takes_keras_on_epoch_end():
    x, y = _data()
    seen = []
    t = _trainer()
    t.fit(x, y, epochs=2, batch_size=48,
          callbacks=[LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append((epoch, logs["loss"])))])
    assert seen == [(0, t.history["loss"][0]), (1, t.history["loss"][1])]  # Keras's epoch indices, from 0


def test_lambda_callback_hooks_and_per_call_callbacks():
    x, y = _data()
    calls = []
    cb = LambdaCallback(on_train_begin=lambda tr: calls.append("begin"),
                        on_batch_end=lambda tr, step: calls.append("batch"),
                        on_epoch_end=lambda tr, e, logs: calls.append(f"epoch {e}"),
                        on_train_end=lambda tr: calls.append("end"))
    t = _trainer()
    t.fit(x, y, epochs=2, batch_size=48, callbacks=[cb])
    assert calls == ["begin", "batch", "batch", "epoch 1", "batch", "batch", "epoch 2", "end"]
    t.fit(x, y, epochs=1, batch_size=48)  # for that call only
    assert len(calls) == 8 and cb not in t.callbacks


def test_summary_on_every_module_and_save_model_of_any_model(tmp_path):
    seq = nn.Sequential(nn.Linear(4, 8, rng=0), nn.Tanh(), nn.Linear(8, 3, rng=0))
    text = seq.summary(input_size=4)
    assert "0: Linear(in_features=4, out_features=8" in text and "(N, 8)" in text and "(N, 3)" in text
    assert text.endswith("total parameters: 67")
    assert nn.Linear(3, 2).summary().endswith("total parameters: 8")
    # the same call on every module, a FullyConnectedNet too
    for m in (seq, nn.Linear(4, 2), nn.ReLU(), nn.FullyConnectedNet(4, [8], 3, rng=0)):
        assert m.summary(input_size=4).endswith(f"total parameters: {m.num_parameters():,}")
    net = nn.FullyConnectedNet(4, [8], 3, rng=0)
    assert net.summary(input_size=4) == net.summary()
    header, rule = net.summary().splitlines()[1:3]
    assert len(header) <= len(rule)  # the column titles fit above the rule
    with pytest.raises(ValueError, match="input_size 5 does not fit"):
        net.summary(input_size=5)
    # at a prompt or as a notebook cell's last line, model.summary() shows the table, not a quoted string
    for m in (seq, net):
        assert repr(m.summary()) == str(m.summary()) and "\n" in repr(m.summary())
    save_model(tmp_path / "m", seq)  # no preprocessing statistics, no classes
    arrays = load_arrays(tmp_path / "m" / "model.safetensors")
    assert set(arrays) == set(seq.state_dict())
    meta = json.loads((tmp_path / "m" / "model.json").read_text())
    assert meta["architecture"] == "Sequential" and meta["classes"] is None


@pytest.mark.parametrize("make", [lambda: ReduceLROnPlateau(monitor="m", patience=1),
                                  lambda: ModelCheckpoint("{tmp}/best", monitor="m", save_best_only=True)])
def test_callbacks_resume_from_a_checkpoint_saved_before_any_best(tmp_path, make):
    from fcnet.train.callbacks import Checkpoint

    # a metric that is NaN so far leaves best at ±inf, which strict JSON writes as null
    x, y = _data()
    nan = LambdaCallback(on_epoch_end=lambda tr, e, logs: logs.update(m=float("nan")))

    def trainer():
        cb = make()
        if isinstance(cb, ModelCheckpoint):
            cb.filepath = cb.filepath.format(tmp=tmp_path)
        return _trainer(callbacks=[nan, cb])

    t = trainer()
    t.fit(x, y, epochs=2, batch_size=32)
    Checkpoint(tmp_path / "c").save(t, 2)
    resumed = trainer()
    resumed.load_state_dict(*Checkpoint.load(tmp_path / "c"))
    resumed.fit(x, y, epochs=1, batch_size=32)  # TypeError on None before
    assert resumed.epoch == 3 and resumed.callbacks[1].best in (math.inf, -math.inf)


# --- Keras 3's fit arguments: order, defaults, sample and class weights ----------------------------------------

def _torch_net(net):
    """The same two-layer net in PyTorch, float64, with net's weights."""
    import torch

    a, b = (m for m in net.modules() if isinstance(m, nn.Linear))
    tnet = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3)).double()
    with torch.no_grad():
        for tl, fl in ((tnet[0], a), (tnet[2], b)):
            tl.weight.copy_(torch.from_numpy(np.asarray(fl.weight.data, np.float64)))
            tl.bias.copy_(torch.from_numpy(np.asarray(fl.bias.data, np.float64)))
    return tnet


def _net3():
    return nn.Sequential(nn.Linear(6, 8, dtype=np.float64, rng=0), nn.ReLU(), nn.Linear(8, 3, dtype=np.float64, rng=1))


def _data3(n=96):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((n, 6))
    return x, (np.digitize(x[:, 0] + x[:, 1], [-0.5, 0.5])).astype(np.int64)


def test_fit_takes_keras_positional_order_batch_size_then_epochs():
    x, y = _data()
    seen = []
    cb = LambdaCallback(on_epoch_end=lambda tr, e, logs: seen.append(e))
    t = _trainer()
    h = t.fit(x, y, 16, 3, 0, [cb])  # Keras: fit(x, y, batch_size, epochs, verbose, callbacks)
    assert len(h) == 3 and seen == [1, 2, 3]
    assert t.step_count == 3 * 96 // 16  # the old order (x, y, epochs, batch_size) would train 16 epochs of 3
    kw = _trainer()
    kw.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert all(np.array_equal(p.data, q.data) for p, q in zip(t.model.parameters(), kw.model.parameters(), strict=True))


def test_fit_defaults_are_keras_one_epoch_of_batches_of_32():
    x, y = _data()
    t = _trainer()
    h = t.fit(x, y)
    assert len(h) == 1 and t.epoch == 1
    assert t.step_count == 96 // 32  # 3 steps: batches of 32 (the old default, 128, was one step)


def test_keras_users_full_call_runs_unchanged():
    x, y = _data()
    w = np.linspace(0.5, 1.5, len(y))
    seen = []
    t = _trainer()
    h = t.fit(x, y, batch_size=32, epochs=3, verbose=0,
              callbacks=[LambdaCallback(on_epoch_end=lambda tr, e, logs: seen.append(e))],
              validation_split=0.25, validation_data=None, shuffle=True, class_weight={0: 1.0, 1: 3.0},
              sample_weight=w, initial_epoch=0)
    assert len(h) == 3 and seen == [1, 2, 3] and all(math.isfinite(v) for v in h["val_loss"])
    # the last quarter validated with its own sample weights (never the class weights, as Keras)
    assert h["val_loss"][-1] == pytest.approx(t.evaluate(x[72:], y[72:], sample_weight=w[72:])["loss"], rel=1e-12)
    assert h["val_loss"][-1] != pytest.approx(t.evaluate(x[72:], y[72:])["loss"], rel=1e-6)


@pytest.mark.parametrize("kind", ["ce", "mse", "bce"])
def test_weighted_loss_is_torch_sum_over_batch_size(kind):
    import torch

    from fcnet.gradcheck import gradcheck

    rng = np.random.default_rng(2)
    s = rng.standard_normal((7, 3))
    w = rng.uniform(0, 3, 7)
    if kind == "ce":
        t, loss, ref = rng.integers(0, 3, 7), nn.CrossEntropyLoss(), torch.nn.CrossEntropyLoss(reduction="none")
    elif kind == "mse":
        t, loss, ref = rng.standard_normal((7, 3)), nn.MSELoss(), torch.nn.MSELoss(reduction="none")
    else:
        t, loss, ref = rng.uniform(0, 1, (7, 3)), nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(reduction="none")
    st = torch.tensor(s, requires_grad=True)
    per = ref(st, torch.tensor(t))
    expected = ((per if per.ndim == 1 else per.mean(dim=1)) * torch.tensor(w)).mean()  # divided by B, not Σ w
    expected.backward()
    sv = fcnet.tensor(s, requires_grad=True)
    got = nn.weighted_loss(loss, sv, t, w)
    got.backward()
    assert float(got.data) == pytest.approx(expected.item(), rel=1e-12)
    assert float(got.data) != pytest.approx(expected.item() * len(w) / w.sum(), rel=1e-3)  # not Σ w_i L_i / Σ w_i
    np.testing.assert_allclose(sv.grad, st.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert loss.reduction == "mean"  # the module's own reduction is put back
    assert gradcheck(lambda z: nn.weighted_loss(loss, z, t, w), [s])


@pytest.mark.parametrize("weights", ["sample", "class", "both"])
def test_weighted_training_equals_torch(weights):
    import torch

    x, y = _data3()
    sw = np.random.default_rng(3).uniform(0, 2, len(y))
    cw = {0: 0.5, 2: 4.0}  # class 1 left out: weight 1, as Keras
    kw = {"sample": {"sample_weight": sw}, "class": {"class_weight": cw},
          "both": {"sample_weight": sw, "class_weight": cw}}[weights]
    net = _net3()
    tnet = _torch_net(net)
    t = Trainer(net, optim.SGD(net.parameters(), lr=0.1), progress=False, log=lambda m: None)
    h = t.fit(x, y, 16, 2, shuffle=False, **kw)
    # torch: per batch (1/B) Σ w_i L_i, w_i = sample weight × class weight of y_i; CrossEntropyLoss(weight=)
    # with reduction='none' gives cw[y_i] L_i (its 'mean' would divide by Σ cw[y_i] instead)
    opt = torch.optim.SGD(tnet.parameters(), lr=0.1)
    cls = torch.tensor([cw.get(c, 1.0) for c in range(3)], dtype=torch.float64)
    use_cw, use_sw = weights in ("class", "both"), weights in ("sample", "both")
    ce = torch.nn.CrossEntropyLoss(weight=cls if use_cw else None, reduction="none")
    losses = []
    for _ in range(2):
        total = 0.0
        for s in range(0, len(y), 16):
            xb, yb = torch.tensor(x[s:s + 16]), torch.tensor(y[s:s + 16])
            per = ce(tnet(xb), yb) * (torch.tensor(sw[s:s + 16]) if use_sw else 1.0)
            loss = per.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
        losses.append(total / len(y))
    got = [np.asarray(p.data) for p in net.parameters()]
    want = [p.detach().numpy() for p in tnet.parameters()]
    for g, e in zip(got, want, strict=True):
        np.testing.assert_allclose(g, e, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(h["loss"], losses, rtol=1e-10)
    unweighted = _net3()
    Trainer(unweighted, optim.SGD(unweighted.parameters(), lr=0.1), progress=False).fit(x, y, 16, 2, shuffle=False)
    assert not np.allclose(unweighted.parameters()[0].data, got[0], atol=1e-6)  # the weights changed the training


def test_class_and_sample_weights_multiply():
    x, y = _data3()
    sw = np.random.default_rng(4).uniform(0, 2, len(y))
    cw = {0: 0.25, 1: 2.0, 2: 3.0}
    runs = []
    for kw in ({"sample_weight": sw, "class_weight": cw}, {"sample_weight": sw * np.array([0.25, 2.0, 3.0])[y]}):
        net = _net3()
        Trainer(net, optim.SGD(net.parameters(), lr=0.1), seed=5, progress=False).fit(x, y, 16, 2, **kw)
        runs.append(net.parameters())
    for p, q in zip(*runs, strict=True):
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12, atol=1e-15)


def test_class_weight_takes_whole_float_labels_as_keras():
    """Labels read as floats (0.0, 1.0, 2.0) train without weights; Keras rounds them to class indices for
    class_weight too, so the run equals the one with integer labels."""
    x, y = _data3()
    cw = {0: 0.25, 1: 2.0, 2: 3.0}
    runs = []
    for labels in (y, y.astype(np.float64)):
        net = _net3()
        Trainer(net, optim.SGD(net.parameters(), lr=0.1), seed=5, progress=False).fit(x, labels, 16, 2,
                                                                                       class_weight=cw)
        runs.append(net.parameters())
    for p, q in zip(*runs, strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    net = _net3()
    with pytest.raises(ValueError, match=r"class_weight needs class-index labels: y has 0.5"):
        Trainer(net, optim.SGD(net.parameters(), lr=0.1), progress=False).fit(
            x, np.where(y == 1, 0.5, y), class_weight=cw)


@pytest.mark.parametrize("target", ["binary", "one-hot"])
def test_class_weight_takes_keras_binary_and_one_hot_targets(target):
    """Keras's class_weight reads a class per row from (N, 1) targets (rounded: a sigmoid unit's 0/1 labels)
    and from one-hot (N, C) targets (argmax): the same run as sample_weight = class_weight[class]."""
    x, _ = _data()
    if target == "binary":
        cls = (x[:, 0] > 0.3).astype(np.int64)
        y, outputs, loss = cls[:, None].astype(np.float32), 1, nn.BCEWithLogitsLoss
    else:
        cls = (x[:, 0] > 0.3).astype(np.int64) + (x[:, 1] > 0).astype(np.int64)
        y, outputs, loss = np.eye(3, dtype=np.float32)[cls], 3, nn.MSELoss
    cw = {0: 0.5, 1: 3.0}
    runs = []
    for kw in ({"class_weight": cw}, {"sample_weight": np.array([0.5, 3.0, 1.0])[cls]}):
        net = nn.FullyConnectedNet(6, [8], outputs, rng=0)
        h = Trainer(net, optim.SGD(net.parameters(), lr=0.1), loss(), seed=5, progress=False).fit(x, y, 16, 2, **kw)
        runs.append((net.parameters(), h["loss"]))
    for p, q in zip(runs[0][0], runs[1][0], strict=True):
        np.testing.assert_array_equal(p.data, q.data)
    assert runs[0][1] == runs[1][1]


def test_unit_weights_train_as_no_weights_and_accuracy_is_weighted():
    x, y = _data3()
    a, b = _net3(), _net3()
    ha = Trainer(a, optim.SGD(a.parameters(), lr=0.1), seed=5, progress=False).fit(x, y, 16, 2)
    hb = Trainer(b, optim.SGD(b.parameters(), lr=0.1), seed=5, progress=False).fit(x, y, 16, 2,
                                                                                  sample_weight=np.ones(len(y)))
    for p, q in zip(a.parameters(), b.parameters(), strict=True):  # the same batches in the same order
        np.testing.assert_allclose(p.data, q.data, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(ha["accuracy"], hb["accuracy"])
    t = Trainer(a, optim.SGD(a.parameters(), lr=0.1), progress=False)
    pred = t.predict(x)
    w = np.where(pred == y, 3.0, 1.0)
    got = t.evaluate(x, y, sample_weight=w)["accuracy"]
    assert got == pytest.approx((w * (pred == y)).sum() / w.sum()) and got > t.evaluate(x, y)["accuracy"]


def test_validation_data_takes_a_sample_weight_and_validation_freq():
    x, y = _data3()
    w = np.random.default_rng(6).uniform(0, 2, 32)
    net = _net3()
    t = Trainer(net, optim.SGD(net.parameters(), lr=0.1), progress=False)
    h = t.fit(x[:64], y[:64], 16, 4, validation_data=(x[64:], y[64:], w), validation_freq=2)
    assert [("val_loss" in r) for r in h.rows] == [False, True, False, True]  # Keras: epochs 2 and 4
    # Keras's History.history lists a metric's values of the epochs that logged it: min() works on it
    assert h.history["val_loss"] == [h.rows[1]["val_loss"], h.rows[3]["val_loss"]]
    assert len(h.history["loss"]) == 4 and min(h.history["val_accuracy"]) >= 0.0
    tnet = _torch_net(net)
    import torch

    with torch.no_grad():
        per = torch.nn.functional.cross_entropy(tnet(torch.tensor(x[64:])), torch.tensor(y[64:]), reduction="none")
    assert h.rows[-1]["val_loss"] == pytest.approx((per.numpy() * w).mean(), rel=1e-10)
    with pytest.raises(ValueError, match=r"validation_freq=2 .* monitors 'val_loss'"):
        t.fit(x[:64], y[:64], validation_data=(x[64:], y[64:]), validation_freq=2,
              callbacks=[EarlyStopping(monitor="val_loss")])


@pytest.mark.parametrize(("kw", "match"), [
    ({"sample_weight": np.ones(95)}, r"sample_weight must have shape \(96,\)"),
    ({"sample_weight": np.ones((96, 2))}, r"sample_weight must have shape \(96,\)"),
    ({"sample_weight": -np.ones(96)}, "finite and >= 0"),
    ({"sample_weight": np.full(96, np.nan)}, "finite and >= 0"),
    ({"class_weight": {2: 1.0}}, r"key 2 is not a class index: .* \[0, 1\]"),
    ({"class_weight": {"cat": 1.0}}, "key 'cat' is not a class index"),
    ({"class_weight": {0: -1.0}}, r"class_weight\[0\] must be a finite number >= 0"),
    ({"class_weight": [1.0, 2.0]}, "class_weight must be a dict"),
    ({"validation_data": (np.ones((4, 6)),) * 4}, "validation_data must be a tuple"),
    ({"validation_data": (np.ones((4, 6)), np.zeros(4, np.int64), np.ones(3))},
     r"validation sample_weight must have shape \(4,\)"),
    ({"steps_per_epoch": 5}, "leave them None"),
    ({"validation_freq": 0}, "validation_freq must be a positive integer"),
    ({"validation_batch_size": 0}, "validation_batch_size must be a positive integer"),
    ({"epochs": 2.5}, r"Keras's order is fit\(x, y, batch_size, epochs\)"),
    ({"validation_split": "0.25"}, r"validation_split must be a number in \[0, 1\)"),
    ({"initial_epoch": "1"}, r"initial_epoch must be a whole number in \[0, epochs=1\]"),
])
def test_bad_fit_arguments_are_one_line_errors(kw, match):
    x, y = _data()
    t = _trainer()
    with pytest.raises(ValueError, match=match) as err:
        t.fit(x, y, **kw)
    assert "\n" not in str(err.value) and t.epoch == 0 and t.step_count == 0


def test_weights_need_class_labels_and_a_loss_with_per_row_terms():
    x, y = _data()
    net = nn.FullyConnectedNet(6, [8], 2, rng=0)
    reg = Trainer(net, optim.SGD(net.parameters(), lr=0.1), loss=nn.MSELoss(), progress=False)
    with pytest.raises(ValueError, match="class_weight needs class-index labels"):
        reg.fit(x, x[:, 0], class_weight={0: 2.0})  # real-valued targets have no class
    reg.fit(x, np.eye(2)[y], sample_weight=np.ones(96))  # regression targets take sample weights

    class Plain(nn.Module):
        def forward(self, s, t):
            return nn.functional.cross_entropy(s, t)

    with pytest.raises(ValueError, match="reduction='none' mode, and Plain has none"):
        Trainer(net, optim.SGD(net.parameters(), lr=0.1), loss=Plain(), progress=False).fit(
            x, y, sample_weight=np.ones(96))
