"""Slides 82-88: vanishing gradients in deep sigmoid/tanh nets, exploding gradients and clipping."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

import fcnet
from fcnet import nn
from fcnet.errors import DivergenceError
from fcnet.lab.common import image_data, train
from fcnet.lab.report import LabResult, Table
from fcnet.train.monitor import grad_norms
from fcnet.viz.plots import save_figure

SLIDES = "82-88"
DEPTH, WIDTH = 8, 64


def norms_at_init(activation: str, x: np.ndarray, y: np.ndarray, seed: int, init: str = "xavier") -> list[float]:
    """‖∂L/∂W_l‖ for each layer l of a deep net at initialisation, on one batch."""
    fcnet.manual_seed(seed)
    net = nn.FullyConnectedNet(x.shape[1], [WIDTH] * DEPTH, 10, activation=activation, init=init)
    nn.CrossEntropyLoss()(net(fcnet.tensor(x)), y).backward()
    return list(grad_norms(net).values())


def run(out: Path, seed: int = 0, full: bool = False) -> LabResult:
    """Per-layer gradient norms for sigmoid / tanh / ReLU nets, and an exploding net with and without clipping."""
    ds = image_data("digits", seed=seed)
    xb, yb = ds.xs_train[:256], ds.y_train[:256]
    cases = {"sigmoid": norms_at_init("sigmoid", xb, yb, seed), "tanh": norms_at_init("tanh", xb, yb, seed),
             "relu (He)": norms_at_init("relu", xb, yb, seed, init="he")}
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.8))
    for name, ns in cases.items():
        a1.semilogy(range(1, len(ns) + 1), ns, "o-", label=name)
    a1.set_xlabel("layer (1 = nearest the input)")
    a1.set_ylabel("‖∂L/∂W‖ at initialisation")
    a1.set_title(f"{DEPTH + 1}-layer nets: gradient norm per layer")
    a1.legend()
    a1.grid(alpha=0.3, which="both")
    # exploding: too large an init (N(0, 1) instead of He's N(0, 2/64)) and plain SGD
    curves = {}
    for label, clip in [("no clipping", None), ("clip_grad_norm 1.0", 1.0)]:
        fcnet.manual_seed(seed)
        net = nn.FullyConnectedNet(ds.num_features, [WIDTH] * 4, 10, init="normal", std=1.0)
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # the overflow is the point here
                rows = train(net, ds.xs_train, ds.y_train, epochs=8, lr=0.05, opt="sgd", clip_norm=clip, seed=seed)
            curves[label] = [r["loss"] for r in rows]
        except DivergenceError:
            curves[label] = [math.nan]
    for label, ls in curves.items():
        a2.semilogy(range(1, len(ls) + 1), ls, "o-", label=label + (" (diverged: NaN)" if math.isnan(ls[-1]) else ""))
    a2.set_xlabel("epoch")
    a2.set_ylabel("training loss")
    a2.set_title("N(0, 1) init, SGD 0.05: exploding gradients")
    a2.legend()
    f = save_figure(fig, out / "gradients.png")
    rows = [[name, ns[0], ns[-1], ns[0] / ns[-1]] for name, ns in cases.items()]
    return LabResult("gradients", SLIDES, "Vanishing and exploding gradients",
                     "Backprop multiplies by σ' ≤ 1/4 per sigmoid layer, so the first layers of a deep sigmoid "
                     "net get orders of magnitude less gradient than the last; ReLU with He init does not "
                     "vanish. Too large an init explodes; clipping the gradient norm keeps training finite.",
                     [Table("gradient norm at initialisation", ["activation", "layer 1", f"layer {DEPTH + 1}",
                                                                 "ratio first/last"], rows),
                      Table("exploding case: training loss per epoch", ["run", "first", "last"],
                            [[k, v[0], v[-1]] for k, v in curves.items()])],
                     [f], {"ratios": {k: v[0] / v[-1] for k, v in cases.items()},
                           "unclipped_final_loss": curves["no clipping"][-1],
                           "clipped_final_loss": curves["clip_grad_norm 1.0"][-1],
                           "clipped_first_loss": curves["clip_grad_norm 1.0"][0]})
