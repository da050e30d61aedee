"""``TensorBoard``: a callback writing per-epoch curves, gradient norms and weight histograms.

The event files are written by tensorboardX (an optional extra: ``pip install 'fcnet[tensorboard]'``);
view them with ``tensorboard --logdir DIR``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fcnet import backend
from fcnet.errors import ConfigError
from fcnet.train.callbacks import Callback
from fcnet.train.monitor import grad_norms

if TYPE_CHECKING:
    from fcnet.train.trainer import Trainer

__all__ = ["TensorBoard"]

# logs key → TensorBoard tag: train and validation curves share a chart (loss/train, loss/val)
_SCALARS = {"loss": "loss/train", "val_loss": "loss/val", "accuracy": "accuracy/train",
            "val_accuracy": "accuracy/val", "lr": "lr"}


def summary_writer(log_dir: str | Path) -> Any:
    """A tensorboardX ``SummaryWriter`` on ``log_dir``, or a one-line ConfigError naming the extra."""
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise ConfigError("TensorBoard logs need tensorboardX: pip install 'fcnet[tensorboard]'") from None
    return SummaryWriter(str(log_dir))


class TensorBoard(Callback):
    """Log, once per epoch (step = epoch): train/val loss and accuracy, learning rate ε,
    the mean ‖∂L/∂W‖ of every Linear layer over the epoch's steps, and a histogram of every parameter.

    Args:
        log_dir: the directory of the event files (created if absent).
        histograms: also write parameter histograms (the largest part of the file).
    """

    def __init__(self, log_dir: str | Path, histograms: bool = True) -> None:
        self.log_dir, self.histograms = Path(log_dir), histograms
        self.writer = summary_writer(self.log_dir)
        self._sums: dict[str, float] = {}
        self._count = 0

    def on_batch_end(self, trainer: Trainer, step: int) -> None:
        for name, norm in grad_norms(trainer.model).items():
            self._sums[name] = self._sums.get(name, 0.0) + norm
        self._count += 1

    def on_epoch_end(self, trainer: Trainer, epoch: int, logs: dict[str, Any]) -> None:
        w = self.writer
        for key, tag in _SCALARS.items():
            if key in logs and math.isfinite(logs[key]):  # regression has no accuracy (NaN)
                w.add_scalar(tag, float(logs[key]), epoch)
        for name, total in self._sums.items():
            w.add_scalar(f"grad_norm/{name}", total / max(self._count, 1), epoch)
        self._sums, self._count = {}, 0
        if self.histograms:
            for name, p in trainer.model.named_parameters():
                w.add_histogram(f"weights/{name}", backend.to_numpy(p.data), epoch)
        w.flush()

    def close(self) -> None:
        """Flush and close the event file."""
        self.writer.close()
