"""``fcnet eval``: test accuracy of a trained run on its data set (or another)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="evaluate a trained model on a test set")
    p.add_argument("run", help="run directory (or model directory)")
    p.add_argument("--data", help="data set (default: the one it was trained on)")
    p.add_argument("--data-dir", help="directory holding the data set files")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from fcnet import data
    from fcnet.errors import DataError
    from fcnet.nn import CrossEntropyLoss
    from fcnet.train import io
    from fcnet.train.trainer import evaluate
    from fcnet.viz import confusion_matrix, plot_confusion

    model, pre, meta = io.load_model(args.run)
    ds = data.load(args.data or meta.get("data", "digits"), data_dir=args.data_dir)
    if ds.num_features != model.in_features:
        raise DataError(f"{ds.name} has {ds.num_features} features per sample but the model expects "
                        f"{model.in_features}: evaluate on the data set it was trained on")
    x = pre.apply(ds.x_test)
    res, pred = evaluate(model, CrossEntropyLoss(), x, ds.y_test, predictions=True)
    out = Path(args.run) / "eval_confusion.png"
    plot_confusion(confusion_matrix(ds.y_test, pred, len(meta["classes"])), meta["classes"], out)
    print(f"test accuracy: {res['accuracy']:.2%} (cross-entropy {res['loss']:.4f}) on {len(ds.y_test)} "
          f"{ds.name} test samples; confusion matrix: {out}")
    return 0
