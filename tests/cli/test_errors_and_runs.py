"""Nothing lost, nothing silent: bad input is one line and exit 2, a failed command leaves a run as it was."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from fcnet.cli import main as cli_main
from tests.conftest import fcnet_cmd

FAST = ["--data", "digits", "--subset", "300", "--hidden", "16", "--epochs", "1", "--quiet", "--monitor", "false"]


def fcnet(args, capsys, cwd, monkeypatch):
    """Run ``fcnet`` in-process; returns (exit code, stdout, stderr)."""
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("FCNET_OFFLINE", "1")
    try:
        code = cli_main.main(list(args))
    except SystemExit as exc:  # argparse errors
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code, err, want_code=2, match=None):
    assert code == want_code, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "usage:" not in err
    if match:
        assert match in lines[0], lines[0]


def tree_digest(d: Path) -> dict[str, str]:
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def saved_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("saved")
    res = subprocess.run([*fcnet_cmd(), "train", *FAST, "--epochs", "2", "--optimizer", "sgd", "--lr", "0.1",
                                          "--out", str(d / "run")], cwd=d,
                         capture_output=True, text=True, timeout=300, env={**os.environ, "FCNET_OFFLINE": "1"})
    assert res.returncode == 0, res.stderr
    return d / "run"


@pytest.fixture
def run_copy(saved_run, tmp_path):
    dst = tmp_path / "copy"
    shutil.copytree(saved_run, dst)
    return dst


# --- the catalogue: values every door must refuse in one line with exit 2 ---------------------
@pytest.mark.parametrize("extra,match", [
    (["--batch-size", "0"], "--batch-size"),
    (["--checkpoint-every", "0"], "--checkpoint-every"),
    (["--hidden", "10,,20"], "--hidden"),
    (["--l2", "-1"], "--l2"),
    (["--threads", "0"], "--threads"),
    (["--clip-norm", "0"], "--clip-norm"),
    (["--schedule", "step", "--step-size", "0"], "--step-size"),
    (["--gamma", "-1"], "--gamma"),
    (["--margin", "-1"], "--margin"),
    (["--early-stopping", "-1"], "--early-stopping"),
    (["--lr", "inf"], "--lr"),
    (["--l1", "nan"], "--l1"),
    (["--negative-slope", "nan"], "--negative-slope"),
    (["--dropout", "1"], "--dropout"),
    (["--epochs", "1.7"], "--epochs"),
    (["--warmup", "3", "--epochs", "2"], "--warmup"),
    (["--hidden", "1000000,1000000"], "lower --hidden"),
])
def test_bad_options_are_one_line_exit_2(tmp_path, capsys, monkeypatch, extra, match):
    code, _, err = fcnet(["train", *FAST, *extra, "--out", "r"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, match)
    assert not (tmp_path / "r" / "model.json").exists()


def test_argparse_error_is_one_line_and_points_to_help(tmp_path, capsys, monkeypatch):
    code, _, err = fcnet(["train", "--batch-size", "abc"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "fcnet train: error: argument --batch-size: must be an integer ≥ 1, got 'abc'")
    assert "(see fcnet train --help)" in err


@pytest.mark.parametrize("toml,match", [
    ("epochs = 1.7\n", "key epochs must be an integer ≥ 1, got 1.7"),
    ("epochs = true\n", "key epochs must be an integer ≥ 1, got true"),
    ('hidden = [1.5, 2]\n', "key hidden"),
    ("lr = -0.1\n", "key lr must be a finite number > 0"),
])
def test_toml_values_are_checked_like_flags(tmp_path, capsys, monkeypatch, toml, match):
    (tmp_path / "c.toml").write_text(toml)
    code, _, err = fcnet(["train", "--config", "c.toml"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, match)


def test_every_door_checks_the_same_way():
    from fcnet.errors import ConfigError
    from fcnet.train.options import coerce

    assert coerce("hidden", "64,32") == coerce("hidden", [64, 32]) == [64, 32]
    assert coerce("epochs", "3") == coerce("epochs", 3) == coerce("epochs", 3.0) == 3
    for name, bad in [("epochs", 1.7), ("epochs", "1.7"), ("epochs", True), ("hidden", [1.5, 2]),
                      ("lr", float("nan")), ("lr", "inf"), ("batch_size", 0), ("gamma", 0.0),
                      ("optimizer", "adadelta"), ("threads", 0)]:
        with pytest.raises(ConfigError):
            coerce(name, bad)


def test_config_that_is_a_directory_or_not_utf8(tmp_path, capsys, monkeypatch):
    (tmp_path / "d.toml").mkdir()
    code, _, err = fcnet(["train", "--config", "d.toml"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "is a directory")
    (tmp_path / "b.toml").write_bytes(b"epochs = 2\n# \xff\xfe\n")
    code, _, err = fcnet(["train", "--config", "b.toml"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "b.toml is not UTF-8")


@pytest.mark.parametrize("nx,ny", [(30, 40), (40, 30)])
def test_npz_whose_x_and_y_disagree(tmp_path, capsys, monkeypatch, nx, ny):
    np.savez(tmp_path / "bad.npz", x=np.ones((nx, 3)), y=np.arange(ny) % 2)
    code, _, err = fcnet(["train", "--data", "bad.npz", "--quiet"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "one label per row")


def test_single_class_csv_is_refused(tmp_path, capsys, monkeypatch):
    (tmp_path / "one.csv").write_text("a,b,label\n" + "".join(f"{i},{i * 2},7\n" for i in range(30)))
    code, _, err = fcnet(["train", "--data", "one.csv", "--quiet"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "at least two classes")


def test_class_names_come_from_the_labels_present(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    rows = [f"{a:.3f},{b:.3f},{'1000000000' if a > 0 else '0'}\n" for a, b in rng.normal(size=(60, 2))]
    (tmp_path / "big.csv").write_text("a,b,label\n" + "".join(rows))
    code, _, err = fcnet(["train", "--data", "big.csv", "--hidden", "4", "--epochs", "1", "--quiet",
                          "--batch-size", "2000000000", "--out", "r"], capsys, tmp_path, monkeypatch)
    assert code == 0, err
    assert "--batch-size 2000000000 is larger than the" in err
    assert json.loads((tmp_path / "r" / "model.json").read_text())["classes"] == ["0", "1000000000"]


def test_string_labels_are_kept_and_predicted(tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 2))
    names = np.where(x[:, 0] > 0, "dog", "cat")
    (tmp_path / "pets.csv").write_text("w,h,label\n" + "".join(f"{a:.4f},{b:.4f},{n}\n"
                                                              for (a, b), n in zip(x, names, strict=True)))
    code, out, err = fcnet(["train", "--data", "pets.csv", "--hidden", "8", "--epochs", "20", "--lr", "0.02",
                            "--quiet", "--out", "r"], capsys, tmp_path, monkeypatch)
    assert code == 0, err
    assert json.loads((tmp_path / "r" / "model.json").read_text())["classes"] == ["cat", "dog"]
    np.save(tmp_path / "q.npy", np.array([[3.0, 0.0], [-3.0, 0.0]], dtype=np.float32))
    code, out, err = fcnet(["predict", "r", "q.npy", "--top", "1"], capsys, tmp_path, monkeypatch)
    assert code == 0, err
    assert [ln.split(": ")[1].split(" ")[0] for ln in out.strip().splitlines()] == ["dog", "cat"]
    np.savez(tmp_path / "pets.npz", x=x, y=names)  # the same names from an .npz: eval maps them by name
    code, out, err = fcnet(["eval", "r", "--data", "pets.npz"], capsys, tmp_path, monkeypatch)
    assert code == 0 and "test accuracy" in out, err


def test_bad_saved_models_are_refused(saved_run, tmp_path, capsys, monkeypatch):
    from safetensors.numpy import load_file, save_file

    for what in ("classes", "scale", "nan"):
        d = tmp_path / what
        shutil.copytree(saved_run, d)
        meta = json.loads((d / "model.json").read_text())
        if what == "classes":
            meta["classes"] = ["a", "b", "c"]
        elif what == "scale":
            meta["preprocess"]["scale"] = 0
        else:
            arrays = load_file(str(d / "model.safetensors"))
            key = next(k for k in arrays if k.endswith("weight"))
            arrays[key][0, 0] = np.nan
            save_file(arrays, str(d / "model.safetensors"))
        (d / "model.json").write_text(json.dumps(meta))
        code, _, err = fcnet(["eval", str(d)], capsys, tmp_path, monkeypatch)
        one_line(code, err, 2, {"classes": "3 class names", "scale": "scale", "nan": "NaN"}[what])


def _png_header(path: Path, w: int, h: int) -> None:
    """A PNG whose header claims w×h (a decompression bomb never needs its pixels decoded)."""
    import struct
    import zlib

    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(ihdr)) + chunk
                     + struct.pack(">I", zlib.crc32(chunk)) + b"\x00\x00\x00\x00IEND\xaeB`\x82")


def test_predict_refuses_empty_nan_and_huge_inputs(saved_run, tmp_path, capsys, monkeypatch):
    np.save(tmp_path / "empty.npy", np.zeros((0, 64), dtype=np.float32))
    code, _, err = fcnet(["predict", str(saved_run), "empty.npy"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "empty")
    nan = np.zeros((2, 64), dtype=np.float32)
    nan[1, 3] = np.nan
    np.save(tmp_path / "nan.npy", nan)
    code, _, err = fcnet(["predict", str(saved_run), "nan.npy"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "NaN")
    for w, h in [(20000, 20000), (10000, 6000)]:  # above Pillow's bomb limit; above fcnet's own
        _png_header(tmp_path / "bomb.png", w, h)
        code, _, err = fcnet(["predict", str(saved_run), "bomb.png"], capsys, tmp_path, monkeypatch)
        one_line(code, err, 2, "bomb.png is too large")


def test_predict_top_below_one_is_refused(saved_run, tmp_path, capsys, monkeypatch):
    np.save(tmp_path / "x.npy", np.zeros((1, 64), dtype=np.float32))
    for top in ("0", "-2", "x"):
        code, _, err = fcnet(["predict", str(saved_run), "x.npy", "--top", top], capsys, tmp_path, monkeypatch)
        one_line(code, err, 2, "--top")


def test_sixteen_bit_and_float_images_predict_like_eight_bit(saved_run, tmp_path, capsys, monkeypatch):
    from sklearn.datasets import load_digits

    img8 = (255 - load_digits().images[-1] * 255 / 16).astype(np.uint8)
    big8 = np.kron(img8, np.ones((4, 4), dtype=np.uint8))
    Image.fromarray(big8, "L").save(tmp_path / "d8.png")
    Image.fromarray(big8.astype(np.uint16) * 257).save(tmp_path / "d16.png")  # mode I;16
    Image.fromarray(big8.astype(np.float32) / 255).save(tmp_path / "df.tiff")  # mode F in [0, 1]
    Image.fromarray(big8, "L").convert("P").save(tmp_path / "dp.png")
    assert Image.open(tmp_path / "d16.png").mode == "I;16"
    code, out, err = fcnet(["predict", str(saved_run), "d8.png", "d16.png", "df.tiff", "dp.png", "--top", "3"],
                           capsys, tmp_path, monkeypatch)
    assert code == 0, err
    scores = [ln.split(": ", 1)[1] for ln in out.strip().splitlines()]
    assert len(scores) == 4 and len(set(scores)) == 1, out


def test_lab_and_graph_output_paths(tmp_path, capsys, monkeypatch):
    (tmp_path / "file").write_text("x")
    code, _, err = fcnet(["lab", "gates", "--out", "file"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "is a file")
    code, _, err = fcnet(["graph", "--out", "missing/dir/x.svg"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "does not exist")


def test_internal_error_exits_1_with_a_traceback_file(tmp_path, capsys, monkeypatch):
    import tempfile

    from fcnet.cli import datasets

    def broken(args):
        raise RuntimeError("a bug, not bad input")

    monkeypatch.setattr(datasets, "run", broken)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    code, _, err = fcnet(["datasets"], capsys, tmp_path, monkeypatch)
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fcnet: internal error: RuntimeError: a bug, not bad input; "
                                                   "traceback written to ")
    path = Path(lines[0].rsplit(" ", 1)[1])
    assert path.parent == tmp_path
    text = path.read_text()
    assert "Traceback" in text and "a bug, not bad input" in text and "broken" in text


# --- run directories ----------------------------------------------------------------------------
def test_out_refuses_an_existing_run_or_a_file(run_copy, tmp_path, capsys, monkeypatch):
    before = tree_digest(run_copy)
    code, _, err = fcnet(["train", *FAST, "--out", str(run_copy)], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "--overwrite")
    assert tree_digest(run_copy) == before
    (tmp_path / "f").write_text("not a run")
    code, _, err = fcnet(["train", *FAST, "--out", "f"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "is a file")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    code, _, err = fcnet(["train", *FAST, "--overwrite", "--out", "mine"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "not an fcnet run")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"


def test_overwrite_replaces_a_run_when_it_succeeds(run_copy, tmp_path, capsys, monkeypatch):
    before = tree_digest(run_copy)
    code, _, err = fcnet(["train", *FAST, "--hidden", "12", "--overwrite", "--out", str(run_copy)],
                         capsys, tmp_path, monkeypatch)
    assert code == 0, err
    assert json.loads((run_copy / "model.json").read_text())["config"]["hidden"] == [12]
    assert tree_digest(run_copy) != before
    assert [p.name for p in tmp_path.iterdir() if ".copy." in p.name and ".lock" not in p.name] == []


@pytest.mark.parametrize("kind", ["divergence", "bad-data", "resume-divergence"])
def test_failed_command_leaves_the_run_byte_identical(run_copy, tmp_path, capsys, monkeypatch, kind):
    before = tree_digest(run_copy)
    np.savez(tmp_path / "nan.npz", x=np.where(np.eye(40, 3) > 0, np.nan, 1.0), y=np.arange(40) % 2)
    args = {
        "divergence": ["train", *FAST, "--optimizer", "sgd", "--lr", "1e4", "--hidden", "256,256",
                       "--epochs", "5", "--overwrite", "--out", str(run_copy)],
        "bad-data": ["train", "--data", "nan.npz", "--overwrite", "--out", str(run_copy), "--quiet"],
        "resume-divergence": ["train", "--resume", str(run_copy), "--epochs", "5", "--lr", "1e6", "--quiet"],
    }[kind]
    code, _, err = fcnet(args, capsys, tmp_path, monkeypatch)
    assert code == (2 if kind == "bad-data" else 3), err
    if kind == "resume-divergence":
        # --resume trains in place: the run is as it was, or advanced to a later complete epoch
        # (checkpoint and history.csv together), never half-written; its finished files are untouched
        after = tree_digest(run_copy)
        epoch = json.loads((run_copy / "checkpoint" / "state.json").read_text())["epoch"]
        rows = (run_copy / "history.csv").read_text().strip().splitlines()[1:]
        assert epoch >= 2 and len(rows) == epoch, (epoch, rows)
        assert {k: v for k, v in after.items() if not k.startswith(("checkpoint", "history"))} == \
            {k: v for k, v in before.items() if not k.startswith(("checkpoint", "history"))}
        assert (f"{run_copy} is unchanged" in err) == (epoch == 2), err
        assert f"the last good checkpoint (epoch {epoch})" in err or epoch == 2, err
        return
    if kind != "bad-data":
        assert f"{run_copy} is unchanged" in err
    assert tree_digest(run_copy) == before


def test_sigint_during_overwrite_leaves_the_run_byte_identical(run_copy, tmp_path):
    before = tree_digest(run_copy)
    args = ["train", "--data", "digits", "--hidden", "1024,1024", "--batch-size", "16", "--epochs", "20",
            "--overwrite", "--out", str(run_copy)]  # no --quiet: the epoch lines are watched
    proc = subprocess.Popen([*fcnet_cmd(), *args],
                            cwd=tmp_path, stderr=subprocess.PIPE, text=True, env={**os.environ, "FCNET_OFFLINE": "1"})
    for line in proc.stderr:
        if line.startswith("epoch 1/"):
            proc.send_signal(signal.SIGINT)
            break
    rest = proc.stderr.read()
    assert proc.wait(timeout=120) == 130, rest
    assert f"{run_copy} is unchanged" in rest
    assert tree_digest(run_copy) == before


def test_second_concurrent_writer_is_refused(tmp_path):
    env = {**os.environ, "FCNET_OFFLINE": "1"}
    loud = [a for a in FAST if a != "--quiet"]  # the epoch lines are watched
    first = subprocess.Popen([*fcnet_cmd(), "train", *loud, "--epochs", "3", "--out", "r"], cwd=tmp_path,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        for line in first.stderr:  # the lock is held from before the first epoch until the end
            if line.startswith("epoch 1/"):
                first.send_signal(signal.SIGSTOP)
                break
        second = subprocess.run([*fcnet_cmd(), "train", *FAST, "--hidden", "9", "--overwrite", "--out", "r"],
                                cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    finally:
        first.send_signal(signal.SIGCONT)
    rest = first.stderr.read()
    assert first.wait(timeout=120) == 0, rest
    assert second.returncode == 2 and "another fcnet train is writing r" in second.stderr, second.stderr
    assert len(second.stderr.strip().splitlines()) == 1
    meta = json.loads((tmp_path / "r" / "model.json").read_text())
    config = (tmp_path / "r" / "config.toml").read_text()
    assert meta["config"]["hidden"] == [16] and "hidden = [\n    16,\n]" in config


def test_resume_refuses_options_that_change_the_model(run_copy, tmp_path, capsys, monkeypatch):
    before = tree_digest(run_copy)
    code, _, err = fcnet(["train", "--resume", str(run_copy), "--optimizer", "adam", "--epochs", "3"],
                         capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "--optimizer adam differs from the run's sgd")
    assert tree_digest(run_copy) == before


def test_resume_on_other_data_is_refused(run_copy, tmp_path, capsys, monkeypatch):
    from fcnet.data.registry import load_digits_set

    ds = load_digits_set()
    rng = np.random.default_rng(1)
    np.savez(tmp_path / "other.npz", x_train=ds.x_train, y_train=rng.permutation(ds.y_train),
             x_test=ds.x_test, y_test=ds.y_test)  # same shapes, other labels
    before = tree_digest(run_copy)
    code, _, err = fcnet(["train", "--resume", str(run_copy), "--data", "other.npz", "--epochs", "3", "--quiet"],
                         capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "its checkpoint was trained on digits")
    assert tree_digest(run_copy) == before


def test_resume_with_a_new_lr_wins_over_the_restored_schedule(tmp_path, capsys, monkeypatch):
    base = ["train", *FAST, "--schedule", "step", "--step-size", "1", "--gamma", "0.5", "--lr", "0.01"]
    code, _, err = fcnet([*base, "--epochs", "2", "--out", "r"], capsys, tmp_path, monkeypatch)
    assert code == 0, err
    code, _, err = fcnet(["train", "--resume", "r", "--epochs", "4", "--lr", "0.2", "--quiet"],
                         capsys, tmp_path, monkeypatch)
    assert code == 0, err
    lines = (tmp_path / "r" / "history.csv").read_text().strip().splitlines()
    col = lines[0].split(",").index("lr")
    lrs = [float(ln.split(",")[col]) for ln in lines[1:]]
    # epochs 1-2 from the first run (0.01, 0.005); the resumed epochs start at 0.2 and keep halving
    assert lrs == pytest.approx([0.01, 0.005, 0.2, 0.1])


def test_memory_check_names_the_option_to_lower():
    from fcnet.errors import ConfigError
    from fcnet.train.options import resolve
    from fcnet.train.recipe import check_memory

    opts = resolve({"hidden": [64]})
    check_memory(opts, 64, 10, 128, available=10**9)  # 5k parameters and a small batch fit
    with pytest.raises(ConfigError, match="lower --batch-size"):
        check_memory(opts, 64, 10, 10**7, available=10**9)
    with pytest.raises(ConfigError, match="lower --hidden"):
        check_memory(resolve({"hidden": [100_000, 100_000]}), 64, 10, 128, available=10**9)


def test_val_split_that_leaves_no_training_sample(tmp_path, capsys, monkeypatch):
    code, _, err = fcnet(["train", "--data", "digits", "--subset", "100", "--val-split", "0.999", "--epochs", "1",
                          "--hidden", "8", "--quiet", "--out", "r"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "--val-split 0.999")
    assert "--subset" in err
    assert not (tmp_path / "r" / "model.json").exists()


def test_npz_whose_train_and_test_features_disagree(tmp_path, capsys, monkeypatch):
    np.savez(tmp_path / "bad.npz", x_train=np.ones((30, 5)), y_train=np.arange(30) % 2,
             x_test=np.ones((10, 3)), y_test=np.arange(10) % 2)
    code, _, err = fcnet(["train", "--data", "bad.npz", "--epochs", "1", "--quiet", "--out", "r"],
                         capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "bad.npz")
    assert "(30, 5)" in err and "(10, 3)" in err


def test_playground_address_that_cannot_be_bound(tmp_path, capsys, monkeypatch):
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        code, _, err = fcnet(["playground", "--port", str(port), "--no-browser"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "--port")
    code, _, err = fcnet(["playground", "--host", "256.1.1.1", "--no-browser"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "--host 256.1.1.1")


@pytest.mark.parametrize("field,value", [("activation", "bogus"), ("config", "relu"), ("dtype", "int8"),
                                         ("hidden", [16, -1])])
def test_hand_edited_model_config_is_refused(saved_run, tmp_path, capsys, monkeypatch, field, value):
    d = tmp_path / "run"
    shutil.copytree(saved_run, d)
    meta = json.loads((d / "model.json").read_text())
    if field == "config":
        meta["config"] = value
    else:
        meta["config"][field] = value
    (d / "model.json").write_text(json.dumps(meta))
    for cmd in (["eval", str(d)], ["predict", str(d), "q.npy"]):
        np.save(tmp_path / "q.npy", np.zeros((1, 64), dtype=np.float32))
        code, _, err = fcnet(cmd, capsys, tmp_path, monkeypatch)
        one_line(code, err, 2, "model.json")
        assert f"{field!r}" in err or field in err, err


def test_a_sequential_saved_from_python_is_refused_by_the_commands(tmp_path, capsys, monkeypatch):
    from fcnet import nn
    from fcnet.train.io import save_model

    save_model(tmp_path / "seq", nn.Sequential(nn.Linear(64, 10, rng=0)))
    np.save(tmp_path / "q.npy", np.zeros((1, 64), dtype=np.float32))
    for cmd in (["eval", "seq"], ["predict", "seq", "q.npy"], ["export", "seq", "--out", "m.onnx"]):
        code, _, err = fcnet(cmd, capsys, tmp_path, monkeypatch)
        one_line(code, err, 2, "holds a Sequential saved from Python; fcnet's commands take a FullyConnectedNet")
