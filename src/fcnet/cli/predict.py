"""``fcnet predict``: classify image files (or feature rows) with a trained run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import numpy as np

from fcnet.cli.args import whole_number
from fcnet.errors import DataError


def add_parser(sub: Any, name: str) -> None:
    p = sub.add_parser(name, help="classify images (PNG, JPEG, ...) or .npy/.csv feature rows")
    p.add_argument("run", help="run directory (or model directory)")
    p.add_argument("inputs", nargs="+", help="image files, or .npy / .csv files of feature rows")
    p.add_argument("--top", type=whole_number("--top", 1), default=3,
                   help="classes to show per input (default 3; more than the classes shows them all)")
    p.add_argument("--invert", choices=("auto", "yes", "no"), default="auto",
                   help="invert grey images (auto: when the background is light, since the "
                        "training images are light-on-dark)")
    p.set_defaults(func=run)


MAX_PIXELS = 50_000_000  # larger images are refused from their header, before decoding


def to_8bit(img: Any) -> Any:
    """An image of any mode as 8-bit L or RGB, as Pillow's ``convert`` would show it.

    Pillow converts 16-bit ("I;16", "I") and float ("F") images to "L" by clipping at 255, which
    turns a 16-bit picture black and white; here 16-bit values are scaled by 1/257 (65535 → 255)
    and float images in [0, 1] by 255, so the same picture at any bit depth gives the same pixels.
    8-bit modes (palette, alpha, CMYK) are left to Pillow's ``convert``.
    """
    from PIL import Image

    if img.mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        scale = 257.0 if img.mode.startswith("I;16") or arr.max(initial=0) > 255 else 1.0
        return Image.fromarray(np.clip(np.rint(arr / scale), 0, 255).astype(np.uint8), "L")
    if img.mode == "F":
        arr = np.asarray(img, dtype=np.float64)
        arr = np.nan_to_num(arr, nan=0.0, posinf=0.0, neginf=0.0)
        if arr.max(initial=0) <= 1.0:
            arr = arr * 255.0
        return Image.fromarray(np.clip(np.rint(arr), 0, 255).astype(np.uint8), "L")
    return img  # 8-bit modes (L, RGB, P, LA, RGBA, CMYK...): Pillow's own conversion follows


def image_to_vector(path: Path, image_shape: tuple[int, int, int], layout: str, invert: str) -> np.ndarray:
    """Read an image and flatten it the way the training images were (slide 2): raw 0-255 values."""
    from PIL import Image, UnidentifiedImageError

    h, w, c = image_shape
    try:
        img = Image.open(path)
        iw, ih = img.size  # from the header: nothing decoded yet
        if iw * ih > MAX_PIXELS:
            raise DataError(f"image {path} is too large: {iw}×{ih} ({iw * ih:,} pixels), more than the {MAX_PIXELS:,} "
                            f"fcnet decodes; shrink it to about {w}×{h} first")
        img.load()
    except Image.DecompressionBombError as exc:
        raise DataError(f"image {path} is too large to decode safely ({exc}); shrink it first") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise DataError(f"cannot read image {path}: {exc}") from None
    img = to_8bit(img)
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


def _read_rows(path: Path) -> np.ndarray:
    """The numbers of a .npy or .csv file; a first CSV row that is not numbers is a header, skipped."""
    if path.suffix == ".npy":
        try:
            return np.asarray(np.load(path, allow_pickle=False))
        except (ValueError, OSError, EOFError) as exc:
            raise DataError(f"cannot read feature rows from {path}: {' '.join(str(exc).split()) or 'empty file'}; "
                            "give a .npy written by numpy.save") from None
    import csv

    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r]
    except (OSError, UnicodeDecodeError) as exc:
        raise DataError(f"cannot read feature rows from {path}: {exc}") from None
    header: list[str] | None = None
    if rows:
        try:
            [float(v) for v in rows[0]]
        except ValueError:
            header, rows = [h.strip().lower() for h in rows[0]], rows[1:]
    label = next((header.index(n) for n in ("label", "target", "class", "y") if header and n in header), None)
    if not rows:  # an empty file, or a header alone: _feature_rows says it is empty
        return np.empty((0, 0))
    try:
        return np.array([[float(v) for j, v in enumerate(r) if j != label] for r in rows], dtype=np.float64
                        ).reshape(len(rows), -1)
    except ValueError as exc:
        raise DataError(f"cannot read feature rows from {path}: {' '.join(str(exc).split())}") from None


def _feature_rows(path: Path) -> np.ndarray:
    """Rows of features from a .npy or .csv file, refused when non-numeric, not finite or beyond float32.

    A first CSV row of names (a header, as ``fcnet train`` accepts) is skipped.
    """
    arr = _read_rows(path)
    if arr.dtype.kind not in "biuf":
        raise DataError(f"{path} holds {arr.dtype} values; feature rows must be numbers")
    if arr.size == 0:
        raise DataError(f"{path} is empty: give at least one row of features")
    arr = np.atleast_2d(arr)
    arr = arr.reshape(len(arr), -1)
    bad = ~np.isfinite(arr)
    if bad.any():
        raise DataError(f"{path}: features contain NaN or inf (first at row {int(np.argwhere(bad)[0][0])}); "
                        "remove or impute those values first")
    big = np.abs(arr.astype(np.float64)) > np.finfo(np.float32).max
    if big.any():
        raise DataError(f"{path}: feature values beyond ±{np.finfo(np.float32).max:.3g} (first at row "
                        f"{int(np.argwhere(big)[0][0])}) do not fit the model's float32 arithmetic; rescale them")
    return arr.astype(np.float32)


def run(args: argparse.Namespace) -> int:
    from fcnet.train import io
    from fcnet.train.trainer import predict_proba

    model, pre, meta = io.load_run(args.run)
    classes = meta["classes"]
    names, rows = [], []
    for item in args.inputs:
        path = Path(item)
        if path.is_dir():
            raise DataError(f"input {path} is a directory: give image files, or .npy / .csv files of feature rows")
        if not path.is_file():
            raise DataError(f"input {path} does not exist")
        if path.suffix in (".npy", ".csv"):
            arr = _feature_rows(path)
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
    with np.errstate(over="ignore", invalid="ignore"):
        x = pre.apply(np.stack(rows))
        probs = predict_proba(model, x)
    bad = ~np.isfinite(probs).all(axis=1)
    if bad.any():
        raise DataError(f"{names[int(np.argmax(bad))]}: its features overflow the model's float32 arithmetic "
                        "(values far outside the training range); rescale them")
    k = min(args.top, len(classes))
    for name, p in zip(names, probs, strict=True):
        top = np.argsort(-p)[:k]
        print(f"{name}: " + ", ".join(f"{classes[i]} ({p[i]:.1%})" for i in top))
    return 0
