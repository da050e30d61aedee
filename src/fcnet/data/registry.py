"""Data sets by name: ``load("digits")``, ``load("fashion-mnist")``, a ``.npz`` / ``.csv`` path..."""

from __future__ import annotations

import csv
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from fcnet.data import cifar, idx, sources
from fcnet.data.dataset import Dataset, Preprocess, check_arrays
from fcnet.data.toy import TOYS, make_toy
from fcnet.errors import DataError

__all__ = ["DATASETS", "describe", "load"]

FASHION_CLASSES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
                   "Sneaker", "Bag", "Ankle boot"]


def _idx_source(folder: str, base: str, md5s: dict[str, str], system: tuple[str, ...] = ()) -> sources.Source:
    names = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]
    return sources.Source(
        folder=folder,
        files=[sources.RemoteFile(n, base + n, md5s[n]) for n in names],
        system_dirs=system,
        alternatives={n: (n[:-3],) for n in names},  # uncompressed files count too
    )


FASHION = _idx_source(
    "fashion-mnist", "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
     "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
     "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
     "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"},
    system=("/usr/share/datasets/fashion-mnist",),
)
MNIST = _idx_source(
    "mnist", "https://ossci-datasets.s3.amazonaws.com/mnist/",
    {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
     "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
     "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
     "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"},
    system=("/usr/share/datasets/mnist",),
)
CIFAR10 = sources.Source(
    "cifar10",
    [sources.RemoteFile("cifar-10-binary.tar.gz", "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
                        "c32a1d4ab5d03f1284b67883e8d87530")],
)
CIFAR_BATCHES = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]


def _load_idx_set(name: str, source: sources.Source, classes: list[str], data_dir: str | None,
                  download: bool) -> Dataset:
    files = sources.locate(source, data_dir, download, dataset=name)
    xs = {k: idx.read_idx(p) for k, p in files.items()}
    xtr, ytr = xs["train-images-idx3-ubyte.gz"], xs["train-labels-idx1-ubyte.gz"]
    xte, yte = xs["t10k-images-idx3-ubyte.gz"], xs["t10k-labels-idx1-ubyte.gz"]
    for x, y, what in ((xtr, ytr, "train"), (xte, yte, "t10k")):
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise DataError(f"{name} {what} files disagree: images {x.shape}, labels {y.shape}")
    h, w = xtr.shape[1:]
    ds = Dataset(name, xtr.reshape(len(xtr), -1), ytr.astype(np.int64), xte.reshape(len(xte), -1),
                 yte.astype(np.int64), classes,
                 Preprocess(scale=255.0, image_shape=(h, w, 1), layout="hwc"),
                 source=str(Path(files["train-images-idx3-ubyte.gz"]).parent))
    check_arrays(ds.x_train, ds.y_train, 10, f"{name} train labels")
    check_arrays(ds.x_test, ds.y_test, 10, f"{name} test labels")
    return ds


def load_fashion_mnist(data_dir: str | None = None, download: bool = True) -> Dataset:
    """Fashion-MNIST: 60,000 + 10,000 grey 28×28 images of 10 kinds of clothing."""
    return _load_idx_set("fashion-mnist", FASHION, FASHION_CLASSES, data_dir, download)


def load_mnist(data_dir: str | None = None, download: bool = True) -> Dataset:
    """MNIST: 60,000 + 10,000 grey 28×28 handwritten digits."""
    return _load_idx_set("mnist", MNIST, [str(i) for i in range(10)], data_dir, download)


def _cifar_dirs(data_dir: str | None) -> list[Path]:
    dirs = sources.candidate_dirs(CIFAR10, data_dir)
    out = []
    for d in dirs:
        out += [d / "cifar-10-batches-bin", d / "cifar-10-batches-py", d]
    return out


def _find_cifar(data_dir: str | None) -> tuple[Path, list[Path], Callable[[Path], Any]] | None:
    """The first directory holding all six CIFAR-10 batches: (dir, files, reader), binary first."""
    for d in _cifar_dirs(data_dir):
        for names, reader in (([f"{b}.bin" for b in CIFAR_BATCHES], cifar.read_binary_batch),
                              (CIFAR_BATCHES, cifar.read_python_batch)):
            if all((d / n).is_file() for n in names):
                return d, [d / n for n in names], reader
    return None


def load_cifar10(data_dir: str | None = None, download: bool = True) -> Dataset:
    """CIFAR-10: 50,000 + 10,000 colour 32×32 images; each a 3072-vector (slide 2)."""
    found = _find_cifar(data_dir)
    if found is None:
        files = sources.locate(CIFAR10, data_dir, download, dataset="cifar10")
        _extract(files["cifar-10-binary.tar.gz"])
        return load_cifar10(data_dir, download=False)
    d, paths, reader = found
    parts = [reader(p) for p in paths]
    xtr = np.concatenate([p[0] for p in parts[:5]])
    ytr = np.concatenate([p[1] for p in parts[:5]])
    return Dataset("cifar10", xtr, ytr, parts[5][0], parts[5][1], list(cifar.CLASSES),
                   Preprocess(scale=255.0, image_shape=(32, 32, 3), layout="chw"), source=str(d))


def _extract(archive: Path) -> None:
    import tarfile

    try:
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):  # refuses absolute paths, links out of the folder
                tar.extractall(archive.parent, filter="data")
            else:  # Pythons before the filter: check member paths ourselves
                root = archive.parent.resolve()
                for m in tar.getmembers():
                    if not (root / m.name).resolve().is_relative_to(root) or m.issym() or m.islnk():
                        raise DataError(f"{archive} holds an unsafe member {m.name!r}; delete it")
                tar.extractall(archive.parent)  # members checked above
    except (tarfile.TarError, OSError) as exc:
        raise DataError(f"{archive} is not a readable archive ({exc}); delete it and fetch it again") from None


def load_digits_set(data_dir: str | None = None, download: bool = True) -> Dataset:
    """scikit-learn's 8×8 handwritten digits (1,797 images, values 0-16): always offline.

    A fixed stratified split (seed 0) keeps 360 images for testing.
    """
    x, y = _digits_arrays()
    train, test = _stratified_split(y, 360, seed=0)
    x, y = x.astype(np.float32), y.astype(np.int64)
    return Dataset("digits", x[train], y[train], x[test], y[test], [str(i) for i in range(10)],
                   Preprocess(scale=16.0, image_shape=(8, 8, 1), layout="hwc"),
                   source="scikit-learn (bundled)")


# The digits are read, and split, without importing scikit-learn: its import alone costs about
# 1.7 s of CPU, more than loading and training on the digits (`fcnet train` with the defaults).
# The split is scikit-learn's own code copied (1.9's `train_test_split(stratify=...)`), so the digits
# keep the train/test rows every earlier fcnet had; tests/unit/test_data.py compares it with the
# installed scikit-learn's, so a change there shows up as a failing test, not as other digits.


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The arrays (1797, 64) and (1797,) of ``sklearn.datasets.load_digits()``: its own CSV, read as it reads it."""
    import importlib.util

    spec = importlib.util.find_spec("sklearn")  # finds the package without running its __init__
    csv_gz = (Path(spec.submodule_search_locations[0]) / "datasets" / "data" / "digits.csv.gz"
              if spec is not None and spec.submodule_search_locations else None)
    if csv_gz is None or not csv_gz.is_file():  # a scikit-learn laid out otherwise: ask it
        from sklearn.datasets import load_digits

        d = load_digits()
        return d.data, d.target
    import gzip

    try:
        with gzip.open(csv_gz, mode="rt", encoding="utf-8") as fh:
            data = np.loadtxt(fh, delimiter=",", ndmin=2)
        if data.shape != (1797, 65):
            raise ValueError(f"{data.shape[0]} rows of {data.shape[1]} numbers, not 1797 of 65")
    except (OSError, EOFError, ValueError) as err:  # gzip.BadGzipFile is an OSError
        raise DataError(f"cannot read scikit-learn's digits {csv_gz} ({err}): reinstall scikit-learn "
                        "(pip install --force-reinstall scikit-learn)") from None
    return data[:, :-1], data[:, -1].astype(int, copy=False)


def _stratified_split(y: np.ndarray, n_test: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test indices of ``train_test_split(..., test_size=n_test, stratify=y, random_state=seed)``.

    scikit-learn's ``StratifiedShuffleSplit`` step for step, drawing the same numbers from
    ``RandomState(seed)``: class k gets ≈ n·N_k/N of each part, then its indices are permuted and cut.
    """
    rng = np.random.RandomState(seed)
    classes, y_indices, class_counts = np.unique(y, return_inverse=True, return_counts=True)
    class_indices = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(class_counts)[:-1])
    n_i = _approximate_mode(class_counts, len(y) - n_test, rng)
    t_i = _approximate_mode(class_counts - n_i, n_test, rng)
    train: list[int] = []
    test: list[int] = []
    for i in range(len(classes)):
        perm = class_indices[i].take(rng.permutation(class_counts[i]), mode="clip")
        train.extend(perm[: n_i[i]])
        test.extend(perm[n_i[i]: n_i[i] + t_i[i]])
    return rng.permutation(train), rng.permutation(test)


def _approximate_mode(class_counts: np.ndarray, n_draws: int, rng: np.random.RandomState) -> np.ndarray:
    """scikit-learn's ``_approximate_mode``: ⌊n·N_k/N⌋ per class, the rest to the largest remainders (ties drawn)."""
    continuous = class_counts / class_counts.sum() * n_draws
    floored = np.floor(continuous)
    need_to_add = int(n_draws - floored.sum())
    if need_to_add > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (inds,) = np.where(remainder == value)
            add_now = min(len(inds), need_to_add)
            floored[rng.choice(inds, size=add_now, replace=False)] += 1
            need_to_add -= add_now
            if need_to_add == 0:
                break
    return floored.astype(int)


def _toy_loader(name: str) -> Callable[..., Dataset]:
    def load_toy(data_dir: str | None = None, download: bool = True) -> Dataset:
        x, y = make_toy(name, n=1000, seed=0)
        classes = [str(c) for c in range(int(y.max()) + 1)]
        return Dataset(name, x[:800], y[:800], x[800:], y[800:], classes, Preprocess(), source="generated")
    load_toy.__doc__ = f"The 2-D toy problem {name!r} (800 train, 200 test points)."
    return load_toy


DATASETS: dict[str, Callable[..., Dataset]] = {
    "digits": load_digits_set,
    "fashion-mnist": load_fashion_mnist,
    "mnist": load_mnist,
    "cifar10": load_cifar10,
    **{t: _toy_loader(t) for t in TOYS},
}


def load_file(path: str | Path, test_fraction: float = 0.2, seed: int = 0) -> Dataset:
    """Features and labels from a ``.npz`` (x/y or x_train/y_train/x_test/y_test) or ``.csv``.

    A CSV's label column is the one named label, target, class or y, else the last one.
    Without a test part, a seeded ``test_fraction`` is held out.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"data file {path} does not exist")
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                arrays = {k: z[k] for k in z.files}
        except Exception as exc:
            raise DataError(f"{path} is not a readable .npz file ({exc})") from None
        keys = {k.lower(): k for k in arrays}
        if {"x_train", "y_train", "x_test", "y_test"} <= set(keys):
            xtr, ytr, xte, yte = (arrays[keys[k]] for k in ("x_train", "y_train", "x_test", "y_test"))
            _same_length(path, xtr, ytr, "x_train", "y_train")
            _same_length(path, xte, yte, "x_test", "y_test")
        elif {"x", "y"} <= set(keys):
            _same_length(path, arrays[keys["x"]], arrays[keys["y"]], "x", "y")
            xtr, ytr, xte, yte = _holdout(arrays[keys["x"]], arrays[keys["y"]], test_fraction, seed)
        else:
            raise DataError(f"{path} must hold arrays x and y (or x_train, y_train, x_test, y_test); "
                            f"it holds {sorted(arrays)}")
    elif path.suffix == ".csv":
        x, y = _read_csv(path)
        xtr, ytr, xte, yte = _holdout(x, y, test_fraction, seed)
    else:
        raise DataError(f"unsupported data file {path.name!r}: use a .npz or .csv file")
    shapes = np.shape(xtr), np.shape(xte)
    xtr, xte = _features(path, xtr, "train"), _features(path, xte, "test")
    if xtr.shape[1] != xte.shape[1]:
        raise DataError(f"{path}: x_train has shape {shapes[0]} ({xtr.shape[1]} features) but x_test has shape "
                        f"{shapes[1]} ({xte.shape[1]} features); both parts need the same features per sample")
    ytr, yte, classes = _class_indices(path, np.asarray(ytr), np.asarray(yte))
    for x, y, part in ((xtr, ytr, "train"), (xte, yte, "test")):
        check_arrays(x, y, len(classes), f"{path.name} ({part})")
    return Dataset(path.stem, xtr, ytr, xte, yte, classes, Preprocess(), source=str(path))


def _same_length(path: Path, x: np.ndarray, y: np.ndarray, xn: str, yn: str) -> None:
    if np.ndim(x) == 0 or np.ndim(y) != 1 or len(x) != len(y):
        raise DataError(f"{path}: {xn} has shape {np.shape(x)} and {yn} has shape {np.shape(y)}; "
                        f"{yn} must be a vector with one label per row of {xn}")
    if len(x) == 0:
        raise DataError(f"{path}: {xn} and {yn} are empty; give at least one sample per part")


def _features(path: Path, x: Any, part: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise DataError(f"{path} ({part}): features must be numbers, got dtype {x.dtype}")
    if x.ndim < 2 or x.shape[0] == 0 or int(np.prod(x.shape[1:])) == 0:
        raise DataError(f"{path} ({part}): features must have shape (N, D) with N, D ≥ 1, got {x.shape}")
    return np.asarray(x, dtype=np.float32).reshape(len(x), -1)


def _class_indices(path: Path, ytr: np.ndarray, yte: np.ndarray) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Labels as indices into the sorted set of labels present (model.json keeps the names).

    Integer labels keep their numeric order (2 < 10) and strings sort as text.  Only the labels
    present become classes, so one label 1000000000 is one class, not a billion.
    """
    if ytr.dtype.kind in "US":
        ytr, yte = ytr.astype(str), yte.astype(str)
    elif ytr.dtype.kind in "biuf" and yte.dtype.kind in "biuf":
        for y, part in ((ytr, "train"), (yte, "test")):
            if y.dtype.kind == "f" and not np.all(np.isfinite(y) & (y == np.round(y))):
                raise DataError(f"{path.name} ({part}): labels must be integer class indices or names, "
                                "found non-integer values")
            if len(y) and y.min() < 0:
                raise DataError(f"{path.name} ({part}): labels out of range: found {int(y.min())}..{int(y.max())}, "
                                "expected class indices 0..C-1 ≥ 0 (or class names)")
        ytr, yte = ytr.astype(np.int64), yte.astype(np.int64)
    else:
        raise DataError(f"{path}: labels must be integers or strings, got {ytr.dtype} and {yte.dtype}")
    if (ytr.dtype.kind == "U") != (yte.dtype.kind == "U"):
        raise DataError(f"{path}: the train labels and test labels must both be numbers or both names")
    values, inverse = np.unique(np.concatenate([ytr, yte]), return_inverse=True)
    inverse = inverse.reshape(-1).astype(np.int64)
    return inverse[:len(ytr)], inverse[len(ytr):], [str(v) for v in values]


def _holdout(x: np.ndarray, y: np.ndarray, frac: float, seed: int):
    from fcnet.data.dataset import split

    xtr, ytr, xte, yte = split(np.asarray(x), np.asarray(y), frac, seed)
    return xtr, ytr, xte, yte


def _read_csv(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with path.open(newline="", encoding="utf-8") as fh:
            rows = [r for r in csv.reader(fh) if r]
    except UnicodeDecodeError as exc:
        raise DataError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 CSV") from None
    if not rows:
        raise DataError(f"{path} is empty")
    header = None
    try:
        [float(v) for v in rows[0]]
    except ValueError:
        header, rows = [h.strip().lower() for h in rows[0]], rows[1:]
    if not rows:
        raise DataError(f"{path} has a header but no data rows")
    label_col = len(rows[0]) - 1
    if header:
        for name in ("label", "target", "class", "y"):
            if name in header:
                label_col = header.index(name)
                break
    width = len(rows[0])
    for i, r in enumerate(rows):
        if len(r) != width:
            raise DataError(f"{path}: row {i + 1 + bool(header)} has {len(r)} columns, the first has {width}")
    if width < 2:
        raise DataError(f"{path}: need at least one feature column and a label column")
    labels = [r[label_col].strip() for r in rows]
    try:
        arr = np.array([[float(v) if v.strip() not in ("", "nan", "NaN") else np.nan
                         for j, v in enumerate(r) if j != label_col] for r in rows], dtype=np.float64)
    except ValueError as exc:
        raise DataError(f"{path}: every feature value must be a number ({exc})") from None
    try:
        y: np.ndarray = np.array([float(v) for v in labels], dtype=np.float64)
    except ValueError:  # class names ("cat", "dog"): kept as strings
        y = np.array(labels, dtype=str)
    return arr, y


def load(name: str, data_dir: str | None = None, download: bool = True) -> Dataset:
    """A data set by name (see ``DATASETS``) or by the path of a .npz / .csv file."""
    if name in DATASETS:
        return DATASETS[name](data_dir=data_dir, download=download)
    if name.endswith((".npz", ".csv")) or os.sep in name:
        return load_file(name)
    raise DataError(f"unknown data set {name!r}: choose one of {', '.join(DATASETS)}, "
                    "or give the path of a .npz or .csv file")


def describe(data_dir: str | None = None) -> list[dict[str, str]]:
    """One row per data set: name, and where it is found (or would be fetched from)."""
    rows = []
    for name in DATASETS:
        if name == "digits":
            where = "bundled with scikit-learn"
        elif name in TOYS:
            where = "generated"
        else:
            src = {"fashion-mnist": FASHION, "mnist": MNIST, "cifar10": CIFAR10}[name]
            if name == "cifar10":
                found = _find_cifar(data_dir)
                where = str(found[0]) if found else ""
            else:
                files = sources.find_local(src, data_dir)
                where = str(next(iter(files.values())).parent) if files else ""
            if not where:
                where = f"not found; downloads to {sources.cache_dir() / src.folder} on first use"
        rows.append({"name": name, "where": where, "doc": (DATASETS[name].__doc__ or "").split("\n")[0]})
    return rows
