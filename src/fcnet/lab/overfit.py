"""Slides 142-162: a big net on little data overfits; L2, dropout and early stopping narrow the gap."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt

import fcnet
from fcnet import nn
from fcnet.lab.common import image_data, train
from fcnet.lab.report import LabResult, Table
from fcnet.train.callbacks import EarlyStopping
from fcnet.viz.plots import save_figure

SLIDES = "142-162"


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Train 64-512-512-10 on 150 digits with none / L2 / dropout / early stopping; compare gaps."""
    ds = image_data("digits", n_train=150, seed=seed)
    setups = {"none": {}, "L2 λ=0.01": {"l2": 0.01}, "dropout p=0.5": {"dropout": 0.5},
              "early stopping": {"early": True}}
    epochs = 150 if full else 80
    res, rows = {}, []
    fig, axes = plt.subplots(1, len(setups), figsize=(4 * len(setups), 3.4), sharey=True)
    for ax, (name, s) in zip(axes, setups.items(), strict=True):
        fcnet.manual_seed(seed)
        net = nn.FullyConnectedNet(ds.num_features, [512, 512], 10, dropout=s.get("dropout", 0.0))
        cbs = [EarlyStopping("val_loss", patience=5)] if s.get("early") else []
        hist = train(net, ds.xs_train, ds.y_train, epochs=epochs, lr=1e-3, l2=s.get("l2", 0.0), batch_size=32,
                     seed=seed, val=(ds.xs_test, ds.y_test), callbacks=cbs)
        tr = [h["accuracy"] for h in hist]
        va = [h["val_accuracy"] for h in hist]
        from fcnet.lab.common import accuracy

        final_train = accuracy(net, ds.xs_train, ds.y_train)
        final_val = accuracy(net, ds.xs_test, ds.y_test)
        res[name] = {"train": final_train, "val": final_val, "gap": final_train - final_val, "epochs": len(hist)}
        rows.append([name, final_train, final_val, final_train - final_val, len(hist)])
        ax.plot(tr, label="train")
        ax.plot(va, label="validation")
        ax.set_title(f"{name}: gap {final_train - final_val:.1%}", fontsize=9)
        ax.set_xlabel("epoch")
        ax.legend(fontsize=8)
    fig.suptitle("64-512-512-10 on 150 digits: train vs validation accuracy")
    f = save_figure(fig, out / "overfit.png")
    return LabResult("overfit", SLIDES, "Overfitting and regularisation",
                     "With far more parameters than samples the net fits the training set perfectly while "
                     "validation accuracy lags; L2 (λ Σ W²), dropout and early stopping narrow the gap.",
                     [Table("after training (accuracy on 150 training / 360 validation images)",
                            ["regularisation", "train", "validation", "gap", "epochs"], rows)], [f], res)
