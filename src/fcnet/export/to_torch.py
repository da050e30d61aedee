"""The prediction path as a PyTorch ``nn.Sequential``: ``model.safetensors`` plus a short ``model.py``.

The safetensors keys are the ``nn.Sequential`` state-dict names (``1.weight``, ``2.running_var``, ...);
``model.py`` builds the Sequential (the standardisation as a module with buffers) and loads the
weights with ``safetensors.torch`` — no pickle anywhere.  Writing needs no PyTorch.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from fcnet.export.path import Step
from fcnet.train.io import atomic_write, save_arrays

__all__ = ["export_torch", "torch_source"]

_HEADER = '''"""{description}

Load without pickle:  from model import load;  net = load();  probs = net(torch.from_numpy(x))
(x: float32 raw features, one row per sample, as given to `fcnet predict`).
"""

import hashlib
from pathlib import Path

import torch
from safetensors.torch import load_file

CLASSES = {classes!r}
WEIGHTS_SHA256 = {sha256!r}  # of the model.safetensors written with this file


class Standardize(torch.nn.Module):
    """x ← (x · (1 / scale) − mean) / std, with the training set's mean and std."""

    def __init__(self, features: int, scale: float) -> None:
        super().__init__()
        self.inv_scale = 1.0 / scale
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("std", torch.ones(features))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x * self.inv_scale - self.mean) / self.std


def build() -> torch.nn.Sequential:
    """The network, in evaluation form (dropout is the identity at test time and left out)."""
    return torch.nn.Sequential(
{layers}
    )


def load(path: str | Path | None = None) -> torch.nn.Sequential:
    """The network with its trained weights (default: the model.safetensors beside this file), in evaluation mode."""
    if path is None:
        path = Path(__file__).with_name("model.safetensors")
        if hashlib.sha256(path.read_bytes()).hexdigest() != WEIGHTS_SHA256:
            raise RuntimeError(f"{{path}} is not the file exported with {{__file__}} (an export was cut off "
                               "between its two files, or one was replaced): export the model again")
    net = build()
    net.load_state_dict(load_file(str(path)))
    return net.eval()
'''


def _layer(step: Step) -> str:
    a = step.attrs
    if step.kind == "standardize":
        return f"Standardize({len(step.arrays['mean'])}, {a['scale']!r})"
    if step.kind == "linear":
        return f"torch.nn.Linear({a['in']}, {a['out']})"
    if step.kind == "batchnorm":
        return f"torch.nn.BatchNorm1d({a['num_features']}, eps={a['eps']!r}, momentum={a['momentum']!r})"
    if step.kind == "leaky_relu":
        return f"torch.nn.LeakyReLU({a['negative_slope']!r})"
    simple = {"relu": "torch.nn.ReLU()", "sigmoid": "torch.nn.Sigmoid()", "tanh": "torch.nn.Tanh()",
              "softmax": "torch.nn.Softmax(dim=1)"}
    return simple[step.kind]


def torch_source(steps: list[Step], classes: list[str] | None = None,
                 description: str = "An fcnet model as a PyTorch nn.Sequential.", sha256: str = "") -> str:
    """The text of ``model.py`` for ``steps``; ``sha256``: of the model.safetensors it loads by default."""
    layers = "\n".join(f"        {_layer(s)},  # {i}" for i, s in enumerate(steps))
    return _HEADER.format(description=description, classes=list(classes or []), layers=layers, sha256=sha256)


def torch_state(steps: list[Step]) -> dict[str, np.ndarray]:
    """The arrays under ``nn.Sequential`` state-dict names."""
    out: dict[str, np.ndarray] = {}
    for i, s in enumerate(steps):
        for key, arr in s.arrays.items():
            out[f"{i}.{key}"] = arr
        if s.kind == "batchnorm":
            out[f"{i}.num_batches_tracked"] = np.zeros((), np.int64)  # a buffer of torch's BatchNorm1d
    return out


def export_torch(steps: list[Step], directory: str | Path, classes: list[str] | None = None,
                 description: str = "An fcnet model as a PyTorch nn.Sequential.") -> Path:
    """Write ``model.safetensors`` and ``model.py`` into ``directory`` (each file atomically).

    Two files cannot be replaced in one step; ``model.py`` carries the sha256 of the weights written with it, so
    an export cut off between the two (new weights beside an old ``model.py``) fails to load with a one-line
    message instead of loading the wrong pair.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    weights = directory / "model.safetensors"
    save_arrays(weights, torch_state(steps))
    sha = hashlib.sha256(weights.read_bytes()).hexdigest()
    atomic_write(directory / "model.py", torch_source(steps, classes, description, sha).encode())
    return directory
