"""Shared test helpers."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import settings

import fcnet

# A suite started in the background of a non-interactive shell (`cmd &`) inherits SIGINT ignored, and so
# would every `fcnet` child process: Python then installs no KeyboardInterrupt handler and the Ctrl-C tests
# see a run that cannot be interrupted.  A handler here makes the disposition "caught", which exec resets
# to the default in each child, as under a terminal.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

ROOT = Path(__file__).resolve().parents[1]

# CI runs the property tests on a fixed sequence of examples: a red CI always means a real bug
settings.register_profile("ci", derandomize=True, deadline=None)
# `pytest --hypothesis-profile=deep`: many more examples of every property and invariant (minutes to hours)
settings.register_profile("deep", max_examples=500, deadline=None)
# outside CI: fresh random examples, but no per-example deadline either (a loaded 2-core machine would turn
# every invariant that trains a net into a DeadlineExceeded, which says nothing about fcnet)
settings.register_profile("local", deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "local")
os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


def fcnet_cmd() -> list[str]:
    """The command that runs fcnet's CLI with this interpreter."""
    return [sys.executable, "-m", "fcnet"]


CUDA = "cuda" in fcnet.backend.available_devices()
# every backend the suites run on: the CuPy one only where CuPy and a GPU are present
DEVICES = [pytest.param("cpu", id="cpu"),
           pytest.param("cuda", id="cuda", marks=pytest.mark.skipif(not CUDA, reason="no GPU with CuPy here"))]
