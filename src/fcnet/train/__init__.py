"""Training: the Trainer, callbacks, history, checkpoints and model files."""

from fcnet.train.callbacks import (
    Callback,
    Checkpoint,
    CSVLogger,
    EarlyStopping,
    GradientMonitor,
    LambdaCallback,
    LRScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
)
from fcnet.train.history import History
from fcnet.train.io import load_model, save_model
from fcnet.train.monitor import diagnose, grad_norms
from fcnet.train.tensorboard import TensorBoard
from fcnet.train.trainer import Trainer, evaluate, fit, predict_proba

__all__ = [
    "CSVLogger", "Callback", "Checkpoint", "EarlyStopping", "GradientMonitor", "History", "LRScheduler",
    "LambdaCallback", "ModelCheckpoint", "ReduceLROnPlateau", "TensorBoard", "Trainer", "diagnose", "evaluate",
    "fit", "grad_norms", "load_model", "predict_proba", "save_model",
]
