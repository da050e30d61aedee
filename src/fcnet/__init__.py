"""fcnet: fully-connected neural networks, built from the computation graph up."""

import os as _os
import sys as _sys

# OpenBLAS's idle threads spin for ~2^28 cycles after each product, on the cores the optimizer
# step and the elementwise kernels want next; with a timeout of 2^4 cycles they sleep at once and
# the two take turns (docs/design.md, "Threads").  OpenBLAS reads this when NumPy first loads it.
if "numpy" not in _sys.modules:
    _os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
    _BLAS_SLEEPS = int(_os.environ["OPENBLAS_THREAD_TIMEOUT"] or 28) <= 8
else:  # too late to tell OpenBLAS: its threads spin, so elementwise work stays off them unless it is large
    _BLAS_SLEEPS = False

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
