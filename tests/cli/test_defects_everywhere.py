"""Promises one step beside where the other tests look: each case here failed before it was fixed."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file

from fcnet.cli import main as cli_main
from tests.conftest import fcnet_cmd

FAST = ["--data", "digits", "--subset", "300", "--hidden", "16", "--epochs", "1", "--monitor", "false"]
ENV = {**os.environ, "FCNET_OFFLINE": "1"}


def fcnet(args, capsys, cwd, monkeypatch):
    """``fcnet`` in-process: (exit code, stdout, stderr)."""
    monkeypatch.chdir(cwd)
    monkeypatch.setenv("FCNET_OFFLINE", "1")
    try:
        code = cli_main.main([str(a) for a in args])
    except SystemExit as exc:
        code = exc.code
    out, err = capsys.readouterr()
    return code, out, err


def one_line(code, err, want=2, *needles):
    assert code == want, err
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in err and "internal error" not in err, err
    for n in needles:
        assert n in lines[0], lines[0]


def digest(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def weights(path: Path) -> dict[str, bytes]:
    return {k: v.tobytes() for k, v in load_file(str(path)).items()}


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    d = tmp_path_factory.mktemp("base")
    r = subprocess.run([*fcnet_cmd(), "train", *FAST, "--epochs", "2", "--quiet", "--out", "run"], cwd=d,
                       capture_output=True, text=True, env=ENV, timeout=300)
    assert r.returncode == 0, r.stderr
    return d / "run"


@pytest.fixture
def copy(base, tmp_path):
    shutil.copytree(base, tmp_path / "run")
    return tmp_path / "run"


# --- resume -------------------------------------------------------------------------------------
def test_early_stopping_resume_restores_the_best_weights_like_an_uninterrupted_run(tmp_path, capsys, monkeypatch):
    # val_loss on this setup: 0.798 at epoch 6, 0.915 at 7: patience 1 stops at 7 and restores epoch 6
    common = ["--data", "digits", "--subset", "200", "--hidden", "64", "--optimizer", "sgd", "--lr", "0.3",
              "--early-stopping", "1", "--val-split", "0.3", "--quiet", "--monitor", "false"]
    code, _, err = fcnet(["train", *common, "--epochs", "30", "--out", "full"], capsys, tmp_path, monkeypatch)
    assert code == 0 and "early stopping at epoch 7" in err, err
    code, _, err = fcnet(["train", *common, "--epochs", "6", "--out", "cut"], capsys, tmp_path, monkeypatch)
    assert code == 0, err
    code, _, err = fcnet(["train", "--resume", "cut", "--epochs", "30", "--quiet"], capsys, tmp_path, monkeypatch)
    assert code == 0 and "early stopping at epoch 7" in err, err
    assert weights(tmp_path / "cut" / "model.safetensors") == weights(tmp_path / "full" / "model.safetensors")
    full, cut = (json.loads((tmp_path / r / "summary.json").read_text()) for r in ("full", "cut"))
    assert full["test_loss"] == cut["test_loss"]


@pytest.mark.parametrize("sig", ["SIGTERM", "SIGHUP", "SIGKILL"])
def test_a_signal_during_resume_keeps_every_completed_epoch_and_leaves_nothing_beside(copy, sig):
    before = set(os.listdir(copy.parent))
    proc = subprocess.Popen([*fcnet_cmd(), "train", "--resume", str(copy), "--epochs", "400"], cwd=copy.parent,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    seen = 0
    for line in proc.stderr:
        if line.startswith("epoch "):
            seen = int(line.split()[1].split("/")[0])
            if seen >= 4:
                proc.send_signal(getattr(signal, sig))
                break
    rest = proc.stderr.read()
    code = proc.wait(timeout=120)
    assert code == {"SIGTERM": 143, "SIGHUP": 129, "SIGKILL": -9}[sig], rest
    state = json.loads((copy / "checkpoint" / "state.json").read_text())
    assert state["epoch"] >= seen and len(state["history"]) == state["epoch"]
    assert set(os.listdir(copy.parent)) == before  # no staging copy, no lock file beside the run
    if sig != "SIGKILL":
        assert f"fcnet train --resume {copy}" in rest and not (copy / ".fcnet.lock").exists()


def test_resume_prints_the_run_not_a_hidden_staging_path(copy, capsys, monkeypatch):
    code, _, err = fcnet(["train", "--resume", "run", "--epochs", "3", "--quiet"], capsys, copy.parent, monkeypatch)
    assert code == 0, err
    assert ".new-" not in err and "resuming" in err
    assert sorted(os.listdir(copy.parent)) == ["run"]  # no .run.lock either


def test_resume_and_overwrite_through_a_symbolic_link(copy, capsys, monkeypatch):
    link = copy.parent / "link"
    link.symlink_to(copy, target_is_directory=True)
    code, _, err = fcnet(["train", "--resume", "link", "--epochs", "3", "--quiet"], capsys, copy.parent, monkeypatch)
    assert code == 0, err
    assert json.loads((copy / "summary.json").read_text())["epochs"] == 3
    code, _, err = fcnet(["train", *FAST, "--hidden", "7", "--overwrite", "--out", "link", "--quiet"],
                         capsys, copy.parent, monkeypatch)
    assert code == 0, err
    assert link.is_symlink() and json.loads((copy / "model.json").read_text())["config"]["hidden"] == [7]
    assert sorted(os.listdir(copy.parent)) == ["link", "run"]


def test_the_lock_is_on_the_resolved_run(copy):
    from fcnet.errors import ConfigError
    from fcnet.train.rundir import RunWriter

    link = copy.parent / "link"
    link.symlink_to(copy, target_is_directory=True)
    with RunWriter(copy, "resume"):
        with pytest.raises(ConfigError, match="another fcnet train"):
            RunWriter(link, "resume").__enter__()
    assert sorted(os.listdir(copy.parent)) == ["link", "run"] and not (copy / ".fcnet.lock").exists()


# --- export ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("fmt,target", [("onnx", "model.safetensors"), ("torch", "checkpoint"),
                                        ("onnx", "checkpoint/model.safetensors")])
def test_export_never_writes_into_another_run(base, copy, capsys, monkeypatch, fmt, target):
    before = digest(copy)
    code, _, err = fcnet(["export", str(base), "--format", fmt, "--out", f"run/{target}", "--overwrite"],
                         capsys, copy.parent, monkeypatch)
    one_line(code, err, 2, "inside a run directory")
    assert digest(copy) == before


# --- batch norm, bounds, flags ---------------------------------------------------------------------
def test_batchnorm_with_a_last_batch_of_one_sample(tmp_path, capsys, monkeypatch):
    # --subset 300, --val-split 0.1: 270 training samples = 269 + 1
    args = ["--data", "digits", "--subset", "300", "--hidden", "8", "--batchnorm", "--batch-size", "269",
            "--epochs", "2"]
    code, _, err = fcnet(["train", *args, "--quiet", "--out", "bn"], capsys, tmp_path, monkeypatch)
    assert code == 0, err
    code, _, err = fcnet(["lr-find", *args, "--steps", "12", "--out", "lrf"], capsys, tmp_path, monkeypatch)
    assert code == 0, err
    from fcnet.sklearn import FCNetClassifier

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(21, 4)), np.arange(21) % 3
    clf = FCNetClassifier(hidden=[5], batchnorm=True, batch_size=10, epochs=2, random_state=0)
    assert clf.fit(x, y).predict(x).shape == (21,)


def test_a_new_run_that_fails_before_its_first_epoch_leaves_out_free(tmp_path, capsys, monkeypatch):
    from fcnet.train import trainer

    def broken(self, *a, **k):
        raise RuntimeError("a bug in the first epoch")

    with monkeypatch.context() as m:
        m.setattr(trainer.Trainer, "fit", broken)
        code, _, err = fcnet(["train", *FAST, "--quiet", "--out", "r"], capsys, tmp_path, monkeypatch)
    assert code == 1, err
    assert not (tmp_path / "r").exists()
    code, _, err = fcnet(["train", *FAST, "--quiet", "--out", "r"], capsys, tmp_path, monkeypatch)
    assert code == 0, err


@pytest.mark.parametrize("args,needle", [(["--negative-slope", "-1", "--activation", "leaky_relu"],
                                          "--negative-slope"), (["--out", ""], "--out")])
def test_out_of_range_flags_are_one_line(tmp_path, capsys, monkeypatch, args, needle):
    code, _, err = fcnet(["train", *FAST, "--quiet", *args], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, needle)
    assert not (tmp_path / "runs").exists()


def test_quiet_prints_no_epoch_lines(tmp_path, capsys, monkeypatch):
    code, _, err = fcnet(["train", *FAST, "--epochs", "2", "--quiet", "--out", "q"], capsys, tmp_path, monkeypatch)
    assert code == 0 and "epoch 1/2" not in err and "epoch 2/2" not in err, err


def test_trainer_refuses_x_and_y_of_different_lengths():
    import fcnet
    from fcnet.errors import DataError
    from fcnet.train.trainer import Trainer

    model = fcnet.nn.FullyConnectedNet(3, [4], 2, rng=0)
    t = Trainer(model, fcnet.optim.SGD(model.parameters(), lr=0.1), progress=False)
    with pytest.raises(DataError, match="300 rows but y has 100"):
        t.fit(np.zeros((300, 3), np.float32), np.zeros(100, np.int64), epochs=1)


# --- divergence and strict JSON ----------------------------------------------------------------------
def test_divergence_in_the_last_epoch_exits_3_in_one_line(tmp_path):
    # one step of lr 1e300 leaves finite loss but infinite weights: the last epoch's last step diverges
    r = subprocess.run([*fcnet_cmd(), "train", *FAST, "--optimizer", "sgd", "--lr", "1e300", "--batch-size", "300",
                        "--val-split", "0", "--quiet", "--out", "d"], cwd=tmp_path, capture_output=True, text=True,
                       env=ENV, timeout=300)
    one_line(r.returncode, r.stderr, 3, "diverged in epoch 1")
    assert not (tmp_path / "d" / "summary.json").exists()


def test_divergence_is_one_line_without_numpy_warnings(tmp_path):
    r = subprocess.run([*fcnet_cmd(), "train", *FAST, "--optimizer", "sgd", "--lr", "1e4", "--hidden", "256,256",
                        "--epochs", "5", "--quiet", "--out", "d"], cwd=tmp_path, capture_output=True, text=True,
                       env=ENV, timeout=300)
    one_line(r.returncode, r.stderr, 3, "diverged")


def test_every_json_fcnet_writes_is_strict(tmp_path):
    from fcnet.train.io import write_json

    def refuse(name):
        raise ValueError(f"not strict JSON: {name}")

    write_json(tmp_path / "s.json", {"loss": float("nan"), "best": float("inf"), "x": [np.float32("nan"), 1.5]})
    assert json.loads((tmp_path / "s.json").read_text(), parse_constant=refuse) == \
        {"loss": None, "best": None, "x": [None, 1.5]}


# --- predict ---------------------------------------------------------------------------------------
def test_predict_reads_a_csv_with_a_header_and_refuses_what_float32_cannot_hold(base, tmp_path, capsys,
                                                                             monkeypatch):
    rows = np.random.default_rng(0).integers(0, 16, size=(2, 64))
    (tmp_path / "h.csv").write_text(",".join(f"pixel{i}" for i in range(64)) + "\n"
                                    + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    np.savetxt(tmp_path / "plain.csv", rows, delimiter=",", fmt="%d")
    code, out, err = fcnet(["predict", base, "h.csv"], capsys, tmp_path, monkeypatch)
    assert code == 0, err
    code, out2, err = fcnet(["predict", base, "plain.csv"], capsys, tmp_path, monkeypatch)
    assert code == 0 and [ln.split(":", 1)[1] for ln in out.splitlines()] == \
        [ln.split(":", 1)[1] for ln in out2.splitlines()], (out, out2)
    (tmp_path / "zero.npy").write_bytes(b"")
    code, _, err = fcnet(["predict", base, "zero.npy"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "zero.npy")
    for name, value in (("beyond.npy", 1e39), ("huge.npy", 3e38)):
        np.save(tmp_path / name, np.full((1, 64), value))
        code, out, err = fcnet(["predict", base, name], capsys, tmp_path, monkeypatch)
        one_line(code, err, 2, name, "float32")
        assert "nan" not in out


def test_predict_refuses_an_infinite_standardisation_mean(copy, tmp_path, capsys, monkeypatch):
    from safetensors.numpy import save_file

    arrays = load_file(str(copy / "model.safetensors"))
    arrays["preprocess.mean"] = np.full_like(arrays["preprocess.mean"], np.inf)
    save_file(arrays, str(copy / "model.safetensors"))
    np.save(tmp_path / "x.npy", np.zeros((1, 64)))
    code, out, err = fcnet(["predict", copy, "x.npy"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "model.safetensors")
    assert "nan%" not in out


# --- hand-edited checkpoint/state.json ----------------------------------------------------------------
@pytest.mark.parametrize("field,value", [
    ("epoch", -5), ("epoch", 10**9), ("epoch", "2"), ("step_count", -1), ("history", "gone"),
    ("rng", {"bit_generator": "PCG64", "state": "x"}), ("optimizer", {"type": "SGD", "steps": -3, "hyper": {}}),
    ("dropout_rngs", 3),
])
def test_hand_edited_state_json_is_one_line_naming_file_and_field(copy, capsys, monkeypatch, field, value):
    path = copy / "checkpoint" / "state.json"
    state = json.loads(path.read_text())
    state[field] = value
    path.write_text(json.dumps(state))
    before = digest(copy)
    code, _, err = fcnet(["train", "--resume", "run", "--epochs", "4", "--quiet"], capsys, copy.parent, monkeypatch)
    one_line(code, err, 2, "state.json", field)
    assert digest(copy) == before


# --- disk full and read-only -------------------------------------------------------------------------
def test_disk_full_is_exit_2_naming_the_path(copy, capsys, monkeypatch):
    from fcnet.train import io

    real = io.atomic_write

    def full(path, data):
        if str(path).endswith("summary.json"):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real(path, data)

    before = digest(copy)
    with monkeypatch.context() as m:
        m.setattr(io, "atomic_write", full)
        code, _, err = fcnet(["train", *FAST, "--quiet", "--overwrite", "--out", "run"], capsys, copy.parent,
                             monkeypatch)
    one_line(code, err, 2, "summary.json", "No space left")
    assert digest(copy) == before and sorted(os.listdir(copy.parent)) == ["run"]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_eval_runs_on_a_read_only_run_and_train_there_is_exit_2(copy, capsys, monkeypatch):
    if os.geteuid() == 0:  # root writes through permissions: make the plot write fail as a read-only mount would
        from fcnet import viz

        def ro(*a, **k):
            raise OSError(errno.EROFS, "Read-only file system", str(copy / "eval_confusion.png"))

        monkeypatch.setattr(viz, "plot_confusion", ro)
    else:
        os.chmod(copy, 0o555)
    try:
        code, out, err = fcnet(["eval", "run"], capsys, copy.parent, monkeypatch)
        assert code == 0 and "test accuracy" in out, err
    finally:
        os.chmod(copy, 0o755)


def test_read_only_parent_is_exit_2_naming_the_path(tmp_path, capsys, monkeypatch):
    from fcnet.train import rundir

    def ro(self, *a, **k):
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    monkeypatch.setattr(rundir.Path, "mkdir", ro)
    code, _, err = fcnet(["train", *FAST, "--quiet", "--out", "ro/run"], capsys, tmp_path, monkeypatch)
    one_line(code, err, 2, "ro/run")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
