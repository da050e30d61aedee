"""Data formats and sources: IDX, CIFAR-10 (both versions), npz/csv, lookup order, checksums."""

from __future__ import annotations

import gzip
import hashlib
import pickle

import numpy as np
import pytest

from fcnet import data
from fcnet.data import cifar, idx, sources
from fcnet.data.registry import FASHION
from fcnet.errors import DataError

IDX_NAMES = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
             "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"]


def make_idx_set(directory, n_train=30, n_test=10, seed=0):
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    idx.write_idx(directory / IDX_NAMES[0], rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8))
    idx.write_idx(directory / IDX_NAMES[1], rng.integers(0, 10, n_train, dtype=np.uint8))
    idx.write_idx(directory / IDX_NAMES[2], rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8))
    idx.write_idx(directory / IDX_NAMES[3], rng.integers(0, 10, n_test, dtype=np.uint8))
    return directory


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("FCNET_OFFLINE", "1")
    monkeypatch.delenv("FCNET_DATA", raising=False)
    monkeypatch.delenv("FCNET_MIRROR", raising=False)


def test_idx_roundtrip_gz_and_raw(tmp_path):
    a = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    for name in ("a.idx", "a.idx.gz"):
        idx.write_idx(tmp_path / name, a)
        np.testing.assert_array_equal(idx.read_idx(tmp_path / name), a)
    # the header is the official one: 0, 0, 0x08, ndim, big-endian dims
    raw = (tmp_path / "a.idx").read_bytes()
    assert raw[:4] == b"\x00\x00\x08\x03" and raw[4:8] == b"\x00\x00\x00\x02"


def test_truncated_and_corrupted_idx(tmp_path):
    idx.write_idx(tmp_path / "x.idx", np.zeros((5, 28, 28), np.uint8))
    raw = (tmp_path / "x.idx").read_bytes()
    (tmp_path / "t.idx").write_bytes(raw[:-100])
    with pytest.raises(DataError, match="truncated"):
        idx.read_idx(tmp_path / "t.idx")
    (tmp_path / "m.idx").write_bytes(b"\x01\x02" + raw[2:])
    with pytest.raises(DataError, match="magic"):
        idx.read_idx(tmp_path / "m.idx")
    noisy = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    idx.write_idx(tmp_path / "n.idx", noisy)
    (tmp_path / "g.idx.gz").write_bytes(gzip.compress((tmp_path / "n.idx").read_bytes())[:500])
    with pytest.raises(DataError, match=r"gzip|truncated"):
        idx.read_idx(tmp_path / "g.idx.gz")


def test_fashion_mnist_from_data_dir(tmp_path):
    make_idx_set(tmp_path / "d" / "fashion-mnist")
    ds = data.load("fashion-mnist", data_dir=str(tmp_path / "d"))
    assert ds.x_train.shape == (30, 784) and ds.x_test.shape == (10, 784)
    assert ds.preprocess.image_shape == (28, 28, 1) and ds.classes[9] == "Ankle boot"


def test_lookup_order_env_then_cache(tmp_path, monkeypatch):
    make_idx_set(tmp_path / "env" / "mnist", n_train=12)
    make_idx_set(tmp_path / "cache" / "fcnet" / "mnist", n_train=20)
    assert len(data.load("mnist").y_train) == 20  # the user cache
    monkeypatch.setenv("FCNET_DATA", str(tmp_path / "env"))
    assert len(data.load("mnist").y_train) == 12  # $FCNET_DATA comes first
    make_idx_set(tmp_path / "explicit", n_train=7)
    assert len(data.load("mnist", data_dir=str(tmp_path / "explicit")).y_train) == 7


def test_missing_offline_names_files_and_place():
    with pytest.raises(DataError) as e:
        data.load("mnist")
    msg = str(e.value)
    assert "train-images-idx3-ubyte.gz" in msg and "fcnet/mnist" in msg and "--data-dir" in msg


def test_download_verifies_checksum(tmp_path, monkeypatch):
    mirror = tmp_path / "mirror"
    make_idx_set(mirror)
    monkeypatch.setenv("FCNET_OFFLINE", "0")
    monkeypatch.setenv("FCNET_MIRROR", mirror.as_uri())
    with pytest.raises(DataError, match="checksum mismatch"):
        data.load("mnist")
    # with the right checksums the same files are fetched into the cache
    good = sources.Source("fake", [sources.RemoteFile(n, "", hashlib.md5((mirror / n).read_bytes()).hexdigest())
                                   for n in IDX_NAMES])
    paths = sources.locate(good, download=True)
    assert all(p.is_file() and "cache" in str(p) for p in paths.values())


def test_labels_out_of_range_in_idx(tmp_path):
    d = make_idx_set(tmp_path / "fashion-mnist")
    idx.write_idx(d / IDX_NAMES[1], np.full(30, 12, np.uint8))
    with pytest.raises(DataError, match="out of range"):
        data.load("fashion-mnist", data_dir=str(tmp_path))


def _cifar_files(directory, fmt, n=7):
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True)
    for b in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        x = rng.integers(0, 256, (n, 3072), dtype=np.uint8)
        y = rng.integers(0, 10, n)
        if fmt == "bin":
            cifar.write_binary_batch(directory / f"{b}.bin", x, y)
        else:
            with open(directory / b, "wb") as fh:
                pickle.dump({b"batch_label": b"x", b"labels": [int(v) for v in y], b"data": x,
                             b"filenames": [b"a.png"] * n}, fh, protocol=2)
    return directory


@pytest.mark.parametrize("fmt,folder", [("bin", "cifar-10-batches-bin"), ("py", "cifar-10-batches-py")])
def test_cifar10_both_formats(tmp_path, fmt, folder):
    _cifar_files(tmp_path / folder, fmt)
    ds = data.load("cifar10", data_dir=str(tmp_path))
    assert ds.x_train.shape == (35, 3072) and ds.x_test.shape == (7, 3072)
    assert ds.preprocess.image_shape == (32, 32, 3) and ds.preprocess.layout == "chw"


def test_cifar_binary_record_layout(tmp_path):
    x = np.arange(2 * 3072, dtype=np.int64).reshape(2, 3072) % 256
    cifar.write_binary_batch(tmp_path / "b.bin", x.astype(np.uint8), np.array([3, 9]))
    raw = (tmp_path / "b.bin").read_bytes()
    assert len(raw) == 2 * 3073 and raw[0] == 3 and raw[3073] == 9
    xs, _ys = cifar.read_binary_batch(tmp_path / "b.bin")
    np.testing.assert_array_equal(xs, x)
    (tmp_path / "t.bin").write_bytes(raw[:-5])
    with pytest.raises(DataError, match="truncated"):
        cifar.read_binary_batch(tmp_path / "t.bin")


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned > /dev/null",))


def test_restricted_unpickler_refuses_code(tmp_path):
    p = tmp_path / "data_batch_1"
    p.write_bytes(pickle.dumps({b"data": _Evil(), b"labels": [1]}))
    with pytest.raises(DataError, match="refusing to unpickle"):
        cifar.read_python_batch(p)


def test_npz_and_csv_files(tmp_path):
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((50, 3)), rng.integers(0, 3, 50)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    ds = data.load(str(tmp_path / "d.npz"))
    assert ds.x_train.shape == (40, 3) and ds.x_test.shape == (10, 3) and ds.num_classes == 3
    with open(tmp_path / "d.csv", "w") as fh:
        fh.write("a,label,b\n" + "\n".join(f"{r[0]},{c},{r[1]}" for r, c in zip(x, y, strict=True)))
    ds = data.load(str(tmp_path / "d.csv"))
    assert ds.x_train.shape == (40, 2)
    x[3, 1] = np.nan
    np.savez(tmp_path / "nan.npz", x=x, y=y)
    with pytest.raises(DataError, match="NaN"):
        data.load(str(tmp_path / "nan.npz"))
    np.savez(tmp_path / "neg.npz", x=np.ones((5, 2)), y=np.array([0, 1, -1, 0, 1]))
    with pytest.raises(DataError, match="out of range"):
        data.load(str(tmp_path / "neg.npz"))


def test_unknown_dataset_lists_known():
    with pytest.raises(DataError, match="digits, fashion-mnist"):
        data.load("imagenet")


def test_digits_and_toys():
    ds = data.load("digits")
    assert ds.x_train.shape == (1437, 64) and ds.x_test.shape == (360, 64)
    for name in data.TOYS:
        t = data.load(name)
        assert t.x_train.shape == (800, 2)


def test_digits_are_scikit_learns_digits_and_split():
    """fcnet reads and splits the digits itself (no scikit-learn import): the arrays are scikit-learn's, bit for bit."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    want = train_test_split(d.data.astype(np.float32), d.target.astype(np.int64), test_size=360,
                            stratify=d.target, random_state=0)
    ds = data.load("digits")
    for got, exp in zip((ds.x_train, ds.x_test, ds.y_train, ds.y_test), want, strict=True):
        assert got.dtype == exp.dtype and got.shape == exp.shape
        np.testing.assert_array_equal(got, exp)


def _sklearn_at(monkeypatch, folder):
    """Make ``importlib.util.find_spec("sklearn")`` report a scikit-learn package at ``folder``."""
    import importlib.machinery
    import importlib.util

    find_spec = importlib.util.find_spec

    def fake(name, *args):
        if name != "sklearn":
            return find_spec(name, *args)
        spec = importlib.machinery.ModuleSpec("sklearn", None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
        return spec

    monkeypatch.setattr(importlib.util, "find_spec", fake)


def test_digits_of_a_scikit_learn_laid_out_otherwise_come_from_load_digits(monkeypatch, tmp_path):
    from sklearn.datasets import load_digits

    from fcnet.data.registry import _digits_arrays

    _sklearn_at(monkeypatch, tmp_path)  # no datasets/data/digits.csv.gz there: scikit-learn is asked
    x, y = _digits_arrays()
    d = load_digits()
    np.testing.assert_array_equal(x, d.data)
    np.testing.assert_array_equal(y, d.target)


@pytest.mark.parametrize("content", [b"not gzip", gzip.compress(b"1,2,3\n4,5\n"), gzip.compress(b"1,2,3\n")[:-6],
                                     gzip.compress(b"1,2,3\n4,5,6\n")], ids=["not-gzip", "ragged", "cut", "shape"])
def test_an_unreadable_digits_file_is_a_one_line_data_error(monkeypatch, tmp_path, content):
    from fcnet.data.registry import _digits_arrays

    csv_gz = tmp_path / "datasets" / "data" / "digits.csv.gz"
    csv_gz.parent.mkdir(parents=True)
    csv_gz.write_bytes(content)
    _sklearn_at(monkeypatch, tmp_path)
    with pytest.raises(DataError, match=r"cannot read scikit-learn's digits .*digits\.csv\.gz.*reinstall scikit-learn"):
        _digits_arrays()


@pytest.mark.parametrize("seed", range(40))
def test_stratified_split_draws_what_scikit_learn_draws(seed):
    from sklearn.model_selection import train_test_split

    from fcnet.data.registry import _stratified_split

    rng = np.random.default_rng(seed)
    k = int(rng.integers(2, 9))
    counts = rng.integers(2, 40, k)
    if seed % 2:  # equal classes: every class has the same remainder, the extra samples go by a random draw
        counts[:] = counts[0]
    y = rng.permutation(np.repeat(rng.choice(100, k, replace=False), counts))
    n_test = int(rng.integers(k, len(y) - k + 1))
    state = int(rng.integers(2**31 - 1))
    want = train_test_split(np.arange(len(y)), test_size=n_test, stratify=y, random_state=state)
    got = _stratified_split(y, n_test, state)
    for g, w in zip(got, want, strict=True):
        np.testing.assert_array_equal(g, w)


def test_split_is_seeded_and_disjoint():
    x = np.arange(100)[:, None].astype(np.float32)
    y = np.arange(100) % 3
    a = data.split(x, y, 0.2, seed=3)
    b = data.split(x, y, 0.2, seed=3)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    assert len(a[2]) == 20 and not set(a[0][:, 0]) & set(a[2][:, 0])


def test_batches_cover_each_sample_once():
    x = np.arange(103, dtype=np.float32)[:, None]
    y = np.arange(103)
    seen = np.concatenate([yb for _, yb in data.batches(x, y, 10, np.random.default_rng(0))])
    assert sorted(seen) == list(range(103))
    for xb, yb in data.batches(x, y, 10, np.random.default_rng(0)):
        np.testing.assert_array_equal(xb[:, 0], yb)


def test_real_fashion_mnist_files_if_installed():
    d = FASHION.system_dirs[0]
    import os

    if not os.path.isdir(d):
        pytest.skip("Debian's dataset-fashion-mnist is not installed")
    ds = data.load("fashion-mnist")
    assert ds.x_train.shape == (60000, 784) and ds.x_test.shape == (10000, 784)
    assert np.bincount(ds.y_test).tolist() == [1000] * 10


def test_cifar_archive_in_cache_is_extracted_and_read(tmp_path):
    import tarfile

    src = _cifar_files(tmp_path / "build" / "cifar-10-batches-bin", "bin")
    cache = tmp_path / "cache" / "fcnet" / "cifar10"
    cache.mkdir(parents=True)
    with tarfile.open(cache / "cifar-10-binary.tar.gz", "w:gz") as tar:
        tar.add(src, arcname="cifar-10-batches-bin")
    ds = data.load("cifar10")
    assert ds.x_train.shape == (35, 3072)
    assert (cache / "cifar-10-batches-bin" / "test_batch.bin").is_file()


def test_cifar_archive_with_unsafe_member_is_refused(tmp_path):
    import io
    import tarfile

    cache = tmp_path / "cache" / "fcnet" / "cifar10"
    cache.mkdir(parents=True)
    with tarfile.open(cache / "cifar-10-binary.tar.gz", "w:gz") as tar:
        info = tarfile.TarInfo("../../escape.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(DataError):
        data.load("cifar10")
    assert not (tmp_path / "cache" / "escape.txt").exists()


def test_list_of_shuffled_batches_holds_every_batch():
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    y = np.arange(20)
    got = list(data.batches(x, y, 4, np.random.default_rng(0)))
    assert len(got) == 5
    for xb, yb in got:  # each batch keeps its own rows after the later ones were drawn
        np.testing.assert_array_equal(xb, x[yb])
    # the training loop's reused buffer is opt-in and still gathers the right rows
    for xb, yb in data.batches(x, y, 4, np.random.default_rng(0), reuse=True):
        np.testing.assert_array_equal(xb, x[yb])


def test_standardiser_keeps_the_variance_of_features_with_a_large_offset():
    from fcnet.data.dataset import Preprocess

    rng = np.random.default_rng(0)
    noise = rng.standard_normal((10_000, 3)) * np.array([1.0, 0.5, 3.0])
    x = 1e8 + noise  # E[x²] − μ² cancels ~16 digits here; the noise's std is what must come out
    pre = Preprocess().fit(x)
    np.testing.assert_allclose(pre.std, noise.std(axis=0), rtol=1e-6)
    np.testing.assert_allclose(pre.mean, x.mean(axis=0), rtol=1e-7)
    # and on ordinary data it agrees with the textbook formula
    y = rng.uniform(0, 16, size=(500, 4))
    pre = Preprocess(scale=16.0).fit(y)
    np.testing.assert_allclose(pre.std, (y / 16).std(axis=0), rtol=1e-6)
    np.testing.assert_allclose(pre.mean, (y / 16).mean(axis=0), rtol=1e-6)


def test_a_download_with_a_wrong_checksum_leaves_nothing_in_the_cache(tmp_path, monkeypatch):
    mirror = make_idx_set(tmp_path / "mirror")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("FCNET_MIRROR", mirror.as_uri())
    monkeypatch.setenv("FCNET_OFFLINE", "0")
    name = IDX_NAMES[0]
    bad = sources.Source("fake", [sources.RemoteFile(name, "", "0" * 32)])
    with pytest.raises(DataError, match=f"checksum mismatch for {name}"):
        sources.locate(bad, download=True)
    assert not any((tmp_path / "cache").rglob(name))
    good = sources.Source("fake", [sources.RemoteFile(name, "", hashlib.md5((mirror / name).read_bytes()).hexdigest())])
    path = sources.locate(good, download=True)[name]
    assert path.read_bytes() == (mirror / name).read_bytes()
