"""Neural-network building blocks: modules, layers, activations, losses, initialisation."""

from fcnet.nn import functional, init
from fcnet.nn.activations import ACTIVATIONS, LeakyReLU, ReLU, Sigmoid, Tanh
from fcnet.nn.layers import BatchNorm1d, Dropout, Flatten, Identity, Linear, Sequential
from fcnet.nn.losses import (
    BCEWithLogitsLoss,
    CrossEntropyLoss,
    MSELoss,
    MulticlassHingeLoss,
    l1_penalty,
    l2_penalty,
    regularization,
    weighted_loss,
)
from fcnet.nn.module import Module, Parameter
from fcnet.nn.network import FullyConnectedNet

__all__ = [
    "ACTIVATIONS", "BCEWithLogitsLoss", "BatchNorm1d", "CrossEntropyLoss", "Dropout", "Flatten", "FullyConnectedNet",
    "Identity", "LeakyReLU", "Linear", "MSELoss", "Module", "MulticlassHingeLoss", "Parameter",
    "ReLU", "Sequential", "Sigmoid", "Tanh", "functional", "init", "l1_penalty", "l2_penalty",
    "regularization", "weighted_loss",
]
