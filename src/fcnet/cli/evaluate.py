"""``fcnet eval``: test accuracy of a trained run on its data set (or another)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np


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

    model, pre, meta = io.load_run(args.run)
    ds = data.load(args.data or meta.get("data", "digits"), data_dir=args.data_dir)
    if ds.num_features != model.in_features:
        raise DataError(f"{ds.name} has {ds.num_features} features per sample but the model expects "
                        f"{model.in_features}: evaluate on the data set it was trained on")
    y = ds.y_test
    classes = meta["classes"]
    if ds.classes != classes:  # another file's labels: match them to the model's classes by name
        index = {c: i for i, c in enumerate(classes)}
        unknown = sorted(set(ds.classes) - set(index))
        if unknown:
            raise DataError(f"{ds.name} has labels the model does not know ({', '.join(unknown[:5])}); "
                            f"its classes are {', '.join(classes[:10])}")
        y = np.array([index[ds.classes[i]] for i in range(len(ds.classes))], dtype=np.int64)[y]
    x = pre.apply(ds.x_test)
    res, pred = evaluate(model, CrossEntropyLoss(), x, y, predictions=True)
    out = Path(args.run) / "eval_confusion.png"
    try:
        plot_confusion(confusion_matrix(y, pred, len(classes)), classes, out)
        shown = f"; confusion matrix: {out}"
    except OSError as exc:  # a read-only run (a shared or archived directory) is still evaluated
        shown = f"; confusion matrix not written ({out}: {exc.strerror or exc})"
    print(f"test accuracy: {res['accuracy']:.2%} (cross-entropy {res['loss']:.4f}) on {len(y)} "
          f"{ds.name} test samples{shown}")
    return 0
