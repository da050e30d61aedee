"""A hostile user: a closed pipe, integers of 400 digits, toy data sets of any size."""

from __future__ import annotations

import os
import signal
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fcnet.data.toy import TOYS, make_toy
from tests.conftest import fcnet_cmd
from tests.invariants.harness import fcnet

ENV = {**os.environ, "FCNET_OFFLINE": "1"}
BIG = str(10**400)


@pytest.fixture
def no_endless_run():
    """A command accepting 10**400 epochs would train for ever: end it as an error after 30 s."""
    def stop(signum, frame):
        raise TimeoutError("still running after 30 s")

    old = signal.signal(signal.SIGALRM, stop)
    signal.alarm(30)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, old)


@pytest.mark.parametrize("args,want", [(["datasets"], 141), (["graph", "square-sum"], 141),
                                       (["--help"], 0)],  # argparse's help ignores a failed write itself
                         ids=["datasets", "graph-dot", "help"])
def test_a_closed_pipe_on_stdout_ends_quietly(args, want):
    # `fcnet datasets | head -0`: the reader is gone before fcnet writes
    r, w = os.pipe()
    os.close(r)
    try:
        proc = subprocess.run([*fcnet_cmd(), *args], stdout=w, stderr=subprocess.PIPE, text=True, env=ENV,
                              timeout=120)
    finally:
        os.close(w)
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr and "Broken" not in proc.stderr, \
        proc.stderr
    assert proc.stderr == "" and proc.returncode == want  # 141 = 128 + SIGPIPE, as a shell reports other tools


def test_a_closed_pipe_after_the_first_line_ends_quietly():
    # `fcnet datasets | head -1`: the first line is read, then the reader goes away
    proc = subprocess.Popen(f"{' '.join(fcnet_cmd())} datasets | head -1", shell=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=ENV)
    out, err = proc.communicate(timeout=120)
    assert len(out.splitlines()) == 1 and err == "", err


@pytest.mark.parametrize("args", [
    ["train", "--data", "digits", "--epochs", BIG, "--out", "run"],
    ["train", "--data", "digits", "--epochs", "1e400", "--out", "run"],
    ["train", "--data", "digits", "--seed", BIG, "--out", "run"],
    ["train", "--data", "digits", "--batch-size", BIG, "--out", "run"],
    ["train", "--data", "digits", "--hidden", f"8,{BIG}", "--out", "run"],
    ["graph", "--expr", f"x * {BIG}", "--var", "x=1"],
    ["graph", "--expr", "2 ** 10000 * x", "--var", "x=1"],
], ids=["epochs-int", "epochs-float", "seed", "batch-size", "hidden", "graph-constant", "graph-folded"])
def test_an_integer_of_400_digits_is_a_short_one_line_error(tmp_path, args, no_endless_run):
    code, log = fcnet(args, tmp_path)
    lines = log.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "internal error" not in log, log
    assert len(lines[0]) < 300, lines[0]  # the value is shown cut, not as 401 digits
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize("value", [BIG, "1e400", "1" + "0" * 5000], ids=["int", "float", "5001-digits"])
def test_a_toml_integer_of_400_digits_is_a_one_line_error(tmp_path, value, no_endless_run):
    (tmp_path / "c.toml").write_text(f'data = "digits"\nepochs = {value}\n')
    code, log = fcnet(["train", "--config", "c.toml", "--out", "run"], tmp_path)
    lines = log.strip().splitlines()
    assert code == 2 and len(lines) == 1 and "internal error" not in log and len(lines[0]) < 400, log
    assert "c.toml" in lines[0]
    assert not (tmp_path / "run").exists()


def test_a_large_seed_within_its_range_is_still_accepted(tmp_path):
    code, log = fcnet(["train", "--data", "digits", "--subset", "60", "--hidden", "4", "--epochs", "1", "--seed",
                       str(2**32 - 1), "--quiet", "--monitor", "false", "--out", "run"], tmp_path)
    assert code == 0, log


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 400), kind=st.sampled_from(TOYS), seed=st.integers(0, 2**16))
def test_make_toy_returns_exactly_n_samples(n, kind, seed):
    x, y = make_toy(kind, n, seed)
    assert x.shape == (n, 2) and y.shape == (n,)
    assert np.all(np.isfinite(x))


@pytest.mark.parametrize("kind", TOYS)
@pytest.mark.parametrize("n", [0, -3, 2.5, True])
def test_make_toy_refuses_a_count_that_is_not_a_positive_integer(kind, n):
    with pytest.raises(ValueError, match="n must be an integer"):
        make_toy(kind, n)


@pytest.mark.parametrize("option", ["--trials", "--workers", "--coarse-epochs"])
def test_a_search_count_of_400_digits_is_a_one_line_error(tmp_path, option, no_endless_run):
    # --trials 10**400 used to plan an endless search
    code, log = fcnet(["search", option, BIG, "--space", "lr=loguniform:0.01:0.1", "--data", "digits", "--subset", "60",
                       "--epochs", "1", "--hidden", "4", "--out", "s"], tmp_path)
    lines = log.strip().splitlines()
    assert code == 2 and len(lines) == 1 and f"{option} must be at most" in lines[0] and len(lines[0]) < 300, log
    assert not (tmp_path / "s").exists()


def test_resume_with_fewer_epochs_than_trained_is_a_one_line_error_and_leaves_the_run(tmp_path):
    common = ["--data", "digits", "--subset", "60", "--hidden", "4", "--quiet", "--monitor", "false"]
    code, log = fcnet(["train", *common, "--epochs", "3", "--out", "run"], tmp_path)
    assert code == 0, log
    before = {p: p.read_bytes() for p in sorted((tmp_path / "run").rglob("*")) if p.is_file()}
    code, log = fcnet(["train", "--resume", "run", "--epochs", "2", "--quiet"], tmp_path)
    errors = [ln for ln in log.strip().splitlines() if "error" in ln]
    assert code == 2 and len(errors) == 1 and "--epochs 2 is fewer than the 3 epochs" in errors[0], log
    assert errors[0].startswith("fcnet: error:") and "Traceback" not in log
    assert {p: p.read_bytes() for p in sorted((tmp_path / "run").rglob("*")) if p.is_file()} == before


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    d = tmp_path_factory.mktemp("tiny")
    code, log = fcnet(["train", "--data", "digits", "--subset", "60", "--hidden", "4", "--epochs", "1", "--quiet",
                       "--monitor", "false", "--out", "run"], d)
    assert code == 0, log
    return d / "run"


@pytest.mark.parametrize("content,want", [("", "is empty"), ("a,b,c\n", "is empty"), (None, "is a directory")],
                         ids=["empty-csv", "header-only-csv", "directory"])
def test_predict_names_an_empty_csv_or_a_directory_plainly(tiny_run, tmp_path, content, want):
    target = tmp_path / "x.csv"
    if content is None:
        target.mkdir()
    else:
        target.write_text(content)
    code, log = fcnet(["predict", tiny_run, target], tmp_path)
    lines = log.strip().splitlines()
    assert code == 2 and len(lines) == 1 and want in lines[0] and "reshape" not in lines[0], log


def test_batchnorm_with_batches_of_one_sample_is_a_one_line_error(tmp_path):
    r = subprocess.run([*fcnet_cmd(), "train", "--data", "digits", "--subset", "60", "--hidden", "4", "--batchnorm",
                        "--batch-size", "1", "--epochs", "1", "--quiet", "--out", str(tmp_path / "run")],
                       capture_output=True, text=True, env={**os.environ, "FCNET_OFFLINE": "1"}, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "--batch-size" in r.stderr and "--batchnorm" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()
