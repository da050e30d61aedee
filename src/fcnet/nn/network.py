"""``FullyConnectedNet``: the N-layer fully-connected network of slides 5-11 and 22-34."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from fcnet import backend
from fcnet.nn.activations import ACTIVATIONS
from fcnet.nn.layers import BatchNorm1d, Dropout, Linear, Sequential
from fcnet.nn.module import Module, Summary

__all__ = ["FullyConnectedNet"]


class FullyConnectedNet(Sequential):
    """Linear → [BatchNorm] → activation → [Dropout], once per hidden layer, then Linear.

    With ``hidden=[]`` it is the linear classifier f = Wx + b (slide 4).  A net with
    ``hidden=[h1, h2]`` is a "3-layer network" (layers counted without the input, slide 22),
    i.e. one with 2 hidden layers.

    Args:
        in_features: D, the length of an input vector (3072 for CIFAR-10, slide 2).
        hidden: widths of the hidden layers.
        classes: C, the number of outputs.
        activation: "relu", "sigmoid", "tanh" or "leaky_relu".
        batchnorm: insert BatchNorm1d after each hidden Linear (before the activation).
        dropout: drop probability after each hidden activation (0 = none).
        init: "he", "xavier", "glorot", "normal" or "zeros" for every Linear.
        std: σ for ``init="normal"``.
        negative_slope: α for "leaky_relu".
        rng: a generator or seed for the initial weights.
    """

    def __init__(self, in_features: int, hidden: Sequence[int] = (), classes: int = 10,
                 activation: str = "relu", batchnorm: bool = False, dropout: float = 0.0,
                 init: str = "he", std: float | None = None, negative_slope: float = 0.01,
                 dtype: Any = np.float32, rng: backend.Generator | int | None = None,
                 device: str | None = None) -> None:
        if activation not in ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r}: choose one of {', '.join(ACTIVATIONS)}")
        hidden = [int(h) for h in hidden]
        if any(h <= 0 for h in hidden):
            raise ValueError(f"hidden sizes must be positive, got {hidden}")
        gen = backend.get_generator(rng)
        layers: list[Module] = []
        width = int(in_features)
        for h in hidden:
            layers.append(Linear(width, h, init=init, std=std, dtype=dtype, rng=gen, device=device))
            if batchnorm:
                layers.append(BatchNorm1d(h, dtype=dtype, device=device))
            act = ACTIVATIONS[activation]
            layers.append(act(negative_slope) if activation == "leaky_relu" else act())
            if dropout:
                layers.append(Dropout(dropout, rng=gen))  # the model's own generator draws its masks
            width = h
        layers.append(Linear(width, int(classes), init=init, std=std, dtype=dtype, rng=gen,
                             device=device))
        super().__init__(*layers)
        self.config = {
            "in_features": int(in_features), "hidden": hidden, "classes": int(classes),
            "activation": activation, "batchnorm": bool(batchnorm), "dropout": float(dropout),
            "init": init, "std": std, "negative_slope": float(negative_slope),
            "dtype": np.dtype(dtype).name,
        }

    @property
    def in_features(self) -> int:
        """Length of an input vector."""
        return self.config["in_features"]

    @property
    def classes(self) -> int:
        """Number of outputs."""
        return self.config["classes"]

    @classmethod
    def from_config(cls, config: dict[str, Any], **kwargs: Any) -> FullyConnectedNet:
        """Rebuild a net from ``net.config`` (as saved in model.json)."""
        return cls(**{**config, **kwargs})

    def summary(self, batch_size: int | None = None, *, input_size: int | None = None) -> str:
        """The net's layers with output shapes and parameter counts, named both lecture ways.

        E.g. "3-layer network, 2 hidden layers": N-layer counts the layers with weights
        (all but the input layer, slide 22).  ``input_size`` (``Module.summary``'s argument) may be
        given as for any module; it must equal ``in_features``.
        """
        if input_size is not None and input_size != self.in_features:
            raise ValueError(f"input_size {input_size} does not fit this net, which takes {self.in_features} "
                             f"features: give input_size={self.in_features} or leave it out")
        n_hidden = len(self.config["hidden"])
        n = n_hidden + 1
        kind = " (the linear classifier f = Wx + b)" if n_hidden == 0 else ""
        head = (f"{n}-layer network, {n_hidden} hidden layer{'s' if n_hidden != 1 else ''}{kind}: "
                f"{' → '.join(str(w) for w in [self.in_features, *self.config['hidden'], self.classes])}")
        b = "N" if batch_size is None else str(batch_size)
        rows = [("input", f"({b}, {self.in_features})", 0)]
        width = self.in_features
        for i, layer in enumerate(self):
            if isinstance(layer, Linear):
                width = layer.out_features
            count = sum(p.size for p in layer.parameters())
            rows.append((f"{i}: {type(layer).__name__}({layer.extra_repr()})", f"({b}, {width})", count))
        w0 = max(len(r[0]) for r in rows)
        w1 = max(len(r[1]) for r in [*rows, ("", "output shape", 0)])
        lines = [head, f"{'layer':<{w0}}  {'output shape':<{w1}}  params", "-" * (w0 + w1 + 10)]
        lines += [f"{name:<{w0}}  {shape:<{w1}}  {count:,}" for name, shape, count in rows]
        lines.append(f"total parameters: {self.num_parameters():,}")
        return Summary("\n".join(lines))
