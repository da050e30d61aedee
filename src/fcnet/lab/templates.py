"""Slides 12-17: the rows of W of a linear classifier are class templates."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import nn
from fcnet.lab.common import accuracy, image_data, train
from fcnet.lab.report import LabResult, Table
from fcnet.viz.plots import save_figure

SLIDES = "12-17"


def _draw(rows: np.ndarray, shape: tuple[int, int, int], titles: list[str], path: Path, title: str) -> Path:
    h, w, c = shape
    n = len(rows)
    cols = min(n, 10)
    fig, axes = plt.subplots((n + cols - 1) // cols, cols, figsize=(1.3 * cols, 1.5 * ((n + cols - 1) // cols)))
    for ax, row, t in zip(np.ravel(axes), rows, titles, strict=False):
        img = row.reshape(h, w) if c == 1 else row.reshape(c, h, w).transpose(1, 2, 0)
        img = (img - img.min()) / (np.ptp(img) + 1e-12)
        ax.imshow(img, cmap="gray" if c == 1 else None)
        ax.set_title(t, fontsize=8)
    for ax in np.ravel(axes):
        ax.axis("off")
    fig.suptitle(title)
    return save_figure(fig, path)


def run(out: Path, seed: int = 0, full: bool = False, data: str = "digits") -> LabResult:
    """Train f = Wx + b and a 2-layer net; draw rows of W and of W1 as images."""
    ds = image_data(data, None if full else (None if data == "digits" else 10000), seed)
    shape = ds.preprocess.image_shape or (1, ds.num_features, 1)
    # raw pixels scaled to [0, 1], not standardised, so that rows of W live in image space
    xtr = (ds.x_train / ds.preprocess.scale).astype(np.float32)
    xte = (ds.x_test / ds.preprocess.scale).astype(np.float32)
    fcnet.manual_seed(seed)
    linear = nn.FullyConnectedNet(ds.num_features, [], ds.num_classes, init="zeros")
    train(linear, xtr, ds.y_train, epochs=40 if full else 25, lr=3e-3, l2=1e-3, seed=seed)
    two = nn.FullyConnectedNet(ds.num_features, [20], ds.num_classes)
    train(two, xtr, ds.y_train, epochs=40 if full else 25, lr=3e-3, l2=1e-3, seed=seed)
    w = linear[0].weight.numpy()
    w1 = two[0].weight.numpy()
    f1 = _draw(w, shape, ds.classes, out / "templates_linear.png", f"rows of W: one template per class ({data})")
    f2 = _draw(w1, shape, [f"unit {i}" for i in range(len(w1))], out / "templates_w1.png",
               "rows of W1 of a 2-layer net: 20 templates shared by all classes")
    acc_lin = accuracy(linear, xte, ds.y_test)
    acc_two = accuracy(two, xte, ds.y_test)
    # a template looks like its class: W's row c correlates best with the mean image of class c
    means = np.stack([ds.x_train[ds.y_train == c].mean(axis=0) for c in range(ds.num_classes)])
    corr = np.corrcoef(np.vstack([w, means]))[: len(w), len(w):]
    matched = float((corr.argmax(axis=1) == np.arange(len(w))).mean())
    return LabResult("templates", SLIDES, "Linear classifier templates",
                     "Each row of W is a template matched against the image (slides 12-17); a hidden "
                     "layer learns more, shared templates (W1) and classifies better.",
                     [Table("test accuracy", ["model", "test accuracy"],
                            [["linear f = Wx + b", acc_lin], ["2-layer, 20 hidden units", acc_two]])],
                     [f1, f2], {"linear_accuracy": acc_lin, "two_layer_accuracy": acc_two,
                                "templates_matching_class_mean": matched})
