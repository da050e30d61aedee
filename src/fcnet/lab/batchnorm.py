"""Slides 137-141: batch normalisation keeps every layer's activations in range; test time uses running stats."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import nn
from fcnet.lab.common import accuracy, image_data, train
from fcnet.lab.report import LabResult, Table
from fcnet.viz.plots import save_figure

SLIDES = "137-141"


def layer_outputs(net: nn.Sequential, x: np.ndarray) -> list[np.ndarray]:
    """Outputs of each activation module of ``net`` on ``x`` (training mode, no graph)."""
    outs = []
    with fcnet.no_grad():
        h = fcnet.tensor(x)
        for m in net:
            h = m(h)
            if isinstance(m, nn.Tanh | nn.ReLU | nn.Sigmoid):
                outs.append(h.numpy().ravel())
    return outs


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Activation distributions with and without batch norm (small init), then train/eval behaviour."""
    ds = image_data("digits", seed=seed)
    x = ds.xs_train[:500]
    stds = {}
    fig, axes = plt.subplots(2, 6, figsize=(15, 4.5))
    for r, bn in enumerate([False, True]):
        fcnet.manual_seed(seed)
        net = nn.FullyConnectedNet(ds.num_features, [256] * 6, 10, activation="tanh", init="normal", std=0.03,
                                   batchnorm=bn)
        outs = layer_outputs(net, x)
        stds["with batch norm" if bn else "without"] = [float(o.std()) for o in outs]
        for k, o in enumerate(outs):
            axes[r, k].hist(o, bins=50, range=(-1, 1))
            axes[r, k].set_yticks([])
            axes[r, k].set_title(f"{'BN' if bn else 'no BN'}, layer {k + 1}: std {o.std():.3f}", fontsize=8)
    fig.suptitle("tanh activations per layer, N(0, 0.03²) init: batch norm restores the spread")
    f = save_figure(fig, out / "batchnorm.png")
    # test time (slide 141): running statistics make a single sample's output well defined
    fcnet.manual_seed(seed)
    net = nn.FullyConnectedNet(ds.num_features, [128, 128], 10, batchnorm=True)
    train(net, ds.xs_train, ds.y_train, epochs=10, lr=1e-3, seed=seed)
    acc_eval = accuracy(net, ds.xs_test, ds.y_test)
    net.eval()
    with fcnet.no_grad():
        single = np.stack([net(fcnet.tensor(ds.xs_test[i:i + 1])).numpy()[0] for i in range(50)])
        batch = net(fcnet.tensor(ds.xs_test[:50])).numpy()
    consistent = float(np.abs(single - batch).max())
    # batch statistics at test time: the answer for a sample depends on its batch-mates
    net.train()
    with fcnet.no_grad():
        pairs = [net(fcnet.tensor(ds.xs_test[i:i + 2])).numpy().argmax(1) for i in range(0, 360, 2)]
    acc_pairs = float((np.concatenate(pairs) == ds.y_test[:360]).mean())
    return LabResult("batchnorm", SLIDES, "Batch normalisation",
                     "Normalising each layer's pre-activations over the mini-batch (then scaling by γ and "
                     "shifting by β) keeps the activations spread at every depth; at test time the running "
                     "mean and variance replace batch statistics, so one sample gets the same answer alone "
                     "as in any batch.",
                     [Table("std of the tanh activations per layer", ["net", *[f"layer {k}" for k in range(1, 7)]],
                            [[k, *v] for k, v in stds.items()]),
                      Table("test time", ["normalisation", "test accuracy"],
                            [["running statistics (eval mode)", acc_eval],
                             ["batch statistics of pairs of test samples", acc_pairs]]),
                      Table("one sample alone vs in a batch of 50 (eval mode)", ["max |difference|"], [[consistent]])],
                     [f], {"stds": stds, "eval_accuracy": acc_eval, "pair_batch_accuracy": acc_pairs,
                           "single_vs_batch": consistent})
