"""``fcnet predict``: classify image files (or feature rows) with a trained run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from fcnet.errors import DataError


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="classify images (PNG, JPEG, ...) or .npy/.csv feature rows")
    p.add_argument("run", help="run directory (or model directory)")
    p.add_argument("inputs", nargs="+", help="image files, or .npy / .csv files of feature rows")
    p.add_argument("--top", type=int, default=3, help="classes to show per input (default 3)")
    p.add_argument("--invert", choices=("auto", "yes", "no"), default="auto",
                   help="invert grey images (auto: when the background is light, since the "
                        "training images are light-on-dark)")
    p.set_defaults(func=run)


def image_to_vector(path: Path, image_shape: tuple[int, int, int], layout: str, invert: str) -> np.ndarray:
    """Read an image and flatten it the way the training images were (slide 2): raw 0-255 values."""
    from PIL import Image, UnidentifiedImageError

    h, w, c = image_shape
    try:
        img = Image.open(path)
        img.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from None
    iw, ih = img.size
    ratio = (iw / ih) / (w / h)
    if not 0.5 <= ratio <= 2.0:
        raise DataError(f"image {path} is {iw}×{ih}: its aspect ratio is too far from the model's "
                        f"{w}×{h} input to be resized without distortion; crop it to about {w}:{h} first")
    img = img.convert("L" if c == 1 else "RGB").resize((w, h), Image.Resampling.BOX)
    arr = np.asarray(img, dtype=np.float32)
    if c == 1:
        if invert == "yes" or (invert == "auto" and arr.mean() > 127.5):
            arr = 255.0 - arr
        return arr.reshape(-1)
    if layout == "chw":
        arr = arr.transpose(2, 0, 1)
    return arr.reshape(-1)


def run(args: argparse.Namespace) -> int:
    from fcnet.train import io
    from fcnet.train.trainer import predict_proba

    model, pre, meta = io.load_model(args.run)
    classes = meta["classes"]
    names, rows = [], []
    for item in args.inputs:
        path = Path(item)
        if not path.is_file():
            raise DataError(f"input {path} does not exist")
        if path.suffix in (".npy", ".csv"):
            arr = (np.load(path, allow_pickle=False) if path.suffix == ".npy"
                   else np.loadtxt(path, delimiter=",", ndmin=2))
            arr = np.atleast_2d(arr).astype(np.float32)
            if arr.shape[1] != model.in_features:
                raise DataError(f"{path} has {arr.shape[1]} features per row, the model expects "
                                f"{model.in_features}")
            rows += list(arr)
            names += [f"{path.name}[{i}]" for i in range(len(arr))]
            continue
        if pre.image_shape is None:
            raise DataError(f"this model was trained on non-image data ({model.in_features} features), "
                            f"so image {path.name} cannot map to its input; give a .npy or .csv of features")
        # image pixels are 0-255; the training data's raw range is 0-scale (16 for digits)
        vec = image_to_vector(path, pre.image_shape, pre.layout, args.invert) * (pre.scale / 255.0)
        if vec.size != model.in_features:
            raise DataError(f"image {path} gives {vec.size} values, the model expects {model.in_features}")
        rows.append(vec)
        names.append(path.name)
    x = pre.apply(np.stack(rows))
    probs = predict_proba(model, x)
    k = max(1, min(args.top, len(classes)))
    for name, p in zip(names, probs, strict=True):
        top = np.argsort(-p)[:k]
        print(f"{name}: " + ", ".join(f"{classes[i]} ({p[i]:.1%})" for i in top))
    return 0
