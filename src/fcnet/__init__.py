"""fcnet: fully-connected neural networks, built from the computation graph up."""

from fcnet import backend, graph, nn, optim
from fcnet.backend import manual_seed
from fcnet.functional import (
    abs,
    exp,
    leaky_relu,
    log,
    matmul,
    max,
    maximum,
    mean,
    relu,
    reshape,
    sigmoid,
    sum,
    tanh,
    transpose,
)
from fcnet.gradcheck import GradcheckReport, gradcheck
from fcnet.tensor import Function, Tensor, enable_grad, is_grad_enabled, no_grad, tensor

__version__ = "0.1.0"

__all__ = [
    "Function",
    "GradcheckReport",
    "Tensor",
    "__version__",
    "abs",
    "backend",
    "enable_grad",
    "exp",
    "gradcheck",
    "graph",
    "is_grad_enabled",
    "leaky_relu",
    "log",
    "manual_seed",
    "matmul",
    "max",
    "maximum",
    "mean",
    "nn",
    "no_grad",
    "optim",
    "relu",
    "reshape",
    "sigmoid",
    "sum",
    "tanh",
    "tensor",
    "transpose",
]
