"""``History``: one row of metrics per epoch, written as CSV."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from fcnet.train.io import atomic_write

__all__ = ["History"]


class History:
    """Per-epoch metrics (``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``, ``lr``, ...)."""

    def __init__(self, rows: list[dict[str, Any]] | None = None) -> None:
        self.rows: list[dict[str, Any]] = list(rows or [])

    def append(self, row: dict[str, Any]) -> None:
        """Add an epoch's metrics (kept by reference, so callbacks can still add to them)."""
        self.rows.append(row)

    def __getitem__(self, key: str) -> list[Any]:
        return [r.get(key) for r in self.rows]

    def __len__(self) -> int:
        return len(self.rows)

    @property
    def history(self) -> dict[str, list[Any]]:
        """Keras's ``History.history``: each metric's list of values (``history["loss"]``), every column but
        ``epoch``, from the epochs that logged it (with ``validation_freq=2``, ``val_loss`` has one value per
        two epochs, as in Keras; ``history_obj["val_loss"]`` keeps one entry per epoch, None where absent).
        """
        return {k: [r[k] for r in self.rows if k in r] for k in self.columns if k != "epoch"}

    @property
    def epoch(self) -> list[int]:
        """Keras's ``History.epoch``: the epochs' indices counted from 0 (fcnet's epoch e is index e − 1)."""
        return [int(e) - 1 for e in self["epoch"]]

    @property
    def columns(self) -> list[str]:
        """All metric names, in first-seen order."""
        cols: list[str] = []
        for r in self.rows:
            cols += [k for k in r if k not in cols]
        return cols

    def to_csv(self, path: str | Path) -> Path:
        """Atomically write the table as CSV."""
        return atomic_write(path, self.csv_text(self.rows, self.columns, header=True).encode())

    @staticmethod
    def csv_text(rows: list[dict[str, Any]], columns: list[str], header: bool = False) -> str:
        """``rows`` as CSV lines under ``columns`` (floats to 6 significant digits)."""
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=columns)
        if header:
            w.writeheader()
        for r in rows:
            w.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})
        return buf.getvalue()
