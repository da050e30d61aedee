"""SIGKILL of a real `fcnet train` at several points: the run is untouched or advanced, nothing is left, the
same command then succeeds (and ends as the uninterrupted run)."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from fcnet.train.callbacks import Checkpoint
from tests.invariants.harness import fcnet

ENV = {**os.environ, "FCNET_OFFLINE": "1"}
COMMON = ["--data", "digits", "--subset", "60", "--hidden", "8", "--batch-size", "16", "--monitor", "false",
          "--quiet"]

# SIGKILL this process at the N-th call of a hook: after config.toml is written, at the end of an epoch
# (after its checkpoint and history line), before/after the atomic exchange of a checkpoint save or of the
# --overwrite swap
_KILLER = """
import importlib, os, signal, sys
where, n = sys.argv[1], int(sys.argv[2])
module, name, when = {"config": ("fcnet.train.recipe", "write_config", "after"),
                      "epoch": ("fcnet.train.callbacks:CSVLogger", "on_epoch_end", "after"),
                      "save-before": ("fcnet.train.io", "exchange", "before"),
                      "save-after": ("fcnet.train.io", "exchange", "after"),
                      "swap-before": ("fcnet.train._guard", "exchange", "before"),
                      "swap-after": ("fcnet.train._guard", "exchange", "after")}[where]
module, _, attr = module.partition(":")
target = importlib.import_module(module)
target = getattr(target, attr) if attr else target
original, calls = getattr(target, name), [0]
def hooked(*args, **kwargs):
    calls[0] += 1
    if when == "before" and calls[0] == n:
        os.kill(os.getpid(), signal.SIGKILL)
    result = original(*args, **kwargs)
    if calls[0] == n:
        os.kill(os.getpid(), signal.SIGKILL)
    return result
setattr(target, name, hooked)
from fcnet.cli.main import main
sys.exit(main(sys.argv[3:]))
"""


def sha(d: Path) -> dict[str, str]:
    """sha256 of every file under ``d`` (hidden ones included), by relative path."""
    return {str(p.relative_to(d)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(d.rglob("*")) if p.is_file()}


def epoch_of(run: Path) -> int:
    path = run / "checkpoint" / "state.json"
    return json.loads(path.read_text())["epoch"] if path.is_file() else 0


def settled(parent: Path, names: list[str], run: Path, timeout: float = 30.0) -> None:
    """Wait for the guard of the killed command: only ``names`` in ``parent``, nothing hidden in ``run``, lock free."""
    deadline = time.monotonic() + timeout
    while True:
        listing = sorted(os.listdir(parent))
        hidden = sorted(p.name for p in run.iterdir() if p.name.startswith(".") or p.name.endswith(".old")
                        ) if run.is_dir() else []
        free = True
        if run.is_dir():
            fd = os.open(run, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                free = False
            finally:
                os.close(fd)
        if listing == sorted(names) and not hidden and free:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"left after the kill: {listing} beside, {hidden} inside {run.name}, lock free {free}")
        time.sleep(0.05)


def killed(where: str, n: int, args: list[str], cwd: Path) -> str:
    r = subprocess.run([sys.executable, "-c", _KILLER, where, str(n), *args], cwd=cwd, env=ENV,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == -9, r.stderr
    return r.stderr


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted 4-epoch run, and a 2-epoch run of the same options (to resume and to overwrite)."""
    d = tmp_path_factory.mktemp("reference")
    for name, epochs in (("full", 4), ("half", 2)):
        code, log = fcnet(["train", *COMMON, "--epochs", epochs, "--out", name], d)
        assert code == 0, log
    return d


def weights(run: Path) -> bytes:
    return (run / "model.safetensors").read_bytes()


@pytest.mark.parametrize("where,n,extra", [
    ("config", 1, []),  # before the first epoch
    ("epoch", 2, ["--checkpoint-every", "3"]),  # two epochs done, none saved yet
    ("epoch", 2, ["--checkpoint-every", "3", "--tensorboard", "run/tb"]),  # its own logs inside the run
], ids=["after-config", "before-first-checkpoint", "tensorboard-inside"])
def test_a_new_run_killed_before_its_first_checkpoint_leaves_nothing_and_the_same_command_works(
        reference, tmp_path, where, n, extra):
    cmd = ["train", *COMMON, "--epochs", "4", *extra, "--out", "run"]
    killed(where, n, cmd, tmp_path)
    settled(tmp_path, [], tmp_path / "run")  # the run directory it made is gone
    code, log = fcnet(cmd, tmp_path)
    assert code == 0, log
    assert weights(tmp_path / "run") == weights(reference / "full")


@pytest.mark.parametrize("where,n,swapped", [
    ("epoch", 2, False),  # mid-run: the staging copy has 2 epochs
    ("swap-before", 1, False),  # the new run is complete, not yet swapped in
    ("swap-after", 1, True),  # swapped in; the old run (now in the staging directory) not yet deleted
], ids=["mid-run", "before-swap", "after-swap"])
def test_overwrite_killed_leaves_the_old_or_the_new_run_whole_and_nothing_beside(reference, tmp_path, where, n,
                                                                                 swapped):
    shutil.copytree(reference / "half", tmp_path / "run")
    shutil.copytree(reference / "half", tmp_path / "other")
    before, other = sha(tmp_path / "run"), sha(tmp_path / "other")
    cmd = ["train", *COMMON, "--epochs", "4", "--overwrite", "--out", "run"]
    killed(where, n, cmd, tmp_path)
    settled(tmp_path, ["other", "run"], tmp_path / "run")
    if swapped:
        assert weights(tmp_path / "run") == weights(reference / "full") and epoch_of(tmp_path / "run") == 4
    else:
        assert sha(tmp_path / "run") == before
    assert sha(tmp_path / "other") == other
    code, log = fcnet(cmd, tmp_path)
    assert code == 0, log
    assert weights(tmp_path / "run") == weights(reference / "full")
    assert sorted(os.listdir(tmp_path)) == ["other", "run"]


@pytest.mark.parametrize("where,n", [
    ("epoch", 1),  # epoch 3 done and saved
    ("save-before", 1),  # epoch 3's checkpoint written, not yet exchanged
    ("save-after", 1),  # exchanged; the old checkpoint (in the temporary directory) not yet deleted
], ids=["mid-run", "before-checkpoint-swap", "after-checkpoint-swap"])
def test_resume_killed_keeps_a_complete_checkpoint_and_the_same_command_ends_as_the_uninterrupted_run(
        reference, tmp_path, where, n):
    shutil.copytree(reference / "half", tmp_path / "run")
    before = sha(tmp_path / "run")
    cmd = ["train", "--resume", "run", "--epochs", "4", "--quiet"]
    killed(where, n, cmd, tmp_path)
    settled(tmp_path, ["run"], tmp_path / "run")
    run = tmp_path / "run"
    if sha(run) != before:
        assert epoch_of(run) > 2  # advanced to a later complete epoch
    _arrays, state = Checkpoint.load(run / "checkpoint")  # complete: it loads and passes every check
    assert state["epoch"] == epoch_of(run) >= 2
    assert (epoch_of(run) == 3) == (where != "save-before")
    code, log = fcnet(cmd, tmp_path)
    assert code == 0, log
    assert weights(run) == weights(reference / "full")
    assert (run / "history.csv").read_text().count("\n") == (reference / "full" / "history.csv").read_text().count("\n")
    assert sorted(os.listdir(tmp_path)) == ["run"]


def test_a_run_stopped_before_its_first_epoch_without_cleanup_is_reused_by_the_same_command(reference, tmp_path):
    # what a kill leaves when its guard could not run (power loss): config.toml, history.csv, a save cut off
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(reference / "full" / "config.toml", run / "config.toml")
    (run / "history.csv").write_text("epoch,loss\n1,2.0\n")
    (run / ".checkpoint.ab12cd34").mkdir()
    code, log = fcnet(["train", *COMMON, "--epochs", "4", "--out", "run"], tmp_path)
    assert code == 0, log
    assert weights(run) == weights(reference / "full")
    assert sorted(p.name for p in run.iterdir()) == sorted(p.name for p in (reference / "full").iterdir())


def test_a_directory_with_other_files_beside_a_config_is_still_refused(reference, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(reference / "full" / "config.toml", run / "config.toml")
    (run / "notes.txt").write_text("mine")
    code, log = fcnet(["train", *COMMON, "--epochs", "4", "--out", "run"], tmp_path)
    assert code == 2 and "already holds a run" in log, log
    assert (run / "notes.txt").read_text() == "mine"


def test_a_run_inside_another_run_is_refused_and_overwrite_never_deletes_one(reference, tmp_path):
    shutil.copytree(reference / "half", tmp_path / "run")
    before = sha(tmp_path / "run")
    code, log = fcnet(["train", *COMMON, "--epochs", "1", "--out", "run/inner"], tmp_path)
    assert code == 2 and "inside the run directory" in log and len(log.strip().splitlines()) == 1, log
    assert sha(tmp_path / "run") == before
    # a run nested by hand (or by an older fcnet): --overwrite of the outer run refuses to delete it
    shutil.copytree(reference / "half", tmp_path / "run" / "inner")
    before = sha(tmp_path / "run")
    code, log = fcnet(["train", *COMMON, "--epochs", "1", "--out", "run", "--overwrite"], tmp_path)
    assert code == 2 and "holds another run" in log, log
    assert sha(tmp_path / "run") == before and sorted(os.listdir(tmp_path)) == ["run"]
